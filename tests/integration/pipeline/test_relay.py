"""The relay on the real broker and real ledgers: outbox order, stable ids, one active relay."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from relais.adapters.kafka.producer import KafkaProducer
from relais.adapters.leadership import PostgresLeadership
from relais.adapters.ledger import open_ledger
from relais.config import KafkaSettings
from relais.domain.events import EventKind
from relais.domain.status import StatusEvent, Trigger
from relais.services.ingest import DeadLetter
from relais.services.ledger_port import Ledger, OutboxMessage
from relais.services.relay import Leadership, Relay
from relais.services.statuses import to_outbox
from tests.fixtures.broker import consume_all
from tests.fixtures.postgres import truncate_ledger
from tests.integration.pipeline.harness import wait_until
from tests.ledger_entries import reject

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _statuses(dossiers: int, per_dossier: int) -> list[OutboxMessage]:
    """Interleaved dossiers: d0 e0, d1 e0, d2 e0, d0 e1, ..."""
    out = []
    for i in range(per_dossier):
        for d in range(dossiers):
            trigger = Trigger(
                event_id=f"evt-{d}-{i}",
                cfa="12345678901234",
                dossier_id=f"D{d}",
                kind=EventKind.DOSSIER,
            )
            out.append(
                to_outbox(StatusEvent.received(trigger, occurred_at=T0 + timedelta(seconds=i)))
            )
    return out


async def _fill(ledger: Ledger, messages: Sequence[OutboxMessage]) -> None:
    for message in messages:
        assert await reject(ledger, f"inbox-{message.event_id}", [message])


class Attempts:
    """A leadership that remembers the answer to each of its relay's attempts."""

    def __init__(self, inner: Leadership) -> None:
        self._inner = inner
        self.results: list[bool] = []

    async def acquire(self) -> bool:
        won = await self._inner.acquire()
        self.results.append(won)
        return won

    async def release(self) -> None:
        await self._inner.release()


class MarkFailsOnce:
    """A ledger whose first ``mark_published`` fails after the publish (a crash in between)."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("ledger lost between publish and mark")
        await self._inner.mark_published(seqs)


async def test_statuses_in_outbox_order_with_stable_ids_after_a_failed_mark(
    kafka_bootstrap: str, unique_topic: str, ledger_url: str
) -> None:
    ledger = open_ledger(ledger_url)
    messages = _statuses(dossiers=3, per_dossier=20)
    await _fill(ledger, messages)
    producer = KafkaProducer(
        KafkaSettings(bootstrap_servers=kafka_bootstrap, status_topic=unique_topic)
    )
    flaky = MarkFailsOnce(ledger)
    relay = Relay(flaky, producer, batch_size=25, idle_s=0.01)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        published = await consume_all(
            kafka_bootstrap, unique_topic, at_least=len(messages) + 25, timeout_s=20
        )
    finally:
        stop.set()
        await task
        await producer.stop()
        backlog = (await ledger.counts()).get("outbox", 0)
        await ledger.close()
    assert flaky.failed and backlog == 0
    ids = [p.headers["ce_id"] for p in published]
    assert len(ids) == len(messages) + 25  # the first batch went out twice...
    assert ids[:25] == ids[25:50]  # ...with the same ids
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == [m.event_id for m in messages]  # outbox order = per-dossier order
    for p in published:
        assert p.key_str == p.json()["dossierId"]
        assert p.headers["ce_type"] == "fr.relais.status.received.v1"


async def test_one_active_relay_on_postgresql(
    kafka_bootstrap: str, unique_topic: str, pg_ledger_url: str
) -> None:
    truncate_ledger(pg_ledger_url)
    ledger_a, ledger_b = open_ledger(pg_ledger_url), open_ledger(pg_ledger_url)
    messages = _statuses(dossiers=4, per_dossier=50)
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, status_topic=unique_topic)
    producers = [KafkaProducer(kafka), KafkaProducer(kafka)]
    leaderships = [Attempts(PostgresLeadership(pg_ledger_url)) for _ in range(2)]
    relays = [
        Relay(ledger_a, producers[0], leadership=leaderships[0], batch_size=10, idle_s=0.01),
        Relay(ledger_b, producers[1], leadership=leaderships[1], batch_size=10, idle_s=0.01),
    ]
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(r.run(s)) for r, s in zip(relays, stops, strict=True)]
    both_leaders = 0

    async def watch() -> None:
        nonlocal both_leaders
        while True:
            both_leaders += relays[0].is_leader and relays[1].is_leader
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        # Both relays have asked (events, not a 0.5 s nap): one won, the other was refused.
        await wait_until(lambda: all(a.results for a in leaderships), timeout_s=20, every_s=0.005)
        first = 0 if relays[0].is_leader else 1
        assert relays[first].is_leader and not relays[1 - first].is_leader
        assert leaderships[first].results[0] and not any(leaderships[1 - first].results)
        await _fill(ledger_a, messages[:100])

        async def outbox_empty() -> bool:
            return not (await ledger_a.counts()).get("outbox", 0)

        await wait_until(outbox_empty, timeout_s=20)
        # The leader stops: the other takes over and publishes the rest, after what was published.
        stops[first].set()
        await tasks[first]
        await _fill(ledger_a, messages[100:])
        published = await consume_all(
            kafka_bootstrap, unique_topic, at_least=len(messages), timeout_s=20
        )
        assert relays[1 - first].is_leader
    finally:
        watcher.cancel()
        for s in stops:
            s.set()
        await asyncio.gather(*tasks)
        for p in producers:
            await p.stop()
        await ledger_a.close()
        await ledger_b.close()
    assert both_leaders == 0
    assert relays[first].published == 100 and relays[1 - first].published == 100
    assert [p.headers["ce_id"] for p in published] == [m.event_id for m in messages]


async def test_a_dead_letter_with_neither_key_nor_value_is_sent(
    kafka_bootstrap: str, unique_topic: str
) -> None:
    """Finding F4: a keyless record whose value is dropped (too large) or absent must still
    reach the DLQ topic (aiokafka refuses a record with neither key nor value)."""
    producer = KafkaProducer(
        KafkaSettings(bootstrap_servers=kafka_bootstrap, dlq_topic=unique_topic),
        max_request_size=64 * 1024,
    )
    letters = [
        DeadLetter(None, None, [("dlq_reason", b"TOO_LARGE"), ("dlq_value_dropped", b"9999999")]),
        # Too large for the producer: sent again without its value and original headers.
        DeadLetter(None, b"v", [("x-junk", b"j" * (128 * 1024)), ("dlq_reason", b"X")]),
        DeadLetter(b"D-1", None, [("dlq_reason", b"EMPTY_VALUE")]),
    ]
    try:
        for letter in letters:
            await asyncio.wait_for(producer.dead_letter(letter), 10)
    finally:
        await producer.stop()
    got = await consume_all(kafka_bootstrap, unique_topic, at_least=3, timeout_s=15)
    assert [(g.key, g.value) for g in got] == [(None, b""), (None, b""), (b"D-1", None)]
    assert [g.headers["dlq_reason"] for g in got] == ["TOO_LARGE", "X", "EMPTY_VALUE"]
    assert "x-junk" not in got[1].headers and int(got[1].headers["dlq_value_dropped"]) > 1
