"""A paused OPCO as the dispatcher sees it: its commands wait (no call, no attempt), the others
go out, each held command gets one "waiting" note per pause, and the gauge follows the pause."""

from __future__ import annotations

import json
from datetime import timedelta

from relais.domain.opco import OpcoCode
from relais.domain.status import status_event_id
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.ledger_port import CommandState, OutboxMessage
from tests.ledger_entries import accept
from tests.unit.services.fakes import T0, FakeGateway, FakeLedger, ManualClock
from tests.unit.services.samples import CFA, dossier_cmd

UNTIL = T0 + timedelta(hours=2)  # 10:00 UTC on 27 November: 11:00 in Paris


class PauseGauge:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.outcomes: list[tuple[str, str, str]] = []

    def command(self, opco: str, kind: str, outcome: str) -> None:
        self.outcomes.append((opco, kind, outcome))

    def opco_pause(self, opco: str, *, paused: bool) -> None:
        self.values[opco] = 1 if paused else 0


class World:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.ledger = FakeLedger(self.clock)
        self.gateway = FakeGateway()
        self.metrics = PauseGauge()
        self.dispatcher = Dispatcher(
            self.ledger,
            self.gateway,
            DispatchOptions(),
            clock=self.clock,
            worker_id="w1",
            metrics=self.metrics,
        )

    async def tick(self) -> int:
        """One loop of the dispatcher, the pause check due."""
        self.clock.advance(timedelta(seconds=6))
        return await self.dispatcher.run_once()

    def notes(self) -> list[OutboxMessage]:
        return [m for m in self.ledger.statuses() if m.headers["ce_type"].endswith(".waiting.v1")]


async def test_a_paused_opco_waits_and_its_commands_get_one_note() -> None:
    world = World()
    await accept(world.ledger, dossier_cmd("a1", "A", opco="AKTO"))
    await accept(world.ledger, dossier_cmd("c1", "C", opco="ATLAS"))
    pause = await world.ledger.pause_opco("AKTO", until=UNTIL, reason="maintenance")

    assert await world.tick() == 1
    assert [call[2] for call in world.gateway.calls] == [OpcoCode.ATLAS]
    [a1] = await world.ledger.commands_for(CFA, "A")
    assert (a1.state, a1.attempts) == (CommandState.PENDING, 0)
    assert world.metrics.values == {"AKTO": 1}

    [note] = world.notes()
    body = json.loads(note.value)
    assert note.event_id == status_event_id("a1", "waiting", pause.pause_id, cfa=CFA)
    assert (body["status"], body["reason"], body["opco"]) == ("waiting", "opco_paused", "AKTO")
    assert body["nextAttemptAt"].startswith("2026-11-27T10:00:00")
    assert "attempts" not in body
    assert "maintenance" in body["message"]
    assert "27/11/2026 à 11:00, heure de Paris" in body["message"]

    for _ in range(3):  # later checks while still paused: no second note, still no call
        await world.tick()
    assert len(world.notes()) == 1
    assert [call[2] for call in world.gateway.calls] == [OpcoCode.ATLAS]


async def test_resume_releases_the_commands_and_a_new_pause_notes_again() -> None:
    world = World()
    await accept(world.ledger, dossier_cmd("a1", "A", opco="AKTO"))
    await accept(world.ledger, dossier_cmd("a2", "A2", 2, opco="AKTO"))
    await world.ledger.pause_opco("AKTO", until=None, reason=None)
    await world.tick()
    assert world.gateway.calls == [] and len(world.notes()) == 2

    await world.ledger.resume_opco("AKTO")
    assert await world.tick() == 2
    assert world.metrics.values == {"AKTO": 0}
    [a1] = await world.ledger.commands_for(CFA, "A")
    assert (a1.state, a1.attempts) == (CommandState.DONE, 0)  # no failed attempt while held
    assert len(world.gateway.calls) == 2  # one call each, after the resume

    await accept(world.ledger, dossier_cmd("a3", "A3", 3, opco="AKTO"))
    await world.ledger.pause_opco("AKTO", until=None, reason=None)
    await world.tick()
    assert len(world.notes()) == 3  # a3, for the second pause
    body = json.loads(world.notes()[-1].value)
    assert "nextAttemptAt" not in body and body["message"].endswith("changement d'ordre.")


async def test_a_pause_that_expires_lets_the_commands_go() -> None:
    world = World()
    await accept(world.ledger, dossier_cmd("a1", "A", opco="AKTO"))
    await world.ledger.pause_opco("AKTO", until=T0 + timedelta(minutes=1), reason=None)
    assert await world.tick() == 0
    world.clock.advance(timedelta(minutes=1))
    assert await world.tick() == 1
    assert world.metrics.values == {"AKTO": 0}
