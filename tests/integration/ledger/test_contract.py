"""The ``Ledger`` contract: what the promises of DESIGN.md need from it.

Every test runs on SQLite, on PostgreSQL and on the in-memory ``FakeLedger`` the unit tests use, so
the fake cannot drift from the real engines.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from relais.adapters.ledger import open_ledger
from relais.services.clock import SystemClock
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    CommandState,
    Completion,
    FactureRecord,
    Ledger,
    OutboxMessage,
    Reject,
)
from tests.fixtures.postgres import sqlite_url, truncate_ledger
from tests.integration.ledger.conftest import CFA, OTHER_CFA, command, now, status
from tests.ledger_entries import accept, reject
from tests.payloads import payload_of
from tests.unit.services.fakes import FakeLedger

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=30)


@pytest_asyncio.fixture(loop_scope="function", params=["sqlite", "postgres", "fake"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Ledger]:
    """An empty ledger of each kind in turn (overrides the two-engine ``ledger`` of conftest)."""
    opened: Ledger
    if request.param == "fake":
        opened = FakeLedger(clock=SystemClock())
    elif request.param == "sqlite":
        opened = open_ledger(sqlite_url(tmp_path))
        await opened.migrate()
    else:
        url = request.getfixturevalue("pg_ledger_url")
        truncate_ledger(url)
        opened = open_ledger(url)
    try:
        yield opened
    finally:
        await opened.close()


async def outbox_ids(ledger: Ledger) -> list[str]:
    return [record.message.event_id for record in await ledger.outbox_batch(10_000)]


# -- accept / reject: idempotent on the event id (promises 1, 2, 4) -------------------------------


async def test_accept_writes_the_command_and_its_statuses(ledger: Ledger) -> None:
    payload = {"cerfa": {"apprenti": {"nom": "Éloïse"}, "montants": [1, 2.5]}, "n": None}
    new = command("e1", payload=payload, kind=CommandKind.FACTURE, depends_on=("D7", "D8"))

    assert await accept(ledger, new, [status("s1"), status("s2")]) is True

    [stored] = await ledger.commands_for(CFA, "D1")
    assert (stored.event_id, stored.cfa, stored.dossier_id, stored.opco) == (
        "e1",
        CFA,
        "D1",
        "AKTO",
    )
    assert stored.kind is CommandKind.FACTURE
    assert stored.payload == new.payload
    assert stored.payload.to_json()["data"]["cerfa"] == {
        "cerfa": {"apprenti": {"nom": "Éloïse"}, "montants": [1, 2.5]},
        "n": None,
    }
    assert stored.depends_on == ("D7", "D8")
    assert stored.state is CommandState.PENDING
    assert (stored.attempts, stored.last_error, stored.ambiguous) == (0, None, False)
    assert stored.created_at.tzinfo is not None
    assert stored.next_attempt_at == stored.created_at
    assert await outbox_ids(ledger) == ["s1", "s2"]
    assert await ledger.has_open_command(CFA, "D1") is True


async def test_accept_twice_writes_nothing_the_second_time(ledger: Ledger) -> None:
    assert await accept(ledger, command("e1"), [status("s1")]) is True
    assert await accept(ledger, command("e1", payload={"other": 1}), [status("s9")]) is False

    [stored] = await ledger.commands_for(CFA, "D1")
    assert stored.payload == payload_of({"event": "e1"})
    assert await outbox_ids(ledger) == ["s1"]


async def test_reject_is_idempotent_and_shares_the_inbox_with_accept(ledger: Ledger) -> None:
    assert await reject(ledger, "e1", [status("rejected-e1")], CFA) is True
    assert await reject(ledger, "e1", [status("rejected-e1-again")], CFA) is False
    assert await accept(ledger, command("e1"), [status("s1")]) is False
    assert await accept(ledger, command("e2"), [status("s2")]) is True
    assert await reject(ledger, "e2", [status("rejected-e2")], CFA) is False

    assert [c.event_id for c in await ledger.commands_for(CFA, "D1")] == ["e2"]
    assert await outbox_ids(ledger) == ["rejected-e1", "s2"]


async def test_the_same_event_id_from_two_cfas_is_two_events(ledger: Ledger) -> None:
    """CloudEvents ids are unique per source only: the inbox key is (CFA, event id). A record whose
    CFA is not established is keyed by its Kafka position, with no CFA."""
    assert await reject(ledger, "e1", [status("rejected-e1-other")], OTHER_CFA) is True
    assert await accept(ledger, command("e1"), [status("s1")]) is True  # CFA's own e1
    assert await accept(ledger, command("e1", cfa=OTHER_CFA), [status("s1-other")]) is False
    assert await accept(ledger, command("e2", cfa=OTHER_CFA), [status("s2-other")]) is True
    assert await accept(ledger, command("e2"), [status("s2")]) is True
    assert await reject(ledger, "e2", [status("rejected-e2")], CFA) is False
    assert await reject(ledger, "kafka:t:0:7", [status("position")]) is True
    assert await reject(ledger, "kafka:t:0:7", [status("position-again")]) is False
    assert await reject(ledger, "e1", [status("no-cfa-e1")]) is True  # not CFA's e1 either

    assert [c.event_id for c in await ledger.commands_for(CFA, "D1")] == ["e1", "e2"]
    assert [c.event_id for c in await ledger.commands_for(OTHER_CFA, "D1")] == ["e2"]
    assert await outbox_ids(ledger) == [
        "rejected-e1-other",
        "s1",
        "s2-other",
        "s2",
        "position",
        "no-cfa-e1",
    ]
    results = await ledger.ingest_batch(
        [
            Reject("e3", [status("r3-other")], cfa=OTHER_CFA),
            Accept(command("e3"), [status("s3")]),
            Accept(command("e3", payload={"again": 3}), [status("s3-again")]),
            Accept(command("e1", cfa=OTHER_CFA), []),  # rejected before (same CFA)
            Reject("kafka:t:0:8", [status("position-8")]),
            Reject("kafka:t:0:8", [status("position-8-again")]),
        ]
    )
    assert results == [True, True, False, False, True, False]
    assert [c.event_id for c in await ledger.commands_for(CFA, "D1")] == ["e1", "e2", "e3"]


async def test_a_status_id_is_enqueued_once(ledger: Ledger) -> None:
    assert await accept(ledger, command("e1"), [status("s1"), status("s1")]) is True
    assert await reject(ledger, "e2", [status("s1"), status("s2")]) is True

    assert await outbox_ids(ledger) == ["s1", "s2"]


# -- claim: due commands, FIFO per dossier, one in flight per dossier (promise 3) -----------------


async def test_claim_hands_out_each_due_command_once(ledger: Ledger) -> None:
    for i, dossier in enumerate(["D1", "D2", "D3"]):
        await accept(ledger, command(f"e{i}", dossier), [])
    moment = now()

    claimed = await ledger.claim("w1", 10, moment, LEASE)

    assert [c.dossier_id for c in claimed] == ["D1", "D2", "D3"]
    assert all(c.state is CommandState.IN_FLIGHT for c in claimed)
    assert await ledger.claim("w1", 10, moment, LEASE) == []
    assert await ledger.claim("w2", 10, moment, LEASE) == []
    counts = await ledger.counts()
    assert (counts["pending"], counts["in_flight"]) == (0, 3)


async def test_claim_respects_the_limit_oldest_first(ledger: Ledger) -> None:
    for i in range(5):
        await accept(ledger, command(f"e{i}", f"D{i}"), [])
    moment = now()

    first = await ledger.claim("w1", 2, moment, LEASE)
    rest = await ledger.claim("w1", 10, moment, LEASE)

    assert [c.event_id for c in first] == ["e0", "e1"]
    assert [c.event_id for c in rest] == ["e2", "e3", "e4"]
    assert await ledger.claim("w1", 0, moment, LEASE) == []


async def test_claim_ignores_commands_not_yet_due(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    assert await ledger.claim("w1", 10, now() - timedelta(minutes=1), LEASE) == []
    assert len(await ledger.claim("w1", 10, now(), LEASE)) == 1


async def test_one_command_per_dossier_at_a_time_in_publication_order(ledger: Ledger) -> None:
    for i in range(3):
        await accept(ledger, command(f"a{i}", "D1"), [])
        await accept(ledger, command(f"b{i}", "D2"), [])
    await accept(ledger, command("c0", "D1", cfa=OTHER_CFA), [])  # same id, another CFA

    order: list[str] = []
    while True:
        batch = await ledger.claim("w1", 10, now(), LEASE)
        if not batch:
            break
        dossiers = [(c.cfa, c.dossier_id) for c in batch]
        assert len(dossiers) == len(set(dossiers)), "two commands of one dossier in flight"
        for claimed in batch:
            order.append(claimed.event_id)
            assert await ledger.complete(claimed.id, "w1", Completion(CommandState.DONE, []))

    assert [e for e in order if e.startswith("a")] == ["a0", "a1", "a2"]
    assert [e for e in order if e.startswith("b")] == ["b0", "b1", "b2"]
    assert "c0" in order[:3]  # the other CFA's D1 is another dossier: not queued behind D1


async def test_a_dossier_waiting_for_a_retry_keeps_its_order_and_blocks_nobody(
    ledger: Ledger,
) -> None:
    await accept(ledger, command("a0", "D1"), [])
    await accept(ledger, command("a1", "D1"), [])
    await accept(ledger, command("b0", "D2"), [])
    t0 = now()
    [head, other] = await ledger.claim("w1", 10, t0, LEASE)
    assert (head.event_id, other.event_id) == ("a0", "b0")

    retry_at = t0 + timedelta(minutes=5)
    assert await ledger.reschedule(head.id, "w1", retry_at, "HTTP 503", ambiguous=False)
    assert await ledger.complete(other.id, "w1", Completion(CommandState.DONE, []))
    await accept(ledger, command("b1", "D2"), [])

    # a1 is due but must not overtake a0; D2 goes on.
    [b1] = await ledger.claim("w1", 10, t0 + LEASE, LEASE)
    assert b1.event_id == "b1"
    assert await ledger.complete(b1.id, "w1", Completion(CommandState.DONE, []))
    assert await ledger.claim("w1", 10, retry_at - timedelta(seconds=1), LEASE) == []
    [again] = await ledger.claim("w1", 10, retry_at, LEASE)
    assert (again.event_id, again.attempts, again.last_error) == ("a0", 1, "HTTP 503")
    assert await ledger.complete(again.id, "w1", Completion(CommandState.FAILED, [], error="x"))
    assert [c.event_id for c in await ledger.claim("w1", 10, retry_at, LEASE)] == ["a1"]


async def test_a_failed_command_does_not_block_its_dossier(ledger: Ledger) -> None:
    await accept(ledger, command("a0"), [])
    await accept(ledger, command("a1"), [])
    [head] = await ledger.claim("w1", 10, now(), LEASE)
    assert await ledger.complete(head.id, "w1", Completion(CommandState.FAILED, [], error="422"))

    [stored, _] = await ledger.commands_for(CFA, "D1")
    assert (stored.state, stored.last_error) == (CommandState.FAILED, "422")
    assert [c.event_id for c in await ledger.claim("w1", 10, now(), LEASE)] == ["a1"]


async def test_claim_skips_excluded_opcos_and_keeps_fifo(ledger: Ledger) -> None:
    await accept(ledger, command("a1", "D1", opco="ATLAS"), [])
    await accept(ledger, command("k1", "D2", opco="AKTO"), [])
    await accept(ledger, command("a2", "D1", opco="ATLAS"), [])  # behind a1: same dossier
    await accept(ledger, command("u1", "D3", opco="UNIFORMATION"), [])
    t0 = now()

    def ids(commands: list[Command]) -> list[str]:
        return [c.event_id for c in commands]

    assert ids(await ledger.claim("w1", 10, t0, LEASE, exclude_opcos={"ATLAS"})) == ["k1", "u1"]
    assert await ledger.claim("w1", 10, t0, LEASE, exclude_opcos=("ATLAS", "AKTO")) == []
    [a1] = await ledger.claim("w1", 10, t0, LEASE, exclude_opcos=["OCAPIAT"])
    assert a1.event_id == "a1"  # a2 waits for a1 whatever the exclusions
    assert await ledger.complete(a1.id, "w1", Completion(CommandState.DONE, [])) is True
    assert await ledger.claim("w1", 10, t0, LEASE, exclude_opcos={"ATLAS"}) == []
    assert ids(await ledger.claim("w1", 10, t0, LEASE)) == ["a2"]

    # expired leases come back through the same filter
    later = t0 + LEASE
    [u1] = await ledger.claim("w2", 10, later, LEASE, exclude_opcos={"ATLAS", "AKTO"})
    assert (u1.event_id, u1.ambiguous) == ("u1", True)
    assert ids(await ledger.claim("w2", 10, later, LEASE, exclude_opcos={"ATLAS"})) == ["k1"]
    assert ids(await ledger.claim("w2", 10, later, LEASE, exclude_opcos=())) == ["a2"]


# -- leases: a crashed worker's commands come back; a late worker writes nothing ------------------


async def test_an_expired_lease_is_reclaimed_as_ambiguous(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    await accept(ledger, command("e2"), [])
    t0 = now()
    [first] = await ledger.claim("crashed", 10, t0, LEASE)

    assert await ledger.claim("w2", 10, t0 + LEASE - timedelta(seconds=1), LEASE) == []
    [again] = await ledger.claim("w2", 10, t0 + LEASE, LEASE)

    assert again.id == first.id
    assert again.ambiguous is True  # the crashed worker may have reached the OPCO
    assert again.attempts == 0
    # the lease holder is now w2: the crashed worker cannot finish it, w2 can.
    assert await ledger.complete(first.id, "crashed", Completion(CommandState.DONE, [])) is False
    assert await ledger.complete(first.id, "w2", Completion(CommandState.DONE, [])) is True
    assert [c.event_id for c in await ledger.claim("w2", 10, t0 + LEASE, LEASE)] == ["e2"]


async def test_complete_without_the_lease_writes_nothing(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [status("s1")])
    [never_claimed] = await ledger.commands_for(CFA, "D1")
    outcome = Completion(
        CommandState.DONE,
        [status("s2")],
        dossier_ids={"numeroInterne": "N1"},
        dossier_etat="TRANSMIS",
    )

    assert await ledger.complete(never_claimed.id, "w1", outcome) is False
    [claimed] = await ledger.claim("w1", 10, now(), LEASE)
    assert await ledger.complete(claimed.id, "intruder", outcome) is False
    assert await ledger.complete(123_456, "w1", outcome) is False

    assert (await ledger.commands_for(CFA, "D1"))[0].state is CommandState.IN_FLIGHT
    assert await ledger.dossier(CFA, "D1") is None
    assert await outbox_ids(ledger) == ["s1"]
    assert await ledger.complete(claimed.id, "w1", outcome) is True
    assert await ledger.complete(claimed.id, "w1", outcome) is False  # once


async def test_complete_rejects_a_non_terminal_state(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    [claimed] = await ledger.claim("w1", 1, now(), LEASE)
    with pytest.raises(ValueError, match="terminal"):
        await ledger.complete(claimed.id, "w1", Completion(CommandState.PENDING, []))


async def test_reschedule_counts_attempts_and_keeps_the_doubt(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    t0 = now()
    [c] = await ledger.claim("w1", 1, t0, LEASE)

    later = t0 + timedelta(seconds=10)
    assert await ledger.reschedule(
        c.id, "w1", later, "timeout after send", ambiguous=True, statuses=[status("retry-1")]
    )
    [c] = await ledger.claim("w1", 1, later, LEASE)
    assert (c.attempts, c.ambiguous, c.last_error) == (1, True, "timeout after send")
    assert c.next_attempt_at == later

    # waiting for a facture's dossiers: not an attempt
    assert await ledger.reschedule(
        c.id, "w1", later, "waiting for D7", ambiguous=False, count_attempt=False
    )
    [c] = await ledger.claim("w1", 1, later, LEASE)
    assert (c.attempts, c.ambiguous, c.last_error) == (1, False, "waiting for D7")

    assert await ledger.reschedule(c.id, "w2", later, "x", ambiguous=False) is False
    assert await outbox_ids(ledger) == ["retry-1"]


async def test_release_gives_back_what_a_worker_holds(ledger: Ledger) -> None:
    for dossier in ("D1", "D2", "D3"):
        await accept(ledger, command(f"e-{dossier}", dossier), [])
    t0 = now()
    mine = await ledger.claim("w1", 2, t0, LEASE)
    theirs = await ledger.claim("w2", 2, t0, LEASE)

    assert await ledger.release("w1") == 2
    assert await ledger.release("w1") == 0
    again = await ledger.claim("w3", 10, t0, LEASE)

    assert sorted(c.id for c in again) == sorted(c.id for c in mine)
    assert not any(c.ambiguous for c in again)  # released, not abandoned
    assert await ledger.complete(theirs[0].id, "w2", Completion(CommandState.DONE, []))


# -- outcomes: dossier and facture ids, etats (promises 2, 4) -------------------------------------


async def test_complete_records_the_opco_ids_and_the_statuses(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [status("s1")])
    [c] = await ledger.claim("w1", 1, now(), LEASE)

    done = Completion(
        CommandState.DONE,
        [status("s2"), status("s3")],
        dossier_ids={"numeroInterne": "N-1", "numeroExterne": "X-1"},
        dossier_etat="TRANSMIS",
    )
    assert await ledger.complete(c.id, "w1", done)

    dossier = await ledger.dossier(CFA, "D1")
    assert dossier is not None
    assert (dossier.opco, dossier.numero_interne, dossier.numero_externe, dossier.etat) == (
        "AKTO",
        "N-1",
        "X-1",
        "TRANSMIS",
    )
    assert await ledger.dossier_by_numero("AKTO", "N-1") == dossier
    assert await ledger.dossier_by_numero("ATLAS", "N-1") is None
    assert await ledger.dossier(OTHER_CFA, "D1") is None
    assert await ledger.has_open_command(CFA, "D1") is False
    assert await outbox_ids(ledger) == ["s1", "s2", "s3"]
    [stored] = await ledger.commands_for(CFA, "D1")
    assert stored.state is CommandState.DONE


async def test_a_later_completion_keeps_known_ids(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    await accept(ledger, command("e2", kind=CommandKind.CONVENTION), [])
    [c] = await ledger.claim("w1", 1, now(), LEASE)
    ids = {"numeroInterne": "N-1", "numeroExterne": "X-1"}
    await ledger.complete(c.id, "w1", Completion(CommandState.DONE, [], dossier_ids=ids))
    [c] = await ledger.claim("w1", 1, now(), LEASE)
    await ledger.complete(c.id, "w1", Completion(CommandState.DONE, [], dossier_etat="ENGAGE"))

    dossier = await ledger.dossier(CFA, "D1")
    assert dossier is not None
    assert (dossier.numero_interne, dossier.numero_externe, dossier.etat) == (
        "N-1",
        "X-1",
        "ENGAGE",
    )


async def test_only_a_done_dossier_command_records_a_dossier_without_ids(ledger: Ledger) -> None:
    """The dossiers row is written for dossier facts (ids, an etat) or a dossier just created: a
    dossier command done without ids records its dossier; a failed one, or a done follow-up
    without facts, does not."""
    await accept(ledger, command("d1", "D1"), [])
    await accept(ledger, command("d2", "D2"), [])
    await accept(ledger, command("c3", "D3", kind=CommandKind.CONVENTION), [])
    created, failed, followup = await ledger.claim("w1", 3, now(), LEASE)

    assert await ledger.complete(created.id, "w1", Completion(CommandState.DONE, []))
    assert await ledger.complete(failed.id, "w1", Completion(CommandState.FAILED, [], error="x"))
    assert await ledger.complete(followup.id, "w1", Completion(CommandState.DONE, []))

    dossier = await ledger.dossier(CFA, "D1")
    assert dossier is not None
    assert (dossier.opco, dossier.numero_interne, dossier.etat) == ("AKTO", None, None)
    assert await ledger.dossier(CFA, "D2") is None
    assert await ledger.dossier(CFA, "D3") is None


async def test_complete_records_a_facture(ledger: Ledger) -> None:
    await accept(ledger, command("f1", "D1", kind=CommandKind.FACTURE), [])
    [c] = await ledger.claim("w1", 1, now(), LEASE)
    facture = FactureRecord(CFA, "FAC-2026-001", "AKTO", "NF-9", "DEPOSEE")

    assert await ledger.complete(c.id, "w1", Completion(CommandState.DONE, [], facture=facture))

    # the facture keeps the dossier id of its command: its etat_changed is keyed by it
    assert await ledger.facture(CFA, "FAC-2026-001") == replace(facture, dossier_id="D1")
    assert await ledger.facture(CFA, "FAC-OTHER") is None
    # polling sees the etat relais already knows: no change; then a real change
    assert not await ledger.record_etat(
        cfa=CFA, opco="AKTO", numero_interne="NF-9", kind="facture", etat="DEPOSEE", statuses=[]
    )
    assert await ledger.record_etat(
        cfa=CFA,
        opco="AKTO",
        numero_interne="NF-9",
        kind="facture",
        etat="PAYEE",
        statuses=[status("paid")],
    )
    stored = await ledger.facture(CFA, "FAC-2026-001")
    assert stored is not None and stored.etat == "PAYEE"
    assert await outbox_ids(ledger) == ["paid"]


# -- polling: compare-and-set of the last known etat (promise 4) ----------------------------------


async def test_record_etat_reports_each_change_once(ledger: Ledger) -> None:
    await accept(ledger, command("e1"), [])
    [c] = await ledger.claim("w1", 1, now(), LEASE)
    await ledger.complete(
        c.id,
        "w1",
        Completion(
            CommandState.DONE, [], dossier_ids={"numeroInterne": "N1"}, dossier_etat="TRANSMIS"
        ),
    )

    def etat(value: str, event: str) -> dict[str, object]:
        return {
            "cfa": CFA,
            "opco": "AKTO",
            "numero_interne": "N1",
            "kind": "dossier",
            "etat": value,
            "statuses": [status(event)],
        }

    assert await ledger.record_etat(**etat("TRANSMIS", "t")) is False  # known since submission
    assert await ledger.record_etat(**etat("EN_INSTRUCTION", "i")) is True
    assert await ledger.record_etat(**etat("EN_INSTRUCTION", "i-again")) is False
    assert await ledger.record_etat(**etat("ENGAGE", "e")) is True

    dossier = await ledger.dossier(CFA, "D1")
    assert dossier is not None and dossier.etat == "ENGAGE"
    assert await outbox_ids(ledger) == ["i", "e"]


async def test_record_etat_of_an_unknown_dossier_is_first_seen_once(ledger: Ledger) -> None:
    args = {"cfa": CFA, "opco": "EP", "numero_interne": "N9", "kind": "dossier"}
    assert await ledger.record_etat(**args, etat="ENGAGE", statuses=[status("x1")]) is True
    assert await ledger.record_etat(**args, etat="ENGAGE", statuses=[status("x2")]) is False
    # another CFA's dossier with the same OPCO number is another key
    other = {**args, "cfa": OTHER_CFA}
    assert await ledger.record_etat(**other, etat="ENGAGE", statuses=[status("x3")]) is True
    assert await outbox_ids(ledger) == ["x1", "x3"]
    with pytest.raises(ValueError, match="kind"):
        await ledger.record_etat(**{**args, "kind": "convention"}, etat="A", statuses=[])


# -- relay: the outbox in order -------------------------------------------------------------------


async def test_outbox_batches_in_order_until_published(ledger: Ledger) -> None:
    await reject(ledger, "r1", [status("s0", key="D9")])
    for i in range(1, 6):
        await accept(ledger, command(f"e{i}", f"D{i}"), [status(f"s{i}", key=f"D{i}", n=i)])

    first = await ledger.outbox_batch(3)
    assert [r.message.event_id for r in first] == ["s0", "s1", "s2"]
    assert [r.seq for r in first] == sorted(r.seq for r in first)
    message = first[1].message
    assert message.key == "D1"
    assert message.headers["ce_id"] == "s1"
    assert json.loads(message.value)["n"] == 1
    assert message.topic is None
    assert await ledger.outbox_batch(3) == first  # unpublished: handed out again

    await ledger.mark_published([r.seq for r in first])
    await ledger.mark_published([r.seq for r in first])  # idempotent
    await ledger.mark_published([])
    rest = await ledger.outbox_batch(10)
    assert [r.message.event_id for r in rest] == ["s3", "s4", "s5"]
    assert min(r.seq for r in rest) > max(r.seq for r in first)
    assert (await ledger.counts())["outbox"] == 3
    await ledger.mark_published([r.seq for r in rest])
    assert await ledger.outbox_batch(10) == []


async def test_a_row_set_aside_leaves_the_queue_and_the_rows_after_it_flow(
    ledger: Ledger,
) -> None:
    for i in range(3):
        await reject(ledger, f"r{i}", [status(f"s{i}", key=f"D{i}")])
    first, second, third = await ledger.outbox_batch(10)
    await ledger.set_aside(first.seq, "TOO_LARGE")
    await ledger.set_aside(first.seq, "TOO_LARGE")  # idempotent
    await ledger.mark_published([third.seq])
    await ledger.set_aside(third.seq, "TOO_LARGE")  # a published row stays published
    assert await ledger.outbox_batch(10) == [second]
    assert (await ledger.counts())["outbox"] == 1


async def test_outbox_keeps_a_topic_and_binary_values(ledger: Ledger) -> None:
    message = status("dl1", key="D1")
    binary = type(message)(
        event_id="dl1", key="D1", headers={}, value=bytes(range(256)), topic="relais.dlq.v1"
    )
    await reject(ledger, "e1", [binary])
    [record] = await ledger.outbox_batch(1)
    assert record.message == binary


# -- operations -----------------------------------------------------------------------------------


async def test_counts_and_commands_for(ledger: Ledger) -> None:
    empty = await ledger.counts()
    assert {k: empty[k] for k in ("pending", "in_flight", "done", "failed", "outbox")} == {
        "pending": 0,
        "in_flight": 0,
        "done": 0,
        "failed": 0,
        "outbox": 0,
    }
    for i in range(4):
        await accept(ledger, command(f"e{i}", f"D{i % 2}"), [status(f"s{i}", key=f"D{i % 2}")])
    [a, b] = await ledger.claim("w1", 10, now(), LEASE)
    await ledger.complete(a.id, "w1", Completion(CommandState.DONE, []))
    await ledger.complete(b.id, "w1", Completion(CommandState.FAILED, [], error="403"))
    await ledger.claim("w1", 1, now(), LEASE)

    counts = await ledger.counts()
    assert {k: counts[k] for k in ("pending", "in_flight", "done", "failed")} == {
        "pending": 1,
        "in_flight": 1,
        "done": 1,
        "failed": 1,
    }
    assert counts["outbox"] == 4
    assert set(counts) == {"pending", "in_flight", "done", "failed", "outbox"}
    assert [c.event_id for c in await ledger.commands_for(CFA, "D0")] == ["e0", "e2"]
    assert await ledger.commands_for(CFA, "nope") == []


async def test_ping_and_close(ledger: Ledger) -> None:
    await ledger.ping()
    await accept(ledger, command("e1"), [])
    await ledger.close()
    await ledger.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        await ledger.ping()
    with pytest.raises(RuntimeError, match="closed"):
        await accept(ledger, command("e2"), [])


def answer(status_id: str, event_id: str, kind: str, cfa: str | None = CFA) -> OutboxMessage:
    """A status of the event ``event_id`` of ``cfa`` as the pipeline enqueues it (its headers say
    whose answer it is)."""
    headers = {"ce_id": status_id, "ce_type": f"fr.relais.status.{kind}.v1"}
    headers |= {"ce_correlationid": event_id} | ({"ce_cfa": cfa} if cfa else {})
    return OutboxMessage(event_id=status_id, key="D1", headers=headers, value=b"{}")


async def test_republish_queues_the_latest_answer_of_an_event_again(ledger: Ledger) -> None:
    received, submitted = answer("s-rec", "e1", "received"), answer("s-sub", "e1", "submitted")
    etat = answer("s-etat", "e1", "etat_changed")
    other_cfa = answer("s-other", "e1", "rejected", cfa=OTHER_CFA)
    by_position = answer("s-pos", "kafka:t:0:7", "dead_lettered", cfa=None)
    await accept(ledger, command("e1", "D1"), [received])
    await reject(ledger, "e1", [other_cfa], cfa=OTHER_CFA)
    await reject(ledger, "kafka:t:0:7", [by_position])
    [c] = await ledger.claim("w1", 1, now(), LEASE)
    assert await ledger.complete(c.id, "w1", Completion(CommandState.DONE, [submitted]))
    assert await ledger.record_etat(
        cfa=CFA, opco="AKTO", numero_interne="N1", kind="dossier", etat="ENGAGE", statuses=[etat]
    )

    # nothing published yet: nothing to queue again
    assert await ledger.republish([(CFA, "e1")]) == 0
    await ledger.mark_published([r.seq for r in await ledger.outbox_batch(100)])

    assert await ledger.republish([(CFA, "e1"), (CFA, "unknown"), ("", "kafka:t:0:7")]) == 2
    again = await ledger.outbox_batch(100)
    # the latest answer of each (the etat change aside), under its own id; the other CFA's
    # answer to the same ce_id is not touched
    assert [r.message.event_id for r in again] == ["s-pos", "s-sub"]
    assert await ledger.republish([(CFA, "e1")]) == 0, "already queued"
    await ledger.mark_published([r.seq for r in again])
    assert await ledger.outbox_batch(100) == []
