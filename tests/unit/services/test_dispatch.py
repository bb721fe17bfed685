"""Dispatcher decisions, against Protocol-checked fakes of the ledger and the OPCO gateway."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.domain.status import status_event_id
from relais.errors import (
    AmbiguousOpcoError,
    AuthError,
    LedgerError,
    MissingCredentialsError,
    NotSupportedError,
    PermanentOpcoError,
    RetryableOpcoError,
)
from relais.services.command_payload import load, parse
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.ledger_port import CommandState, NewCommand
from relais.services.retry import RetryPolicy
from tests.ledger_entries import accept
from tests.unit.services.fakes import FakeGateway, FakeLedger, ManualClock
from tests.unit.services.samples import (
    CFA,
    certificat_cmd,
    convention_cmd,
    dossier_cmd,
    facture_cmd,
    rupture_cmd,
)

AKTO = OpcoCode.AKTO


class CountingMetrics:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, str]] = []

    def command(self, opco: str, kind: str, outcome: str) -> None:
        self.outcomes.append((opco, kind, outcome))


class World:
    def __init__(self, *, policy: RetryPolicy | None = None, every: int = 4, **opts: Any) -> None:
        self.clock = ManualClock()
        self.ledger = FakeLedger(self.clock)
        self.gateway = FakeGateway()
        self.metrics = CountingMetrics()
        self.options = DispatchOptions(
            retry=policy or RetryPolicy(rand=lambda: 1.0),
            retrying_status_every=every,
            **opts,
        )
        self.dispatcher = self.make_dispatcher("w1")

    def make_dispatcher(self, worker: str) -> Dispatcher:
        return Dispatcher(
            self.ledger,
            self.gateway,
            self.options,
            clock=self.clock,
            worker_id=worker,
            metrics=self.metrics,
        )

    async def accept(self, *commands: NewCommand) -> None:
        for command in commands:
            assert await accept(self.ledger, command, [])

    async def run_until_quiet(self, *, max_rounds: int = 50, step: timedelta = timedelta(0)) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await self.dispatcher.run_once()
            total += n
            if n == 0:
                self.clock.advance(step)
                if step == timedelta(0) or not await self._open():
                    return total
        raise AssertionError("did not settle")

    async def _open(self) -> bool:
        return any(
            r.command.state in (CommandState.PENDING, CommandState.IN_FLIGHT)
            for r in self.ledger.rows
        )

    def status_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(m.value) for m in self.ledger.statuses()]

    def state(self, event_id: str) -> CommandState:
        return next(r.command.state for r in self.ledger.rows if r.command.event_id == event_id)

    def command(self, event_id: str) -> Any:
        return next(r.command for r in self.ledger.rows if r.command.event_id == event_id)


async def test_dossier_is_submitted_and_its_ids_recorded() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    assert await w.dispatcher.run_once() == 1
    assert w.state("e1") is CommandState.DONE
    record = await w.ledger.dossier(CFA, "D1")
    assert record is not None and record.numero_interne == "NI000001"
    assert record.etat == "TRANSMIS"
    [message] = w.ledger.statuses()
    assert message.event_id == status_event_id("e1", "submitted", cfa=CFA)
    assert message.key == "D1"
    body = json.loads(message.value)
    assert body["status"] == "submitted"
    assert body["numeroInterne"] == "NI000001"
    assert body["numeroExterne"] == "NE000001"
    assert body["attempts"] == 1
    assert w.metrics.outcomes == [("AKTO", "dossier", "submitted")]


async def test_status_events_carry_no_personal_data() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"), dossier_cmd("e2", "D2", n=2))
    w.gateway.fail_next(
        "submit_dossier",
        PermanentOpcoError("AKTO POST /v2/dossiers answered 422", status=422, messages=["bad"]),
    )
    await w.dispatcher.run_once()
    raw = b"".join(m.value for m in w.ledger.statuses())
    for secret in (b"NOM1", b"Prenom1", b"106037512345678", b"2006-03-14"):
        assert secret not in raw


async def test_followups_get_the_dossier_numero_interne_in_publication_order() -> None:
    w = World()
    await w.accept(
        dossier_cmd("e1", "D1"),
        convention_cmd("e2", "D1"),
        certificat_cmd("e3", "D1"),
        rupture_cmd("e4", "D1"),
    )
    # Only the head of the dossier's queue is handed out: one command per round.
    assert [await w.dispatcher.run_once() for _ in range(5)] == [1, 1, 1, 1, 0]
    routes = [route for route, *_ in w.gateway.calls]
    assert routes == ["submit_dossier", "submit_convention", "submit_certificat", "declare_rupture"]
    [convention] = w.gateway.calls_to("submit_convention")
    assert convention["numeroInterneDossier"] == "NI000001"
    assert convention["couts"] == {"coutTotalPedagogieCFA": 7000}
    [certificat] = w.gateway.calls_to("submit_certificat")
    assert certificat["numeroInterneDossier"] == "NI000001"
    [rupture] = w.gateway.calls_to("declare_rupture")
    assert rupture == {
        "numeroInterne": "NI000001",
        "dateRupture": "2027-01-15T00:00:00+00:00",  # the wire form (domain/wire.py)
        "motif": "commun accord",
    }
    assert all(w.state(e) is CommandState.DONE for e in ("e1", "e2", "e3", "e4"))


async def test_an_explicit_numero_interne_is_used_as_given() -> None:
    w = World()
    command = convention_cmd("e1", "D9")
    stored = command.payload.to_json()
    payload = parse({**stored, "data": {**stored["data"], "numeroInterneDossier": "GIVEN-1"}})
    await w.accept(NewCommand(**{**command.__dict__, "payload": payload}))
    await w.dispatcher.run_once()
    [body] = w.gateway.calls_to("submit_convention")
    assert body["numeroInterneDossier"] == "GIVEN-1"
    assert w.state("e1") is CommandState.DONE


async def test_a_followup_of_an_unknown_dossier_fails_clearly() -> None:
    w = World()
    await w.accept(convention_cmd("e1", "NOPE"))
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.FAILED
    assert w.gateway.calls == []
    [body] = w.status_bodies()
    assert body["status"] == "failed"
    assert body["reason"] == "dossier_not_at_opco"
    assert body["errors"][0]["code"] == "DOSSIER_NOT_AT_OPCO"
    assert body["attempts"] == 0


async def test_a_followup_after_a_failed_dossier_fails_clearly() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"), convention_cmd("e2", "D1"))
    w.gateway.fail_next("submit_dossier", PermanentOpcoError("422", status=422))
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.FAILED
    assert w.state("e2") is CommandState.FAILED
    assert w.gateway.calls_to("submit_convention") == []


async def test_a_facture_waits_for_every_dossier_it_covers() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"), dossier_cmd("e2", "D2", n=2))
    w.gateway.fail_next("submit_dossier", RetryableOpcoError("503", status=503))  # D1 fails once
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.PENDING
    assert w.state("e2") is CommandState.DONE

    await w.accept(facture_cmd("f1", ["D2", "D1"]))
    await w.dispatcher.run_once()  # the facture is deferred (D1 is still open); D1 retries now
    facture = w.command("f1")
    assert facture.state is CommandState.PENDING
    assert facture.attempts == 0, "waiting for a dossier is not an attempt"
    assert facture.next_attempt_at == w.clock.now() + w.options.defer
    assert ("AKTO", "facture", "deferred") in w.metrics.outcomes

    w.clock.advance(w.options.defer)
    await w.run_until_quiet(step=w.options.defer)
    assert w.state("f1") is CommandState.DONE
    [body] = w.gateway.calls_to("submit_facture")
    d1 = await w.ledger.dossier(CFA, "D1")
    d2 = await w.ledger.dossier(CFA, "D2")
    assert d1 is not None and d2 is not None
    # convergence-api.md 0: each line names its dossier by the OPCO's numeroExterne
    assert [line["numeroDossier"] for line in body["lignes"]] == [
        d2.numero_externe,
        d1.numero_externe,
    ]
    assert body["ibanEmetteur"].startswith("FR76")
    record = await w.ledger.facture(CFA, "FAC-2026-001")
    assert record is not None and record.numero_interne_facture is not None
    submitted = [b for b in w.status_bodies() if b["eventId"] == "f1"]
    assert submitted[-1]["referenceFactureCFA"] == "FAC-2026-001"
    assert "iban" not in json.dumps(submitted).lower()


async def test_a_facture_covering_a_dossier_never_sent_fails() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    await w.accept(facture_cmd("f1", ["D1", "GHOST"]))
    await w.dispatcher.run_once()
    assert w.state("f1") is CommandState.FAILED
    assert w.status_bodies()[-1]["errors"][0]["path"] == "data.facture.lignes.dossierId"


async def test_a_followup_waiting_too_long_fails() -> None:
    w = World(policy=RetryPolicy(rand=lambda: 1.0, timeout=timedelta(hours=1)))
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    await w.accept(dossier_cmd("e2", "D2", n=2))
    # Another worker holds D2 (a very slow call): the facture waits for it.
    assert len(await w.ledger.claim("other", 10, w.clock.now(), timedelta(hours=3))) == 1
    await w.accept(facture_cmd("f1", ["D1", "D2"]))
    await w.dispatcher.run_once()
    assert w.state("f1") is CommandState.PENDING
    w.clock.advance(timedelta(minutes=61))
    await w.dispatcher.run_once()
    assert w.state("f1") is CommandState.FAILED
    assert w.status_bodies()[-1]["reason"] == "dossier_not_at_opco"
    assert w.gateway.calls_to("submit_facture") == []


async def test_not_supported_fails_at_once() -> None:
    w = World()
    w.gateway.unsupported.add((AKTO, "certificats"))
    await w.accept(dossier_cmd("e1", "D1"), certificat_cmd("e2", "D1"))
    await w.run_until_quiet()
    assert w.state("e2") is CommandState.FAILED
    assert w.ledger.reschedules == []
    body = w.status_bodies()[-1]
    assert body["reason"] == "not_supported"
    assert body["attempts"] == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (AuthError("403", status=403, messages=["clé API CFA expirée"]), "auth"),
        (
            PermanentOpcoError("422", status=422, messages=["contrat.dateDebutContrat"]),
            "rejected_by_opco",
        ),
        (MissingCredentialsError(CFA, "AKTO"), "missing_credentials"),
    ],
)
async def test_permanent_errors_fail_with_the_opco_messages(error: Exception, reason: str) -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", error)
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.FAILED
    [body] = w.status_bodies()
    assert body["reason"] == reason
    messages = getattr(error, "messages", ())
    assert body.get("opcoMessages", []) == list(messages)
    assert w.metrics.outcomes == [("AKTO", "dossier", "failed")]


async def test_missing_credentials_from_the_adapter_fail_as_configuration() -> None:
    w = World()
    w.gateway.credentials = set()
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.FAILED
    assert w.status_bodies()[0]["reason"] == "missing_credentials"


async def test_retryable_errors_reschedule_with_backoff_and_rate_limited_notes() -> None:
    w = World(policy=RetryPolicy(rand=lambda: 1.0, wait_initial=timedelta(seconds=2)), every=2)
    await w.accept(dossier_cmd("e1", "D1"))
    for _ in range(3):
        w.gateway.fail_next("submit_dossier", RetryableOpcoError("500", status=500))
    delays = []
    for _ in range(3):
        before = w.clock.now()
        assert await w.dispatcher.run_once() == 1
        cmd = w.command("e1")
        delays.append((cmd.next_attempt_at - before).total_seconds())
        assert await w.dispatcher.run_once() == 0, "not due before its next attempt"
        w.clock.current = cmd.next_attempt_at
    assert delays == [2.0, 4.0, 8.0]
    assert w.command("e1").attempts == 3
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.DONE
    bodies = w.status_bodies()
    assert [b["status"] for b in bodies] == ["retrying", "retrying", "submitted"]
    assert [b.get("attempts") for b in bodies] == [1, 2, 4]
    ids = [m.event_id for m in w.ledger.statuses()]
    assert ids[0] == status_event_id("e1", "retrying", 1, cfa=CFA)
    assert len(set(ids)) == 3


async def test_retry_after_wins_over_a_shorter_backoff() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", RetryableOpcoError("429", status=429, retry_after=30))
    await w.dispatcher.run_once()
    assert w.command("e1").next_attempt_at == w.clock.now() + timedelta(seconds=30)
    w.clock.advance(timedelta(seconds=29))
    assert await w.dispatcher.run_once() == 0
    w.clock.advance(timedelta(seconds=1))
    assert await w.dispatcher.run_once() == 1
    assert w.state("e1") is CommandState.DONE


async def test_the_attempt_cap_ends_in_failed() -> None:
    w = World(policy=RetryPolicy.instant(attempts=3))
    await w.accept(dossier_cmd("e1", "D1"))
    for _ in range(5):
        w.gateway.fail_next(
            "submit_dossier", RetryableOpcoError("503", status=503, messages=["busy"])
        )
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.FAILED
    assert len(w.gateway.calls_to("submit_dossier")) == 3
    body = w.status_bodies()[-1]
    assert body["status"] == "failed"
    assert body["reason"] == "retries_exhausted_attempts"
    assert body["opcoMessages"] == ["busy"]


async def test_a_retrying_dossier_never_blocks_the_others() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"), convention_cmd("e2", "D1"))
    await w.accept(*(dossier_cmd(f"x{i}", f"X{i}", n=10 + i) for i in range(5)))
    w.gateway.fail_next("submit_dossier", RetryableOpcoError("503", status=503, retry_after=600))
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.PENDING
    assert w.state("e2") is CommandState.PENDING
    assert all(w.state(f"x{i}") is CommandState.DONE for i in range(5))


async def test_ambiguous_dossier_is_looked_up_not_resent() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    # The OPCO stored the dossier, then the response was lost.
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=True)
    await w.dispatcher.run_once()
    assert w.command("e1").ambiguous is True
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.DONE
    assert w.gateway.created["submit_dossier"] == 1
    assert len(w.gateway.calls_to("submit_dossier")) == 1
    assert len(w.gateway.calls_to("find_dossier")) == 1
    record = await w.ledger.dossier(CFA, "D1")
    assert record is not None and record.numero_interne == "NI000001"


async def test_ambiguous_dossier_not_stored_is_resent_once() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=False)
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.DONE
    assert len(w.gateway.calls_to("find_dossier")) == 1
    assert len(w.gateway.calls_to("submit_dossier")) == 2
    assert w.gateway.created["submit_dossier"] == 1


async def test_a_failed_lookup_keeps_the_doubt() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=True)
    w.gateway.fail_next("find_dossier", RetryableOpcoError("503", status=503))
    await w.dispatcher.run_once()
    await w.dispatcher.run_once()
    cmd = w.command("e1")
    assert cmd.state is CommandState.PENDING and cmd.ambiguous is True
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.DONE
    assert len(w.gateway.calls_to("submit_dossier")) == 1


async def test_a_resolved_doubt_is_cleared_when_the_resend_fails_plainly() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=False)
    w.gateway.fail_next("submit_dossier", RetryableOpcoError("503", status=503))
    await w.dispatcher.run_once()
    await w.dispatcher.run_once()  # lookup: not there; resend: 503 (not applied)
    assert w.command("e1").ambiguous is False


async def test_ambiguous_facture_is_looked_up_by_its_reference() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    await w.accept(facture_cmd("f1", ["D1"]))
    w.gateway.fail_next("submit_facture", AmbiguousOpcoError("timeout"), applied=True)
    await w.run_until_quiet()
    assert w.state("f1") is CommandState.DONE
    assert w.gateway.created["submit_facture"] == 1
    assert len(w.gateway.calls_to("submit_facture")) == 1
    assert w.gateway.calls_to("find_facture") == [{"referenceFactureCFA": "FAC-2026-001"}]
    record = await w.ledger.facture(CFA, "FAC-2026-001")
    assert record is not None and record.numero_interne_facture is not None


async def test_ambiguous_convention_is_resent_and_the_duplicate_means_done() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"), convention_cmd("e2", "D1"))
    w.gateway.fail_next("submit_convention", AmbiguousOpcoError("timeout"), applied=True)
    await w.run_until_quiet()
    assert w.state("e2") is CommandState.DONE
    assert len(w.gateway.calls_to("submit_convention")) == 2
    assert w.gateway.created["submit_convention"] == 1


async def test_lookup_not_supported_falls_back_to_the_duplicate_answer() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=True)
    w.gateway.fail_next("find_dossier", NotSupportedError("501", status=501))
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.DONE
    assert w.gateway.created["submit_dossier"] == 1
    assert len(w.gateway.calls_to("submit_dossier")) == 2


async def test_crash_between_the_call_and_the_commit_is_resolved_by_a_lookup() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    # A worker claims, calls the OPCO, and dies before writing the outcome.
    [claimed] = await w.ledger.claim("dead", 10, w.clock.now(), w.options.lease)
    await w.gateway.submit_dossier(CFA, AKTO, claimed.payload.to_json()["data"]["cerfa"])
    assert await w.dispatcher.run_once() == 0, "the dead worker's lease still holds"
    w.clock.advance(w.options.lease + timedelta(seconds=1))
    assert await w.dispatcher.run_once() == 1
    assert w.state("e1") is CommandState.DONE
    assert w.gateway.created["submit_dossier"] == 1
    assert len(w.gateway.calls_to("find_dossier")) == 1


async def test_a_lost_lease_writes_nothing() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    slow = w.make_dispatcher("slow")
    [claimed] = await w.ledger.claim("slow", 10, w.clock.now(), w.options.lease)
    w.clock.advance(w.options.lease * 2)
    assert await w.dispatcher.run_once() == 1  # w1 takes over and completes
    statuses_before = len(w.ledger.statuses())
    assert await slow.handle(claimed) == "lease_lost"
    assert len(w.ledger.statuses()) == statuses_before
    assert ("AKTO", "dossier", "lease_lost") not in w.metrics.outcomes


async def test_an_unusable_payload_fails_without_calling_the_opco() -> None:
    w = World()
    await w.accept(
        NewCommand(
            event_id="e1",
            cfa=CFA,
            dossier_id="D1",
            opco="AKTO",
            kind=dossier_cmd("x", "x").kind,
            payload=load({"nope": 1}),  # a stored row no model reads
        )
    )
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.FAILED
    assert w.status_bodies()[0]["reason"] == "invalid_payload"
    assert w.gateway.calls == []


async def test_a_followup_of_a_dossier_at_another_opco_fails() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1", opco="AKTO"))
    await w.dispatcher.run_once()
    await w.accept(convention_cmd("e2", "D1", opco="ATLAS"))
    await w.dispatcher.run_once()
    assert w.state("e2") is CommandState.FAILED
    assert w.status_bodies()[-1]["errors"][0]["code"] == "DOSSIER_AT_OTHER_OPCO"


# ---------------------------------------------------------------------------- the run loop


async def test_run_keeps_per_dossier_order_under_concurrency_and_respects_the_limit() -> None:
    w = World(
        inflight_limit=8, idle_min=timedelta(milliseconds=1), idle_max=timedelta(milliseconds=5)
    )
    w.gateway.latency = 0.002
    dossiers = [f"D{i}" for i in range(30)]
    for i, d in enumerate(dossiers):
        await w.accept(
            dossier_cmd(f"{d}-1", d, n=i),
            convention_cmd(f"{d}-2", d),
            certificat_cmd(f"{d}-3", d),
        )
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if all(r.command.state is CommandState.DONE for r in w.ledger.rows):
            break
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert all(r.command.state is CommandState.DONE for r in w.ledger.rows)
    assert 1 < w.gateway.max_active <= 8
    numero_to_dossier = {r.numero_interne: r.dossier_id for r in w.ledger.dossiers.values()}
    by_dossier: dict[str, list[str]] = {}
    for route, _cfa, _opco, body in w.gateway.calls:
        if route == "submit_dossier":
            key = "D" + body["apprenti"]["nom"].removeprefix("NOM")
        else:
            key = numero_to_dossier[body["numeroInterneDossier"]]
        by_dossier.setdefault(key, []).append(route)
    for d in dossiers:
        assert by_dossier[d] == ["submit_dossier", "submit_convention", "submit_certificat"]


async def test_run_wakes_on_notify_and_stops() -> None:
    w = World(idle_min=timedelta(seconds=30), idle_max=timedelta(seconds=30))
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))
    await asyncio.sleep(0.01)  # the loop found nothing and sleeps for 30 s...
    await w.accept(dossier_cmd("e1", "D1"))
    w.dispatcher.notify()  # ...unless ingest says there is new work
    for _ in range(100):
        await asyncio.sleep(0.005)
        if w.state("e1") is CommandState.DONE:
            break
    assert w.state("e1") is CommandState.DONE
    stop.set()
    await asyncio.wait_for(runner, 2)


async def test_drain_on_stop_lets_running_calls_finish() -> None:
    w = World()
    gateway = GatedGateway(OpcoCode.ATLAS)  # the call waits until the test opens the gate
    w.gateway = gateway
    w.dispatcher = w.make_dispatcher("w1")
    await w.accept(dossier_cmd("e1", "D1", opco="ATLAS"))
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))
    assert await _run_until(w, lambda: gateway.waiting == 1)
    assert w.dispatcher.in_flight == 1
    stop.set()
    await asyncio.sleep(0.05)
    assert not runner.done()  # stopping, but the call under way is waited for
    gateway.gate.set()
    await asyncio.wait_for(runner, 2)
    assert w.state("e1") is CommandState.DONE


def test_options_refuse_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        DispatchOptions(inflight_limit=0)


async def test_the_ingest_payload_envelope_is_understood() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    inner = convention_cmd("e2", "D1")
    payload = {
        "type": "fr.cfa.convention.submitted.v1",
        "time": "2026-11-27T08:00:00+00:00",
        "data": inner.payload.to_json()["data"],
        "numeroInterneDossier": "FROM-INGEST",
    }
    await w.accept(NewCommand(**{**inner.__dict__, "payload": parse(payload)}))
    await w.dispatcher.run_once()
    [body] = w.gateway.calls_to("submit_convention")
    assert body["numeroInterneDossier"] == "FROM-INGEST"
    assert w.state("e2") is CommandState.DONE


async def test_a_cancelled_call_hands_the_command_back_as_ambiguous() -> None:
    w = World()
    w.gateway.latency = 5.0
    await w.accept(dossier_cmd("e1", "D1"))
    [claimed] = await w.ledger.claim("w1", 10, w.clock.now(), w.options.lease)
    task = asyncio.create_task(w.dispatcher.handle(claimed))
    await asyncio.sleep(0.01)
    assert w.gateway.active == 1, "the request is on its way"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cmd = w.command("e1")
    assert cmd.state is CommandState.PENDING
    assert cmd.ambiguous is True
    assert cmd.attempts == 0
    assert await w.ledger.release("w1") == 0, "nothing left for a plain release"


async def test_a_command_whose_worker_keeps_dying_ends_at_the_age_cap() -> None:
    w = World(policy=RetryPolicy.instant(timeout=timedelta(hours=24)))
    await w.accept(dossier_cmd("e1", "D1"))
    await w.ledger.claim("crashed", 10, w.clock.now(), w.options.lease)
    w.clock.advance(timedelta(hours=25))
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.FAILED
    assert w.status_bodies()[-1]["reason"] == "retries_exhausted_timeout"
    assert w.gateway.calls_to("submit_dossier") == []
    assert len(w.gateway.calls_to("find_dossier")) == 1, "still looked up first"


async def test_a_ledger_failure_leaves_the_command_to_its_lease() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"), dossier_cmd("e2", "D2", n=2))

    original = w.ledger.complete

    async def broken_once(command_id: int, worker: str, completion: Any) -> bool:
        if command_id == 1:
            raise LedgerError("ledger complete failed: OperationalError: database is locked")
        return await original(command_id, worker, completion)

    w.ledger.complete = broken_once  # type: ignore[method-assign]
    assert await w.dispatcher.run_once() == 2
    assert w.state("e1") is CommandState.IN_FLIGHT, "left to its lease"
    assert w.state("e2") is CommandState.DONE, "the other dossier is not affected"
    w.ledger.complete = original  # type: ignore[method-assign]
    w.clock.advance(w.options.lease + timedelta(seconds=1))
    assert await w.dispatcher.run_once() == 1
    assert w.state("e1") is CommandState.DONE
    assert w.gateway.created["submit_dossier"] == 2, "found by the lookup, not created again"


async def test_a_cancel_while_writing_the_outcome_keeps_the_doubt() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    writing = asyncio.Event()

    async def stuck_complete(command_id: int, worker: str, completion: Any) -> bool:
        writing.set()
        await asyncio.Event().wait()  # the database never answers
        return True

    original = w.ledger.complete
    w.ledger.complete = stuck_complete  # type: ignore[method-assign]
    [claimed] = await w.ledger.claim("w1", 10, w.clock.now(), w.options.lease)
    task = asyncio.create_task(w.dispatcher.handle(claimed))
    await writing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    w.ledger.complete = original  # type: ignore[method-assign]
    cmd = w.command("e1")
    assert cmd.state is CommandState.PENDING and cmd.ambiguous is True
    await w.dispatcher.run_once()
    assert w.state("e1") is CommandState.DONE
    assert w.gateway.created["submit_dossier"] == 1
    assert len(w.gateway.calls_to("submit_dossier")) == 1


async def test_a_long_wait_for_a_dossier_is_rechecked_less_often() -> None:
    w = World()
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    await w.accept(dossier_cmd("e2", "D2", n=2))
    await w.ledger.claim("other", 10, w.clock.now(), timedelta(days=1))  # D2 is slow
    await w.accept(facture_cmd("f1", ["D1", "D2"]))
    gaps = []
    for advance in (timedelta(0), timedelta(minutes=10), timedelta(hours=2)):
        w.clock.advance(advance)
        await w.dispatcher.run_once()
        gaps.append(w.command("f1").next_attempt_at - w.clock.now())
    assert gaps == [timedelta(seconds=5), timedelta(minutes=1), timedelta(minutes=5)]


async def test_an_ambiguous_avenant_is_not_mistaken_for_its_contract() -> None:
    w = World(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"))
    await w.dispatcher.run_once()
    avenant = dossier_cmd("e2", "D1")
    stored = avenant.payload.to_json()
    data = stored["data"]
    cerfa = {**data["cerfa"], "contrat": {**data["cerfa"]["contrat"], "typeContratApp": 31}}
    payload = parse({**stored, "data": {**data, "cerfa": cerfa}})
    await w.accept(NewCommand(**{**avenant.__dict__, "payload": payload}))
    w.gateway.fail_next("submit_dossier", AmbiguousOpcoError("timeout"), applied=False)
    await w.run_until_quiet()
    assert w.state("e2") is CommandState.DONE
    assert w.gateway.calls_to("find_dossier") == [], "a search would find the contract itself"
    assert w.gateway.created["submit_dossier"] == 2, "the avenant was created by the resend"


# ---------------------------------------------------------------------------- per-OPCO share


class GatedGateway(FakeGateway):
    """A FakeGateway whose dossier submissions to some OPCO wait until their gate opens."""

    def __init__(self, gated: OpcoCode) -> None:
        super().__init__()
        self.gated = gated
        self.gate = asyncio.Event()
        self.waiting = 0
        self.max_waiting = 0

    async def submit_dossier(self, cfa: str, opco: OpcoCode, cerfa: Any) -> Any:
        if opco is self.gated:
            self.waiting += 1
            self.max_waiting = max(self.max_waiting, self.waiting)
            try:
                await self.gate.wait()
            finally:
                self.waiting -= 1
        return await super().submit_dossier(cfa, opco, cerfa)


async def _slow_atlas_world(**opts: Any) -> tuple[World, GatedGateway]:
    w = World(idle_min=timedelta(milliseconds=1), idle_max=timedelta(milliseconds=5), **opts)
    gateway = GatedGateway(OpcoCode.ATLAS)
    w.gateway = gateway
    w.dispatcher = w.make_dispatcher("w1")
    # the slow OPCO's commands are the oldest: a plain FIFO claim hands them out first
    await w.accept(*(dossier_cmd(f"a{i}", f"A{i}", n=i, opco="ATLAS") for i in range(6)))
    await w.accept(*(dossier_cmd(f"k{i}", f"K{i}", n=10 + i) for i in range(6)))
    return w, gateway


async def _run_until(w: World, done: Any, *, rounds: int = 200) -> bool:
    for _ in range(rounds):
        await asyncio.sleep(0.005)
        if done():
            return True
    return False


def _akto_done(w: World) -> bool:
    return all(w.state(f"k{i}") is CommandState.DONE for i in range(6))


async def test_a_slow_opco_cannot_take_the_slots_of_the_others() -> None:
    w, gateway = await _slow_atlas_world(inflight_limit=4, per_opco_inflight=2)
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))

    # ATLAS does not answer: two slots wait on it, the other two serve AKTO
    assert await _run_until(w, lambda: _akto_done(w))
    assert w.dispatcher.in_flight_by_opco() == {"ATLAS": 2}
    assert gateway.waiting == 2
    assert sorted(r.command.state for r in w.ledger.rows if r.command.opco == "ATLAS") == sorted(
        [CommandState.IN_FLIGHT] * 2 + [CommandState.PENDING] * 4
    )
    assert frozenset({"ATLAS"}) in w.ledger.claims  # left out of the claims while full

    # ATLAS answers again: each command that ends frees its share for the next one
    gateway.gate.set()
    assert await _run_until(
        w, lambda: all(r.command.state is CommandState.DONE for r in w.ledger.rows)
    )
    assert gateway.max_waiting == 2
    # a handler releases its slot just after its ledger commit: wait for the last one to return
    assert await _run_until(w, lambda: w.dispatcher.in_flight_by_opco() == {})
    stop.set()
    await asyncio.wait_for(runner, 2)


async def test_an_opco_just_under_its_share_gets_no_more_than_its_room() -> None:
    w = World(
        inflight_limit=8,
        per_opco_inflight=3,
        idle_min=timedelta(milliseconds=1),
        idle_max=timedelta(milliseconds=5),
    )
    gateway = GatedGateway(OpcoCode.ATLAS)
    w.gateway = gateway
    w.dispatcher = w.make_dispatcher("w1")
    await w.accept(dossier_cmd("a0", "A0", n=0, opco="ATLAS"))
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))
    assert await _run_until(w, lambda: gateway.waiting == 1)

    # ATLAS has room for 2 more; a claim of 3 could hand out 3: it is asked for 2 at most
    await w.accept(*(dossier_cmd(f"a{i}", f"A{i}", n=i, opco="ATLAS") for i in range(1, 6)))
    await w.accept(dossier_cmd("k0", "K0", n=10))
    w.dispatcher.notify()
    assert await _run_until(w, lambda: w.state("k0") is CommandState.DONE)
    assert await _run_until(w, lambda: gateway.waiting == 3)
    await asyncio.sleep(0.02)
    assert gateway.max_waiting == 3
    assert w.dispatcher.in_flight_by_opco() == {"ATLAS": 3}

    gateway.gate.set()
    assert await _run_until(
        w, lambda: all(r.command.state is CommandState.DONE for r in w.ledger.rows)
    )
    assert gateway.max_waiting == 3
    stop.set()
    await asyncio.wait_for(runner, 2)


async def test_without_a_share_a_slow_opco_fills_every_slot() -> None:
    w, gateway = await _slow_atlas_world(inflight_limit=4, per_opco_inflight=0)
    stop = asyncio.Event()
    runner = asyncio.create_task(w.dispatcher.run(stop))

    assert not await _run_until(w, lambda: _akto_done(w), rounds=20)
    assert w.dispatcher.in_flight_by_opco() == {"ATLAS": 4}
    assert all(w.state(f"k{i}") is CommandState.PENDING for i in range(6))
    assert set(w.ledger.claims) == {frozenset()}

    gateway.gate.set()
    assert await _run_until(w, lambda: _akto_done(w))
    stop.set()
    await asyncio.wait_for(runner, 2)


@pytest.mark.parametrize(
    ("limit", "share", "cap"),
    [(256, -1, 64), (64, -1, 16), (5, -1, 2), (1, -1, 1), (8, 3, 3), (8, 0, None), (8, None, None)],
)
def test_the_per_opco_share(limit: int, share: int | None, cap: int | None) -> None:
    assert DispatchOptions(inflight_limit=limit, per_opco_inflight=share).opco_cap == cap


def test_options_refuse_a_negative_share() -> None:
    with pytest.raises(ValueError):
        DispatchOptions(per_opco_inflight=-2)
