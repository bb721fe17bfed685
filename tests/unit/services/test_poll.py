"""Poller decisions against the fakes: one event per real change, isolation, backoff."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from relais.domain.opco import OpcoCode
from relais.domain.status import etat_event_id
from relais.errors import AuthError, RetryableOpcoError
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.poll import Poller, PollOptions
from relais.services.retry import RetryPolicy
from tests.ledger_entries import accept
from tests.unit.services.fakes import FakeGateway, FakeLedger, ManualClock
from tests.unit.services.samples import CFA, OTHER_CFA, dossier_cmd, facture_cmd

AKTO = OpcoCode.AKTO
ATLAS = OpcoCode.ATLAS


class Seen:
    def __init__(self) -> None:
        self.successes: list[tuple[str, datetime]] = []

    def poll_succeeded(self, opco: str, at: datetime) -> None:
        self.successes.append((opco, at))


class World:
    def __init__(self, pairs: list[tuple[str, OpcoCode]] | None = None, **opts: Any) -> None:
        self.clock = ManualClock()
        self.ledger = FakeLedger(self.clock)
        self.gateway = FakeGateway()
        self.metrics = Seen()
        self.options = PollOptions(
            backoff=RetryPolicy(rand=lambda: 1.0, wait_initial=timedelta(seconds=30)), **opts
        )
        self.pairs = pairs or [(CFA, AKTO)]
        self.poller = self.new_poller()

    def new_poller(self) -> Poller:
        return Poller(
            self.ledger,
            self.gateway,
            self.options,
            clock=self.clock,
            pairs=self.pairs,
            metrics=self.metrics,
        )

    async def submit(self, event_id: str, dossier_id: str, n: int, opco: str = "AKTO") -> str:
        """A dossier sent through the dispatcher, as in production; its numeroInterne."""
        await accept(self.ledger, dossier_cmd(event_id, dossier_id, n, opco=opco), [])
        dispatcher = Dispatcher(
            self.ledger, self.gateway, DispatchOptions(), clock=self.clock, worker_id="d"
        )
        await dispatcher.run_once()
        record = await self.ledger.dossier(CFA, dossier_id)
        assert record is not None and record.numero_interne is not None
        return record.numero_interne

    def etat_events(self) -> list[dict[str, Any]]:
        out = []
        for message in self.ledger.statuses():
            body = json.loads(message.value)
            if body["status"] == "etat_changed":
                out.append({"id": message.event_id, "key": message.key, **body})
        return out


async def test_nothing_is_published_for_an_unchanged_state() -> None:
    w = World()
    await w.submit("e1", "D1", 1)
    report = await w.poller.poll_once()
    assert report.changes == 0
    assert report.polled == ((CFA, AKTO),)
    assert w.etat_events() == []
    assert w.gateway.calls_to("get_dossier") == [], "no details for an unchanged dossier"


async def test_one_event_per_change_with_details_and_a_stable_id() -> None:
    w = World()
    numero = await w.submit("e1", "D1", 1)
    w.gateway.set_etat(CFA, AKTO, numero, "EN_COURS_INSTRUCTION")
    assert (await w.poller.poll_once()).changes == 1
    assert (await w.poller.poll_once()).changes == 0
    echeances = [
        {
            "numero": 1,
            "montantTotal": 2800.0,
            "dateOuverture": "2026-09-01T00:00:00Z",
            "iban": "FR76X",
        },
        {"numero": 2, "montantTotal": 2100.0, "dateOuverture": "2027-03-01"},
    ]
    w.gateway.set_etat(CFA, AKTO, numero, "ENGAGE", engagement=7000.0, echeances=echeances)
    assert (await w.poller.poll_once()).changes == 1
    events = w.etat_events()
    assert [(e.get("previousEtat"), e["etat"]) for e in events] == [
        ("TRANSMIS", "EN_COURS_INSTRUCTION"),
        ("EN_COURS_INSTRUCTION", "ENGAGE"),
    ]
    assert all(e["key"] == "D1" and e["dossierId"] == "D1" for e in events)
    assert events[1]["id"] == etat_event_id(
        CFA, "AKTO", "dossier", numero, "EN_COURS_INSTRUCTION", "ENGAGE"
    )
    assert events[1]["engagement"] == 7000.0
    assert [e["numero"] for e in events[1]["echeances"]] == [1, 2]
    assert events[1]["echeances"][0]["dateOuverture"] == "2026-09-01"
    assert "iban" not in json.dumps(events).lower()
    assert len(w.gateway.calls_to("get_dossier")) == 2


async def test_no_new_event_for_an_old_change_after_a_restart() -> None:
    w = World()
    numero = await w.submit("e1", "D1", 1)
    w.gateway.set_etat(CFA, AKTO, numero, "EN_COURS_INSTRUCTION")
    await w.poller.poll_once()
    restarted = w.new_poller()  # a new process: empty memory, same ledger
    assert (await restarted.poll_once()).changes == 0
    assert len(w.etat_events()) == 1


async def test_dossiers_unknown_to_relais_are_reported_under_the_opco_numero() -> None:
    w = World()
    await w.submit("e1", "D1", 1)
    # A dossier the CFA entered on the OPCO's extranet.
    await w.gateway.submit_dossier(CFA, AKTO, {"employeur": {"siret": "1"}, "apprenti": {}})
    report = await w.poller.poll_once()
    assert report.changes == 1
    [event] = w.etat_events()
    assert event["key"].startswith("AKTO:")
    assert "dossierId" not in event
    assert (await w.new_poller().poll_once()).changes == 0


async def test_facture_changes_are_published_once() -> None:
    w = World()
    await w.submit("e1", "D1", 1)
    await accept(w.ledger, facture_cmd("f1", ["D1"]), [])
    await Dispatcher(w.ledger, w.gateway, clock=w.clock, worker_id="d").run_once()
    assert (await w.poller.poll_once()).changes == 0, "TRANSMIS is known from the submission"
    [facture] = w.gateway.factures[(CFA, AKTO)]
    w.gateway.set_facture_etat(CFA, AKTO, facture.numero_interne_facture, "REGLE")
    assert (await w.poller.poll_once()).changes == 1
    assert (await w.new_poller().poll_once()).changes == 0
    [event] = w.etat_events()
    assert event["kind"] == "facture"
    assert event["numeroInterneFacture"] == facture.numero_interne_facture
    assert event["referenceFactureCFA"] == "FAC-2026-001"
    assert event["etat"] == "REGLE"


async def test_one_failing_pair_does_not_stop_the_others_and_backs_off() -> None:
    w = World(pairs=[(CFA, AKTO), (CFA, ATLAS)])
    numero = await w.submit("e1", "D1", 1, opco="ATLAS")
    w.gateway.set_etat(CFA, ATLAS, numero, "ENGAGE")
    # AKTO's listing is down; ATLAS answers.
    w.gateway.fail_next(
        "dossier_etats", RetryableOpcoError("503", status=503, retry_after=120), opco=AKTO
    )
    report = await w.poller.poll_once()
    assert report.changes == 1
    assert list(report.failed) == [(CFA, AKTO)]
    assert report.polled == ((CFA, ATLAS),)
    failed_pair = (CFA, AKTO)
    state = w.poller.state[failed_pair]
    assert state.failures == 1
    assert state.next_due == w.clock.now() + timedelta(seconds=120)
    assert w.poller.state[(CFA, ATLAS)].next_due == w.clock.now() + w.options.interval
    # Only the failed pair is due after its backoff, not the healthy one.
    w.clock.advance(timedelta(seconds=121))
    report = await w.poller.poll_due()
    assert report.polled == (failed_pair,)
    assert w.poller.state[failed_pair].failures == 0
    assert len(w.etat_events()) == 1
    assert [opco for opco, _ in w.metrics.successes] == ["ATLAS", "AKTO"]


async def test_refused_keys_wait_a_full_interval() -> None:
    w = World()
    w.gateway.fail_next("dossier_etats", AuthError("403", status=403))
    report = await w.poller.poll_once()
    assert (CFA, AKTO) in report.failed
    assert w.poller.state[(CFA, AKTO)].next_due == w.clock.now() + w.options.interval


async def test_pairs_without_credentials_or_routes_are_skipped() -> None:
    w = World(pairs=[(CFA, AKTO), (OTHER_CFA, AKTO), (CFA, ATLAS)])
    w.gateway.credentials = {(CFA, AKTO), (CFA, ATLAS)}
    w.gateway.unsupported = {(ATLAS, "dossiers_etats"), (ATLAS, "factures_etats")}
    report = await w.poller.poll_once()
    assert report.polled == ((CFA, AKTO),)
    assert report.skipped == {
        (OTHER_CFA, AKTO): "no credentials",
        (CFA, ATLAS): "no etats route at this OPCO",
    }
    assert [c[2] for c in w.gateway.calls] == [AKTO, AKTO]


async def test_details_are_skipped_where_the_opco_has_no_detail_route() -> None:
    w = World()
    numero = await w.submit("e1", "D1", 1)
    w.gateway.unsupported = {(AKTO, "dossier_detail")}
    w.gateway.set_etat(CFA, AKTO, numero, "ENGAGE")
    assert (await w.poller.poll_once()).changes == 1
    [event] = w.etat_events()
    assert "engagement" not in event


class CountingClock:
    """The world's clock, counting how often the poller looked at it (its loop turns)."""

    def __init__(self, inner: ManualClock) -> None:
        self.inner = inner
        self.reads = 0

    def now(self) -> datetime:
        self.reads += 1
        return self.inner.now()


