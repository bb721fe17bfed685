"""The broker fixture works: records with headers round-trip, a consumer group resumes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.fixtures.broker import TEST_CONSUMER_SETTINGS, Out, consume_all, produce

pytestmark = pytest.mark.integration


async def test_records_keep_key_value_headers_and_order(
    kafka_bootstrap: str, unique_topic: str
) -> None:
    records = [
        Out(
            value={"n": n},
            key=f"dossier-{n % 3}",
            headers={"ce_id": f"evt-{n}", "ce_type": "fr.cfa.contrat.v1", "empty": ""},
        )
        for n in range(5)
    ]
    await produce(kafka_bootstrap, unique_topic, records)

    got = await consume_all(kafka_bootstrap, unique_topic, at_least=5)

    assert [r.json() for r in got] == [{"n": n} for n in range(5)]
    assert [r.key_str for r in got] == [f"dossier-{n % 3}" for n in range(5)]
    assert [r.headers["ce_id"] for r in got] == [f"evt-{n}" for n in range(5)]
    assert all(r.headers["empty"] == "" for r in got)
    assert [r.offset for r in got] == list(range(5))


async def test_same_key_lands_on_one_partition_in_order(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory("keyed", partitions=4)
    await produce(kafka_bootstrap, topic, [Out(value=str(n), key="same") for n in range(6)])

    got = await consume_all(kafka_bootstrap, topic, at_least=6)

    assert len({r.partition for r in got}) == 1
    assert [r.value for r in got] == [str(n).encode() for n in range(6)]


async def test_consume_all_without_a_count_stops_when_idle(
    kafka_bootstrap: str, unique_topic: str
) -> None:
    await produce(kafka_bootstrap, unique_topic, [b"a", b"b"])

    got = await consume_all(kafka_bootstrap, unique_topic, idle_s=0.3)

    assert [r.value for r in got] == [b"a", b"b"]


async def test_consume_all_reads_past_the_count_until_idle(
    kafka_bootstrap: str, unique_topic: str
) -> None:
    """A test that waits for 2 records and counts them must see a third (a duplicate)."""
    await produce(kafka_bootstrap, unique_topic, [b"a", b"b"])

    async def late_duplicate() -> None:
        await asyncio.sleep(0.5)
        await produce(kafka_bootstrap, unique_topic, [b"b"])

    late = asyncio.create_task(late_duplicate())
    got = await consume_all(kafka_bootstrap, unique_topic, at_least=2, idle_s=1.5)
    await late

    assert [r.value for r in got] == [b"a", b"b", b"b"]


async def test_consume_all_gives_up_at_the_timeout(kafka_bootstrap: str, unique_topic: str) -> None:
    await produce(kafka_bootstrap, unique_topic, [b"a"])
    started = time.monotonic()

    got = await consume_all(kafka_bootstrap, unique_topic, at_least=2, timeout_s=1.0, idle_s=0.2)

    assert [r.value for r in got] == [b"a"]
    assert time.monotonic() - started < 10


async def test_group_resumes_from_its_committed_offset(
    kafka_bootstrap: str, unique_topic: str
) -> None:
    await produce(kafka_bootstrap, unique_topic, [f"m{n}" for n in range(4)])
    group = f"{unique_topic}-group"

    async def read(count: int, *, commit: bool) -> list[bytes]:
        consumer = AIOKafkaConsumer(
            unique_topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            enable_auto_commit=False,
            **TEST_CONSUMER_SETTINGS,
        )
        await consumer.start()
        try:
            values: list[bytes] = []
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=5000, max_records=count - len(values))
                assert batch, "no record within 5 s"
                for tp, msgs in batch.items():
                    values.extend(m.value for m in msgs)
                    if commit:
                        await consumer.commit({tp: msgs[-1].offset + 1})
            return values
        finally:
            await consumer.stop()

    first = await read(2, commit=True)
    await produce(kafka_bootstrap, unique_topic, [b"m4"])
    rest = await read(3, commit=True)

    assert first == [b"m0", b"m1"]
    assert rest == [b"m2", b"m3", b"m4"]
    checker = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await checker.start()
    try:
        assert await checker.committed(TopicPartition(unique_topic, 0)) == 5
    finally:
        await checker.stop()
