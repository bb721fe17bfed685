"""The relay against the fake ledger: order, nothing marked before the broker has it, leadership."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from relais.adapters.http_server import build_app
from relais.adapters.leadership import FileLeadership
from relais.metrics import Metrics
from relais.services.ledger_port import OutboxMessage
from relais.services.relay import Relay
from tests.ledger_entries import reject
from tests.unit.services.fakes import FakeLedger


def _message(i: int, dossier: str) -> OutboxMessage:
    return OutboxMessage(event_id=f"s-{i}", key=dossier, headers={"ce_id": f"s-{i}"}, value=b"{}")


class Sink:
    def __init__(self, fail: int = 0, expect: int = 0) -> None:
        self.sent: list[str] = []
        self.fail = fail
        self.expect = expect
        self.done = asyncio.Event()

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker down")
        self.sent.extend(m.event_id for m in messages)
        if len(self.sent) >= self.expect:
            self.done.set()


class NeverLeader:
    async def acquire(self) -> bool:
        return False

    async def release(self) -> None:
        return None


async def _filled(n: int) -> FakeLedger:
    ledger = FakeLedger()
    for i in range(n):
        await reject(ledger, f"e-{i}", [_message(i, f"D{i % 3}")])
    return ledger


async def test_publishes_in_outbox_order_then_marks() -> None:
    ledger = await _filled(7)
    sink = Sink()
    relay = Relay(ledger, sink, batch_size=3)
    assert await relay.drain() == 7
    assert sink.sent == [f"s-{i}" for i in range(7)]
    assert (await ledger.counts())["outbox"] == 0


async def test_a_failed_publish_marks_nothing_and_is_retried_in_order() -> None:
    ledger = await _filled(4)
    sink = Sink(fail=2, expect=4)
    relay = Relay(ledger, sink, batch_size=10, idle_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(sink.done.wait(), 10)
    stop.set()
    await task
    assert sink.sent == ["s-0", "s-1", "s-2", "s-3"]
    assert ledger.published == {r.seq for r in ledger.outbox}


async def test_a_relay_that_is_not_leader_publishes_nothing() -> None:
    ledger = await _filled(2)
    sink = Sink()
    relay = Relay(ledger, sink, leadership=NeverLeader(), idle_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await task
    assert sink.sent == [] and not relay.is_leader


async def test_shutdown_drains_what_is_left() -> None:
    ledger = await _filled(0)
    sink = Sink()
    relay = Relay(ledger, sink, idle_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.02)
    await reject(ledger, "late", [_message(99, "D9")])  # written while the relay sleeps
    stop.set()
    await task
    assert sink.sent == ["s-99"]


async def test_a_wake_up_ends_the_idle_pause() -> None:
    ledger = await _filled(0)
    sink = Sink(expect=1)
    wake = asyncio.Event()
    relay = Relay(ledger, sink, idle_s=30.0, wake=wake)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.05)  # the relay found nothing and sleeps its 30 s
    await reject(ledger, "now", [_message(1, "D1")])
    relay.notify()
    await asyncio.wait_for(sink.done.wait(), 2)  # long before the 30 s poll
    assert sink.sent == ["s-1"] and wake is relay._wake
    stop.set()
    await asyncio.wait_for(task, 2)  # stop ends the pause too


async def test_a_follower_is_not_woken_by_commits() -> None:
    ledger = await _filled(1)
    sink = Sink()
    turns = 0

    class CountingFollower(NeverLeader):
        async def acquire(self) -> bool:
            nonlocal turns
            turns += 1
            return False

    relay = Relay(ledger, sink, leadership=CountingFollower(), idle_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    for _ in range(20):
        relay.notify()
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert turns == 1 and sink.sent == []


async def test_file_leadership_is_exclusive(tmp_path: Path) -> None:
    a, b = FileLeadership(tmp_path / "relay.lock"), FileLeadership(tmp_path / "relay.lock")
    assert await a.acquire()
    assert await a.acquire()  # stays leader
    assert not await b.acquire()
    await a.release()
    assert await b.acquire()
    await b.release()


@pytest.mark.parametrize(("ok", "code"), [(True, 200), (False, 503)])
async def test_health_endpoints(ok: bool, code: int) -> None:
    async def check() -> None:
        if not ok:
            raise ConnectionError("postgresql://user:secret@db/relais unreachable")

    transport = httpx.ASGITransport(app=build_app(Metrics(), {"ledger": check}))
    async with httpx.AsyncClient(transport=transport, base_url="http://relais") as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == code
        assert "secret" not in ready.text
        assert "relais_events_consumed_total" in (await client.get("/metrics")).text


async def test_a_crashed_role_stops_the_process_with_its_error(tmp_path: Path) -> None:
    from relais.bootstrap import build
    from relais.config import Settings

    settings = Settings(ledger={"url": f"sqlite:///{tmp_path}/l.db"}, http={"enabled": False})
    app = build(settings, ["relay"])
    app.producer = None  # no broker in a unit test: the relay's loop is what crashes
    relay = app.relay
    assert relay is not None

    async def crash(stop: asyncio.Event) -> None:
        raise RuntimeError("role crashed")

    relay.run = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="role crashed"):
        await asyncio.wait_for(app.serve(asyncio.Event()), 10)
