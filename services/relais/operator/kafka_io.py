"""Kafka access for the operator commands: publish a few records, read a topic without a group.

Operator commands never join relais's consumer groups and never commit offsets: reading a topic
is ``assign`` on every partition + seek, so watching or listing cannot disturb the running roles.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from relais.config import KafkaSettings
from relais.domain.records import Record
from relais.errors import UnavailableError


class KafkaUnavailableError(UnavailableError):
    """The broker could not be reached or refused the operation (aiokafka's error, translated)."""

    code = "KAFKA_UNAVAILABLE"


@dataclass(frozen=True)
class OutRecord:
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()


def client_kwargs(kafka: KafkaSettings) -> dict[str, Any]:
    """aiokafka connection arguments from the Kafka settings (security included)."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": f"{kafka.client_id}-operator",
        "request_timeout_ms": kafka.request_timeout_ms,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None
        )
        if kafka.ssl_certfile:
            context.load_cert_chain(
                str(kafka.ssl_certfile), str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None
            )
        kwargs["ssl_context"] = context
    if kafka.sasl_mechanism is not None:
        kwargs["sasl_mechanism"] = kafka.sasl_mechanism
        kwargs["sasl_plain_username"] = kafka.sasl_username
        kwargs["sasl_plain_password"] = (
            kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        )
    return kwargs


async def publish(
    kafka: KafkaSettings, topic: str, records: Iterable[OutRecord]
) -> list[tuple[int, int]]:
    """Send records in order, each awaited (acks=all): per-key order is the given order.

    Returns (partition, offset) of each record.
    """
    producer = AIOKafkaProducer(acks="all", **client_kwargs(kafka))
    try:
        await producer.start()
        out = []
        for rec in records:
            meta = await producer.send_and_wait(
                topic, value=rec.value, key=rec.key, headers=list(rec.headers)
            )
            out.append((meta.partition, meta.offset))
        return out
    except KafkaError as exc:
        raise KafkaUnavailableError(
            f"cannot publish to {topic} at {kafka.bootstrap_servers}: {type(exc).__name__}"
        ) from None
    finally:
        await producer.stop()


def _record(msg: Any) -> Record:
    return Record(
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        key=msg.key,
        value=msg.value,
        headers=tuple((k, v or b"") for k, v in (msg.headers or ())),
        timestamp_ms=msg.timestamp,
    )


async def _partitions(consumer: AIOKafkaConsumer, topic: str, wait_s: float) -> list[int]:
    deadline = time.monotonic() + wait_s
    while True:
        await consumer.topics()
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return sorted(parts)
        if time.monotonic() >= deadline:
            return []
        await asyncio.sleep(0.2)


async def read_topic(
    kafka: KafkaSettings,
    topic: str,
    *,
    from_beginning: bool = True,
    follow: bool = False,
    idle_s: float = 1.0,
    timeout_s: float | None = None,
) -> AsyncGenerator[Record, None]:
    """Records of ``topic`` (every partition), without a consumer group.

    ``follow=False``: from the beginning (or the end) until no record came for ``idle_s``.
    ``follow=True``: keeps waiting for new records, until ``timeout_s`` if given.
    """
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **client_kwargs(kafka))
    try:
        await consumer.start()
    except KafkaError as exc:
        await consumer.stop()
        raise KafkaUnavailableError(
            f"cannot read {topic} at {kafka.bootstrap_servers}: {type(exc).__name__}"
        ) from None
    try:
        # Following: wait for the topic to appear (nothing published yet), up to the timeout.
        wait_s = idle_s if not follow else (timeout_s if timeout_s is not None else math.inf)
        parts = await _partitions(consumer, topic, wait_s=wait_s)
        if not parts:
            return
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        started = last = time.monotonic()
        while True:
            now = time.monotonic()
            if timeout_s is not None and now - started >= timeout_s:
                return
            if not follow and now - last >= idle_s:
                return
            batch = await consumer.getmany(timeout_ms=200, max_records=1000)
            msgs = sorted(
                (m for ms in batch.values() for m in ms), key=lambda m: (m.timestamp, m.offset)
            )
            for msg in msgs:
                last = time.monotonic()
                yield _record(msg)
    finally:
        await consumer.stop()
