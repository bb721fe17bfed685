"""The relay sets aside an outbox row it can never publish, reports it, and goes on (issue
"Poison records and tenant isolation", finding 1); readiness says when it makes no progress."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from relais.services.ledger_port import OutboxMessage
from relais.services.relay import TOO_LARGE, Relay, SetAside, Unpublishable
from relais.services.statuses import MAX_STATUS_BYTES
from tests.ledger_entries import reject
from tests.unit.services.fakes import FakeLedger


def _message(event_id: str, key: str = "D1") -> OutboxMessage:
    headers = {"ce_id": event_id, "ce_type": "fr.relais.status.rejected.v1"}
    return OutboxMessage(event_id=event_id, key=key, headers=headers, value=b"{}")


class Sink:
    """Acknowledges every message but those it refuses (as the broker refuses a record too
    large for it: the ones before are acknowledged), or fails every publish while ``down``."""

    def __init__(self, refuse: Sequence[str] = ()) -> None:
        self.sent: list[str] = []
        self.refuse = set(refuse)
        self.down = False

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if self.down:
            raise ConnectionError("broker down")
        for index, message in enumerate(messages):
            if message.event_id in self.refuse:
                raise Unpublishable("too large for the broker", index=index, reason=TOO_LARGE)
            self.sent.append(message.event_id)


class Reporter:
    def __init__(self, fail: bool = False) -> None:
        self.rows: list[SetAside] = []
        self.fail = fail

    async def report_set_aside(self, row: SetAside) -> None:
        if self.fail:
            raise ConnectionError("dlq topic unreachable")
        self.rows.append(row)


class Observer:
    def __init__(self) -> None:
        self.set_aside: list[str] = []

    def on_published(self, messages: Sequence[OutboxMessage]) -> None:
        return None

    def on_failure(self, error: BaseException) -> None:
        return None

    def on_set_aside(self, row: SetAside) -> None:
        self.set_aside.append(row.reason)


async def _ledger(*messages: OutboxMessage) -> FakeLedger:
    ledger = FakeLedger()
    for message in messages:
        await reject(ledger, f"inbox-{message.event_id}", [message])
    return ledger


async def test_a_status_over_the_cap_is_set_aside_reported_and_the_rest_flows() -> None:
    huge = _message("s-huge", key="k" * (MAX_STATUS_BYTES + 1))
    ledger = await _ledger(_message("s-0"), huge, _message("s-2"))
    sink, reporter, observer = Sink(), Reporter(), Observer()
    relay = Relay(ledger, sink, reporter=reporter, observer=observer, batch_size=10)
    assert await relay.drain() == 3
    assert sink.sent == ["s-0", "s-2"]  # never offered to the broker
    assert ledger.set_aside_rows == {2: TOO_LARGE}
    (row,) = reporter.rows
    assert (row.seq, row.event_id, row.reason) == (2, "s-huge", TOO_LARGE)
    assert row.size > MAX_STATUS_BYTES and row.status_type == "fr.relais.status.rejected.v1"
    assert observer.set_aside == [TOO_LARGE]
    assert (await ledger.counts())["outbox"] == 0
    assert (relay.published, relay.set_aside) == (2, 1)


async def test_a_row_the_broker_refuses_is_set_aside_after_the_acknowledged_ones() -> None:
    ledger = await _ledger(*(_message(f"s-{i}") for i in range(5)))
    sink, reporter = Sink(refuse=["s-2"]), Reporter()
    relay = Relay(ledger, sink, reporter=reporter, batch_size=10)
    assert await relay.publish_once() == 3  # s-0, s-1 published, s-2 set aside
    assert ledger.published == {1, 2, 3} and ledger.set_aside_rows == {3: TOO_LARGE}
    assert await relay.drain() == 2
    assert sink.sent == ["s-0", "s-1", "s-3", "s-4"]
    assert [r.event_id for r in reporter.rows] == ["s-2"]


async def test_a_row_is_set_aside_only_once_reported() -> None:
    ledger = await _ledger(_message("s-0"), _message("s-1"))
    sink = Sink(refuse=["s-1"])
    relay = Relay(ledger, sink, reporter=Reporter(fail=True), batch_size=10)
    with pytest.raises(ConnectionError):
        await relay.publish_once()
    assert ledger.published == {1} and ledger.set_aside_rows == {}  # s-1 waits for its report
    relay = Relay(ledger, sink, reporter=Reporter(), batch_size=10)
    assert await relay.drain() == 1 and ledger.set_aside_rows == {2: TOO_LARGE}


async def test_readiness_fails_while_no_turn_succeeds_and_recovers() -> None:
    ledger = await _ledger(_message("s-0"))
    sink = Sink()
    sink.down = True
    relay = Relay(ledger, sink, idle_s=0.01, stuck_after_s=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await relay.check()  # failing, not for long yet
        await asyncio.sleep(0.5)
        with pytest.raises(ConnectionError, match="relay stuck: ConnectionError"):
            await relay.check()
        sink.down = False
        for _ in range(200):
            if sink.sent:
                break
            await asyncio.sleep(0.05)
        await relay.check()
        assert sink.sent == ["s-0"]
    finally:
        stop.set()
        await task


async def test_readiness_fails_while_a_publish_does_not_return() -> None:
    ledger = await _ledger(_message("s-0"))
    release = asyncio.Event()

    class HangingSink(Sink):
        async def publish(self, messages: Sequence[OutboxMessage]) -> None:
            await release.wait()
            await super().publish(messages)

    sink = HangingSink()
    relay = Relay(ledger, sink, idle_s=0.01, stuck_after_s=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.3)
        with pytest.raises(ConnectionError, match="a publish does not return"):
            await relay.check()
        release.set()
        for _ in range(100):
            if sink.sent:
                break
            await asyncio.sleep(0.02)
        await relay.check()
        assert sink.sent == ["s-0"]
    finally:
        stop.set()
        await task
