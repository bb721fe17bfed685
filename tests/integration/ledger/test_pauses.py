"""An OPCO paused in the ledger: the claim holds its commands (no attempt spent, FIFO per dossier
kept, other OPCOs flow), a pause with ``until`` ends by itself at the claim's clock, and a held
command gets one note per pause (a compare-and-set). On SQLite, PostgreSQL and the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from relais.adapters.ledger import open_ledger
from relais.services.ledger_port import CommandState, Ledger
from tests.fixtures.postgres import sqlite_url, truncate_ledger
from tests.integration.ledger.conftest import CFA, command, status
from tests.ledger_entries import accept
from tests.unit.services.fakes import T0, FakeLedger, ManualClock

pytestmark = pytest.mark.integration

LEASE = timedelta(hours=6)  # longer than the test clock moves, but where a lease expires on purpose


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest_asyncio.fixture(loop_scope="function", params=["sqlite", "postgres", "fake"])
async def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Ledger]:
    """An empty ledger of each kind on the test's clock."""
    opened: Ledger
    if request.param == "fake":
        opened = FakeLedger(clock=clock)
    elif request.param == "sqlite":
        opened = open_ledger(sqlite_url(tmp_path), clock=clock)
        await opened.migrate()
    else:
        url = request.getfixturevalue("pg_ledger_url")
        truncate_ledger(url)
        opened = open_ledger(url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


async def _backlog(ledger: Ledger) -> None:
    """AKTO: two commands of dossier A (FIFO) and one of dossier B; ATLAS: one of dossier C."""
    await accept(ledger, command("a1", "A", opco="AKTO"))
    await accept(ledger, command("a2", "A", opco="AKTO"))
    await accept(ledger, command("b1", "B", opco="AKTO"))
    await accept(ledger, command("c1", "C", opco="ATLAS"))


async def _claim_ids(ledger: Ledger, clock: ManualClock, worker: str = "w") -> list[str]:
    return [c.event_id for c in await ledger.claim(worker, 10, clock.now(), LEASE)]


async def test_a_paused_opco_is_held_while_the_others_flow(
    ledger: Ledger, clock: ManualClock
) -> None:
    await _backlog(ledger)
    await ledger.pause_opco("AKTO", until=None, reason="maintenance AKTO")

    assert await _claim_ids(ledger, clock) == ["c1"]
    clock.advance(timedelta(hours=3))
    assert await _claim_ids(ledger, clock) == []  # no end given: held until resumed

    assert await ledger.resume_opco("AKTO") is True
    # released in order: each dossier's head, the oldest first, no attempt spent while held
    claimed = await ledger.claim("w", 10, clock.now(), LEASE)
    assert [(c.event_id, c.attempts, c.ambiguous) for c in claimed] == [
        ("a1", 0, False),
        ("b1", 0, False),
    ]
    [a1, a2] = await ledger.commands_for(CFA, "A")
    assert (a1.state, a2.state) == (CommandState.IN_FLIGHT, CommandState.PENDING)


async def test_a_pause_with_an_end_expires_at_the_claims_clock(
    ledger: Ledger, clock: ManualClock
) -> None:
    await accept(ledger, command("a1", "A", opco="AKTO"))
    pause = await ledger.pause_opco("AKTO", until=T0 + timedelta(hours=2), reason=None)
    assert pause.active(T0 + timedelta(hours=1)) and not pause.active(T0 + timedelta(hours=2))

    clock.advance(timedelta(hours=1, minutes=59))
    assert await _claim_ids(ledger, clock) == []
    clock.advance(timedelta(minutes=1))
    assert await _claim_ids(ledger, clock) == ["a1"]
    # an expired pause is no longer one to lift
    assert await ledger.resume_opco("AKTO") is False


async def test_an_abandoned_claim_of_a_paused_opco_waits_too(
    ledger: Ledger, clock: ManualClock
) -> None:
    await accept(ledger, command("a1", "A", opco="AKTO"))
    assert await _claim_ids(ledger, clock, "crashed") == ["a1"]
    await ledger.pause_opco("AKTO", until=None, reason=None)

    clock.advance(LEASE * 2)  # the lease expired: it would be handed out again, but for the pause
    assert await _claim_ids(ledger, clock) == []
    await ledger.resume_opco("AKTO")
    [again] = await ledger.claim("w", 10, clock.now(), LEASE)
    assert (again.event_id, again.ambiguous) == ("a1", True)


async def test_pausing_again_while_paused_keeps_the_pause(
    ledger: Ledger, clock: ManualClock
) -> None:
    first = await ledger.pause_opco("AKTO", until=None, reason="fenêtre")
    clock.advance(timedelta(minutes=5))
    later = T0 + timedelta(hours=4)
    extended = await ledger.pause_opco("AKTO", until=later, reason="prolongée")
    assert (extended.pause_id, extended.paused_at) == (first.pause_id, first.paused_at)
    assert (extended.until, extended.reason) == (later, "prolongée")

    assert await ledger.resume_opco("AKTO") is True
    assert await ledger.resume_opco("AKTO") is False
    [resumed] = await ledger.opco_pauses()
    assert resumed.resumed_at == T0 + timedelta(minutes=5)
    assert not resumed.active(clock.now())

    clock.advance(timedelta(days=1))
    again = await ledger.pause_opco("AKTO", until=None, reason=None)
    assert again.pause_id == first.pause_id + 1
    assert (again.paused_at, again.resumed_at, again.reason) == (clock.now(), None, None)
    await ledger.pause_opco("ATLAS", until=None, reason=None)
    assert [p.opco for p in await ledger.opco_pauses()] == ["AKTO", "ATLAS"]
    assert await ledger.resume_opco("EP") is False


async def test_a_held_command_gets_one_note_per_pause(ledger: Ledger, clock: ManualClock) -> None:
    await _backlog(ledger)
    assert await ledger.held_commands(clock.now(), 10) == []  # nothing paused
    pause = await ledger.pause_opco("AKTO", until=T0 + timedelta(hours=1), reason=None)

    held = await ledger.held_commands(clock.now(), 10)
    assert [(h.command.event_id, h.pause_id, h.until) for h in held] == [
        ("a1", pause.pause_id, T0 + timedelta(hours=1)),
        ("a2", pause.pause_id, T0 + timedelta(hours=1)),  # behind a1: held as well
        ("b1", pause.pause_id, T0 + timedelta(hours=1)),
    ]
    assert [h.command.event_id for h in await ledger.held_commands(clock.now(), 2)] == ["a1", "a2"]

    a1 = held[0].command
    assert await ledger.note_held(a1.id, pause.pause_id, [status("wait-a1", "A")]) is True
    # a second dispatcher racing for the same note writes nothing
    assert await ledger.note_held(a1.id, pause.pause_id, [status("wait-a1-bis", "A")]) is False
    outbox = [r.message.event_id for r in await ledger.outbox_batch(100)]
    assert outbox == ["wait-a1"]
    remaining = await ledger.held_commands(clock.now(), 10)
    assert [h.command.event_id for h in remaining] == ["a2", "b1"]
    assert (await ledger.commands_for(CFA, "A"))[0].attempts == 0

    # a later pause is a new maintenance window: a new note
    await ledger.resume_opco("AKTO")
    assert await ledger.held_commands(clock.now(), 10) == []
    second = await ledger.pause_opco("AKTO", until=None, reason=None)
    assert [h.command.event_id for h in await ledger.held_commands(clock.now(), 10)] == [
        "a1",
        "a2",
        "b1",
    ]
    assert await ledger.note_held(a1.id, second.pause_id, [status("wait2-a1", "A")]) is True


async def test_a_command_no_longer_pending_gets_no_note(ledger: Ledger, clock: ManualClock) -> None:
    await accept(ledger, command("a1", "A", opco="AKTO"))
    [claimed] = await ledger.claim("w", 10, clock.now(), LEASE)
    pause = await ledger.pause_opco("AKTO", until=None, reason=None)

    assert await ledger.held_commands(clock.now(), 10) == []  # in flight: not held
    assert await ledger.note_held(claimed.id, pause.pause_id, [status("wait-a1", "A")]) is False
    assert await ledger.outbox_batch(100) == []
