"""Wake-ups between the roles of one process: a commit wakes whoever would otherwise poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relais.bootstrap import build
from relais.config import Settings
from relais.domain.events import EventType
from relais.services.dispatch import Dispatcher
from relais.services.ingest import DeadLetter, IngestHandler, Outcome
from relais.services.ingest.writer import Wakeups
from tests.ledger_entries import accept
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import event, record
from tests.unit.services.fakes import FakeGateway, FakeLedger, ManualClock
from tests.unit.services.samples import dossier_cmd


class _Sink:
    async def dead_letter(self, letter: DeadLetter) -> None:
        return None


def _handler(ledger: FakeLedger) -> tuple[IngestHandler, asyncio.Event, asyncio.Event]:
    dispatch, relay = asyncio.Event(), asyncio.Event()
    handler = IngestHandler(
        ledger,
        _Sink(),
        rules=ExplicitOpcoRules(),
        clock=ManualClock(),
        wake_dispatch=dispatch,
        wake_relay=relay,
    )
    return handler, dispatch, relay


async def test_an_accepted_command_wakes_dispatch_and_relay() -> None:
    handler, dispatch, relay = _handler(FakeLedger())
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-1", subject="D-1")
    assert (await handler.handle(record(hdrs, value))).outcome is Outcome.ACCEPTED
    assert dispatch.is_set() and relay.is_set()
    dispatch.clear()
    relay.clear()
    # The same event again writes nothing: nobody is woken.
    assert (await handler.handle(record(hdrs, value))).outcome is Outcome.DUPLICATE
    assert not dispatch.is_set() and not relay.is_set()


async def test_a_rejection_wakes_the_relay_only() -> None:
    handler, dispatch, relay = _handler(FakeLedger())
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, {"cerfa": "not an object"}, event_id="e-2")
    assert (await handler.handle(record(hdrs, value))).outcome is Outcome.REJECTED
    assert relay.is_set() and not dispatch.is_set()


async def test_a_dispatch_outcome_wakes_the_relay() -> None:
    clock = ManualClock()
    ledger = FakeLedger(clock)
    relay = asyncio.Event()
    dispatcher = Dispatcher(ledger, FakeGateway(), clock=clock, wake_relay=relay)
    assert await accept(ledger, dossier_cmd("e1", "D1"), [])
    assert await dispatcher.run_once() == 1
    assert relay.is_set() and ledger.statuses()


def test_roles_of_one_process_share_their_wake_ups(tmp_path: Path) -> None:
    settings = Settings(
        ledger={"url": f"sqlite:///{tmp_path}/l.db"},
        http={"enabled": False},
        poll={"enabled": False},
    )
    app = build(settings, ["ingest", "dispatch", "relay"], gateway=FakeGateway())
    assert app.handler is not None and app.relay is not None and app.dispatcher is not None
    assert app.handler._wakeups.dispatch is app.dispatcher._wake
    assert app.handler._wakeups.relay is app.relay._wake
    assert app.dispatcher._wake_relay is app.relay._wake
    alone = build(settings, ["ingest"])
    assert alone.handler is not None
    assert alone.handler._wakeups == Wakeups()


def test_split_processes_on_postgresql_bridge_their_wake_ups() -> None:
    """Nothing connects at build time: the bridge's channels are decided by the roles."""
    settings = Settings(
        ledger={"url": "postgresql://relais@127.0.0.1:1/none"},
        http={"enabled": False},
        poll={"enabled": False},
    )
    front = build(settings, ["ingest", "relay"])
    back = build(settings, ["dispatch"], gateway=FakeGateway())
    whole = build(settings, ["ingest", "dispatch", "relay"], gateway=FakeGateway())
    assert front.wakeups is not None and back.wakeups is not None and whole.wakeups is None
    assert front.handler is not None and front.relay is not None and back.dispatcher is not None
    # ingest+relay: tells the dispatchers elsewhere, hears the dispatchers' statuses.
    assert front.wakeups._notify == {"relais_dispatch": front.handler._wakeups.dispatch}
    assert front.wakeups._listen == {"relais_relay": front.relay._wake}
    # dispatch: hears ingest, tells the relay elsewhere.
    assert back.wakeups._listen == {"relais_dispatch": back.dispatcher._wake}
    assert back.wakeups._notify == {"relais_relay": back.dispatcher._wake_relay}
    sqlite = build(Settings(http={"enabled": False}), ["ingest"])
    assert sqlite.wakeups is None  # one process per SQLite ledger: nobody to tell
