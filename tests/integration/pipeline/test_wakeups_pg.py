"""Wake-ups across processes on PostgreSQL (LISTEN/NOTIFY), best effort next to the polls."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg
import pytest

from relais.adapters.wakeups import DISPATCH_CHANNEL, RELAY_CHANNEL, PgWakeups
from relais.bootstrap import build
from tests.fixtures.broker import consume_all, produce
from tests.fixtures.postgres import truncate_ledger
from tests.integration.pipeline.harness import (
    generator,
    make_topics,
    out,
    running,
    settings_for,
    wait_until,
)

pytestmark = pytest.mark.integration


async def _bridge(url: str) -> None:
    local = asyncio.Event()
    woken = asyncio.Event()
    sender = PgWakeups(url, notify={DISPATCH_CHANNEL: local})
    receiver = PgWakeups(url, listen={DISPATCH_CHANNEL: woken})
    stop = asyncio.Event()
    tasks = [asyncio.create_task(receiver.run(stop))]
    try:
        # The receiver listens before the sender connects, so the sender's hello on connect is
        # delivered: wait for it (an event, not a 0.2 s nap) before the burst under test.
        await asyncio.wait_for(receiver.connected.wait(), 10)
        tasks.append(asyncio.create_task(sender.run(stop)))
        await asyncio.wait_for(sender.connected.wait(), 10)
        await wait_until(lambda: receiver.received >= 1, timeout_s=10, every_s=0.01)
        woken.clear()
        sent, received = sender.sent, receiver.received
        for _ in range(5):  # commits close together: few notifications, at least one
            local.set()
        await asyncio.wait_for(woken.wait(), 5)
        # the receiver may be woken before the sender's NOTIFY call has returned and been counted
        await wait_until(lambda: sender.sent > sent, timeout_s=5, every_s=0.01)
        await asyncio.sleep(0.2)  # a third notification, if one were sent, would be counted by now
        assert 1 <= sender.sent - sent <= 2 and receiver.received > received
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def test_a_notification_wakes_the_other_process(pg_ledger_url: str) -> None:
    await _bridge(pg_ledger_url)


async def test_the_bridge_survives_its_connection_being_killed(pg_ledger_url: str) -> None:
    woken = asyncio.Event()
    receiver = PgWakeups(pg_ledger_url, listen={RELAY_CHANNEL: woken})
    stop = asyncio.Event()
    admin = await asyncpg.connect(pg_ledger_url)
    # (a listener of an earlier test may still be exiting: only this test's one is killed)
    since = await admin.fetchval("SELECT clock_timestamp()")
    task = asyncio.create_task(receiver.run(stop))
    try:
        try:
            await asyncio.wait_for(receiver.connected.wait(), 10)  # listening: not a 1 s nap
            killed = await admin.fetchval(
                "SELECT count(*) FILTER (WHERE t.killed) FROM ("
                "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%' AND backend_start >= $1"
                ") AS t",
                since,
            )
            assert killed == 1, "the listening connection was found and killed"
            deadline = time.monotonic() + 15
            while not woken.is_set() and time.monotonic() < deadline:
                await admin.execute(f"NOTIFY {RELAY_CHANNEL}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), 0.5)
        finally:
            await admin.close()
        assert woken.is_set() and not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_statuses_of_another_process_do_not_wait_for_the_relay_poll(
    kafka_bootstrap: str, topic_factory: Callable[..., str], pg_ledger_url: str
) -> None:
    """Ingest in one process, the relay (polling every 30 s) in another: NOTIFY wakes it."""
    truncate_ledger(pg_ledger_url)
    topics = make_topics(topic_factory)
    events = [d.event for d in generator(41).dossiers(3)]
    # The relay's poll comes once an hour: statuses that come at all (consume_all waits 20 s)
    # were woken, however slow a loaded machine is (before: 'within 10 s' of a 30 s poll).
    settings = settings_for(kafka_bootstrap, topics, pg_ledger_url, relay_idle_s=3600.0)
    ingest, relay = build(settings, ["ingest"]), build(settings, ["relay"])
    assert ingest.wakeups is not None and relay.wakeups is not None and relay.relay is not None
    async with running(relay), running(ingest):
        leader = relay.relay
        await wait_until(lambda: leader.is_leader)  # its first turn found nothing: it sleeps
        await asyncio.wait_for(ingest.wakeups.connected.wait(), 10)
        await asyncio.wait_for(relay.wakeups.connected.wait(), 10)
        await produce(kafka_bootstrap, topics.input, [out(e) for e in events])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=3, timeout_s=20)
    assert [s.json()["status"] for s in statuses] == ["received"] * 3
