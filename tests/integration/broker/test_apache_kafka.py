"""The session's Apache Kafka (``tests.fixtures.kafka``) is the real thing: what Tansu cannot do,
it does, and what real Kafka refuses, it refuses."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import InvalidSessionTimeoutError

from relais.adapters.embedded_broker import create_topics
from relais.adapters.embedded_kafka import KafkaCluster
from tests.fixtures.broker import broker_kind_of, consume_all


async def test_idempotent_producer_and_true_end_offsets(apache_kafka: KafkaCluster) -> None:
    bootstrap = apache_kafka.bootstrap
    assert broker_kind_of(bootstrap) == "kafka"
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()  # Tansu refuses InitProducerId here
    try:
        batch = producer.create_batch()
        for i in range(5):
            batch.append(key=None, value=f"v{i}".encode(), timestamp=None)
        await (await producer.send_batch(batch, topic, partition=0))  # one multi-record batch
        await producer.send_and_wait(topic, b"v5")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        assert (await consumer.end_offsets([tp]))[tp] == 6  # the high watermark, batch or not
    finally:
        await consumer.stop()
    got = await consume_all(bootstrap, topic, at_least=6, idle_s=0.5)
    assert [r.value for r in got] == [f"v{i}".encode() for i in range(6)]


async def test_a_session_below_the_broker_minimum_is_refused(apache_kafka: KafkaCluster) -> None:
    """group.min.session.timeout.ms is Kafka's default (6 s): Tansu's 1 s test timings fail."""
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    await create_topics(apache_kafka.bootstrap, [topic], partitions=1)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=apache_kafka.bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:6]}",
        session_timeout_ms=1000,
        heartbeat_interval_ms=333,
    )
    try:
        with pytest.raises(InvalidSessionTimeoutError):
            await consumer.start()  # joins the group: the broker answers INVALID_SESSION_TIMEOUT
            await consumer.getmany(timeout_ms=10_000)
    finally:
        await consumer.stop()
