"""The one producer of relais: status events (for the relay) and dead letters (for ingest).

acks=all and every send awaited before the caller goes on: the relay marks outbox rows published,
and ingest commits an offset, only once the broker has the records. No idempotent producer and no
transactions (the embedded test broker has neither; the inbox/outbox make them unnecessary).
aiokafka sends one batch per partition at a time, so records keep the order of the ``send`` calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError

from relais.adapters.kafka.client import aiokafka_options
from relais.config import KafkaSettings
from relais.errors import RelaisError
from relais.services.ingest import DLQ_VALUE_DROPPED, DeadLetter
from relais.services.ledger_port import OutboxMessage
from relais.services.statuses import StatusTopics


class PublishError(RelaisError):
    """The broker did not take a record (retry later; nothing was marked done)."""

    code = "KAFKA_PUBLISH"


class KafkaProducer:
    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self._kafka = kafka
        self._status_topics = StatusTopics(
            shared=kafka.status_topic,
            rejected=kafka.rejected_topic,
            per_cfa=kafka.status_topic_pattern,
        )
        options = aiokafka_options(kafka)
        options.update(
            acks="all",
            linger_ms=5,
            max_request_size=max(1_048_576, kafka.max_message_bytes + 64 * 1024),
        )
        options.update(overrides)
        self._options = options
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)
                try:
                    await producer.start()
                except KafkaError as exc:
                    await producer.stop()
                    raise PublishError(f"cannot connect the producer: {exc!r}") from exc
                self._producer = producer

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.stop()

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            await self.start()
        assert self._producer is not None
        return self._producer

    async def ping(self) -> None:
        """Raises unless the cluster answers a metadata request (readiness)."""
        producer = await self._ready()
        try:
            await producer.client.fetch_all_metadata()
        except KafkaError as exc:
            raise PublishError(f"kafka unreachable: {exc!r}") from exc

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Send status events in order (each to its topic: ``StatusTopics``); return when the
        broker has acknowledged all of them."""
        producer = await self._ready()
        try:
            futures = [
                await producer.send(
                    self._status_topics.topic_for(message),
                    value=message.value,
                    key=message.key.encode(),
                    headers=[(k, v.encode()) for k, v in message.headers.items()],
                )
                for message in messages
            ]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise PublishError(f"status publish failed: {exc!r}") from exc

    async def dead_letter(self, letter: DeadLetter) -> None:
        """Publish the dead letter; if the record is too large for the producer or the broker
        (huge headers), publish it without its value and original headers rather than block the
        stream: the ``dlq_*`` headers still say where the original is. A letter with neither key
        nor value (a keyless record whose value was dropped or absent) is sent with an empty
        value: Kafka clients refuse a record with neither (finding F4)."""
        producer = await self._ready()
        value = letter.value if letter.value is not None or letter.key is not None else b""
        try:
            try:
                await producer.send_and_wait(
                    self._kafka.dlq_topic,
                    value=value,
                    key=letter.key,
                    headers=letter.headers,
                )
            except (MessageSizeTooLargeError, RecordTooLargeError):
                size = len(letter.value or b"") + sum(len(v or b"") for _, v in letter.headers)
                stripped = [(k, v) for k, v in letter.headers if k.startswith("dlq_")]
                stripped.append((DLQ_VALUE_DROPPED, str(size).encode()))
                await producer.send_and_wait(
                    self._kafka.dlq_topic,
                    value=None if letter.key is not None else b"",  # a key or a value, always
                    key=letter.key,
                    headers=stripped,
                )
        except KafkaError as exc:
            raise PublishError(f"dead-letter publish failed: {exc!r}") from exc