async def until(condition: Any, rounds: int = 2000) -> None:
    """Let the event loop run until ``condition()`` holds (no fixed nap guessed long enough)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not met")


def listings(w: World, opco: OpcoCode) -> int:
    return sum(1 for c in w.gateway.calls if c[0] == "dossier_etats" and c[2] == opco)


async def test_run_polls_on_schedule_and_stops() -> None:
    w = World(interval=timedelta(minutes=5), tick=timedelta(milliseconds=5))
    numero = await w.submit("e1", "D1", 1)
    clock = CountingClock(w.clock)
    w.poller.clock = clock
    stop = asyncio.Event()
    runner = asyncio.create_task(w.poller.run(stop))
    await until(lambda: listings(w, AKTO) == 1)
    looked = clock.reads
    await until(lambda: clock.reads >= looked + 10)  # several turns of the poller's loop...
    assert listings(w, AKTO) == 1, "the schedule holds the next poll for 5 minutes"
    w.gateway.set_etat(CFA, AKTO, numero, "ANNULE")
    w.clock.advance(timedelta(minutes=5))
    await until(lambda: [e["etat"] for e in w.etat_events()] == ["ANNULE"])
    stop.set()
    await asyncio.wait_for(runner, 2)
    assert listings(w, AKTO) == 2


async def test_a_hanging_opco_does_not_hold_back_the_other_pairs() -> None:
    w = World(pairs=[(CFA, AKTO), (CFA, ATLAS)], tick=timedelta(milliseconds=5))
    numero = await w.submit("e1", "D1", 1, opco="ATLAS")
    w.gateway.listing_latency[AKTO] = 30.0  # AKTO's listing never answers in this test
    stop = asyncio.Event()
    runner = asyncio.create_task(w.poller.run(stop))
    await until(lambda: listings(w, AKTO) == 1 and listings(w, ATLAS) == 1)
    w.gateway.set_etat(CFA, ATLAS, numero, "EN_COURS_INSTRUCTION")
    w.clock.advance(w.options.interval)
    await until(lambda: [e["etat"] for e in w.etat_events()] == ["EN_COURS_INSTRUCTION"])
    assert listings(w, ATLAS) == 2, "ATLAS kept its schedule while AKTO hung"
    assert listings(w, AKTO) == 1, "AKTO's listing still hangs"
    stop.set()
    await asyncio.wait_for(runner, 1)  # the hanging poll is cancelled at stop


async def test_an_etat_in_free_text_reaches_the_status_not_the_log() -> None:
    """An OPCO's etat is a code; one written as free text (naming the apprentice) is the CFA's to
    read in its status event, and is logged only as its length."""
    import io

    from relais.logging import configure_logging, reset_logging

    stream = io.StringIO()
    configure_logging(level="DEBUG", json_output=True, stream=stream, force=True)
    try:
        w = World()
        numero = await w.submit("e1", "D1", 1)
        w.gateway.set_etat(CFA, AKTO, numero, "EN_COURS_INSTRUCTION")
        await w.poller.poll_once()
        free_text = "REFUSE : APPRENTI LEA MARTIN NEE LE 14/03/2006"
        w.gateway.set_etat(CFA, AKTO, numero, free_text)
        assert (await w.poller.poll_once()).changes == 1
    finally:
        reset_logging()
    assert w.etat_events()[-1]["etat"] == free_text
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    changed = [line for line in lines if line["event"] == "poll.etat_changed"]
    assert [line["etat"] for line in changed] == [
        "EN_COURS_INSTRUCTION",
        f"<{len(free_text)} chars>",
    ]
    assert "MARTIN" not in stream.getvalue() and "14/03/2006" not in stream.getvalue()


async def test_a_paused_opco_is_not_polled_until_its_pause_ends() -> None:
    w = World(pairs=[(CFA, AKTO), (CFA, ATLAS)])
    numero = await w.submit("e1", "D1", 1)
    w.gateway.set_etat(CFA, AKTO, numero, "EN_COURS_INSTRUCTION")
    await w.ledger.pause_opco("AKTO", until=w.clock.now() + timedelta(hours=1), reason=None)
    calls_before = len(w.gateway.calls)

    report = await w.poller.poll_once()
    assert report.skipped == {(CFA, AKTO): "paused by the operators"}
    assert report.polled == ((CFA, ATLAS),)
    assert {opco for _, _, opco, _ in w.gateway.calls[calls_before:]} == {ATLAS}
    assert w.etat_events() == []

    w.clock.advance(timedelta(hours=1))  # the pause ends by itself
    assert (await w.poller.poll_once()).changes == 1
