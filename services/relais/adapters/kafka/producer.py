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
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from relais.adapters.kafka.client import aiokafka_options
from relais.config import KafkaSettings
from relais.errors import RelaisError, UnavailableError
from relais.services.ingest import DLQ_HEADERS, DLQ_KEY_DROPPED, DLQ_VALUE_DROPPED, DeadLetter
from relais.services.ledger_port import OutboxMessage
from relais.services.relay import TOO_LARGE, SetAside, Unpublishable
from relais.services.status_binding import StatusContentMode, StatusNotBindable, wire_form
from relais.services.statuses import StatusTopics

OUTBOX_ORIGIN = "outbox"  # dlq_topic of a set-aside report: the row is in the ledger's outbox

# The broker (or the client, before sending) refuses the record itself: retrying cannot help.
_TOO_LARGE = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError)
_RECORD_FAULTS: dict[type[Exception], str] = {
    **dict.fromkeys(_TOO_LARGE, TOO_LARGE),
    InvalidTopicError: "INVALID_TOPIC",
    UnicodeEncodeError: "INVALID_TEXT",  # a key or header the outbox holds but UTF-8 cannot
    StatusNotBindable: "NOT_A_CLOUDEVENT",  # a row the CloudEvents binding cannot express
}


def _record_fault(exc: BaseException) -> str | None:
    """The set-aside reason when ``exc`` is the record's fault, else None (the infrastructure)."""
    return next((r for cls, r in _RECORD_FAULTS.items() if isinstance(exc, cls)), None)


class PublishError(RelaisError):
    """The broker did not take a record (retry later; nothing was marked done)."""

    code = "KAFKA_PUBLISH"


class ProducerUnavailableError(PublishError, UnavailableError):
    """The producer could not connect to the broker at all (at start: the CLI exits 69)."""

    code = "KAFKA_UNAVAILABLE"


class KafkaProducer:
    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        self._kafka = kafka
        self._status_topics = StatusTopics(
            shared=kafka.status_topic,
            rejected=kafka.rejected_topic,
            per_cfa=kafka.status_topic_pattern,
        )
        self._status_mode = StatusContentMode(kafka.status_content_mode)
        options = aiokafka_options(kafka)
        options.update(
            acks="all",
            enable_idempotence=kafka.enable_idempotence,
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
                    where = self._options.get("bootstrap_servers")
                    raise ProducerUnavailableError(
                        f"Kafka broker {where}: cannot connect the producer ({type(exc).__name__})"
                    ) from exc
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
        """Send status events in order; return when the broker has acknowledged all of them.

        A message refused for itself (too large, invalid topic, not encodable) raises
        ``Unpublishable`` with its index, once every message before it is acknowledged (the relay
        sets it aside); any other failure raises ``PublishError`` (retry the batch later)."""
        producer = await self._ready()
        futures: list[asyncio.Future[Any]] = []
        refused: tuple[int, BaseException] | None = None
        try:
            for index, message in enumerate(messages):
                try:
                    headers, value = wire_form(message, self._status_mode)
                    futures.append(
                        await producer.send(
                            self._status_topics.topic_for(message),
                            value=value,
                            key=message.key.encode(),
                            headers=headers,
                        )
                    )
                except (KafkaError, UnicodeEncodeError, StatusNotBindable) as exc:
                    if _record_fault(exc) is None:
                        raise
                    refused = (index, exc)  # refused before sending: send nothing after it
                    break
            outcomes = await asyncio.gather(*futures, return_exceptions=True)
        except KafkaError as exc:
            raise PublishError(f"status publish failed: {exc!r}") from exc
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                refused = (index, outcome)
                break
        if refused is None:
            return
        index, error = refused
        reason = _record_fault(error)
        if reason is None:
            raise PublishError(f"status publish failed: {error!r}") from error
        raise Unpublishable(
            f"the broker refuses status {index} of the batch: {type(error).__name__}",
            index=index,
            reason=reason,
        ) from error

    async def report_set_aside(self, row: SetAside) -> None:
        """A record on the DLQ topic saying an outbox row was set aside: headers only, no key nor
        value (``dlq_reason`` STATUS_<reason>, ``dlq_topic`` "outbox" and ``dlq_offset`` the row's
        seq, ``dlq_value_dropped`` its size, so ``relais dlq replay`` skips it; the status id and
        type). The row stays in the ledger's outbox table (``set_aside`` = the reason)."""
        headers = [
            ("dlq_reason", f"STATUS_{row.reason}".encode()),
            ("dlq_topic", OUTBOX_ORIGIN.encode()),
            ("dlq_offset", str(row.seq).encode()),
            (DLQ_VALUE_DROPPED, str(row.size).encode()),
            ("dlq_status_id", row.event_id.encode("utf-8", "replace")),
            ("dlq_status_type", row.status_type.encode("utf-8", "replace")),
        ]
        producer = await self._ready()
        try:
            await producer.send_and_wait(self._kafka.dlq_topic, value=b"", headers=headers)
        except KafkaError as exc:
            raise PublishError(f"set-aside report failed: {exc!r}") from exc

    async def dead_letter(self, letter: DeadLetter) -> None:
        """Publish the dead letter; if the record is too large for the producer or the broker
        (a huge key, value or headers), publish it without its key, value and original headers
        rather than block the stream: the ``dlq_*`` headers still say where the original is, and
        ``dlq_key_dropped``/``dlq_value_dropped`` how large the key and value were. A letter with
        neither key nor value is sent with an empty value: Kafka clients refuse a record with
        neither (finding F4). A letter too large even so is the record's fault, never the
        infrastructure's: ``Unpublishable``, not ``PublishError``."""
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
                return
            except _TOO_LARGE:
                pass
            ours = [(k, v) for k, v in letter.headers if k.startswith("dlq_")]
            # The value and the original headers are left out (their size), the key too (its).
            size = len(letter.value or b"") + sum(len(v or b"") for _, v in letter.headers)
            dropped = [(DLQ_VALUE_DROPPED, str(size).encode())]
            if letter.key is not None:
                dropped.append((DLQ_KEY_DROPPED, str(len(letter.key)).encode()))
            ours = [(k, v) for k, v in ours if k not in (DLQ_KEY_DROPPED, DLQ_VALUE_DROPPED)]
            try:
                await producer.send_and_wait(
                    self._kafka.dlq_topic, value=b"", key=None, headers=ours + dropped
                )
                return
            except _TOO_LARGE:
                pass
            # Still too large (a broker limit far below relais's own bounds): the position only.
            where = [(k, v) for k, v in ours if k in DLQ_HEADERS]
            try:
                await producer.send_and_wait(
                    self._kafka.dlq_topic, value=b"", key=None, headers=where + dropped
                )
            except _TOO_LARGE as exc:
                raise Unpublishable(
                    f"the dead letter is too large: {type(exc).__name__}", index=0, reason=TOO_LARGE
                ) from exc
        except KafkaError as exc:
            raise PublishError(f"dead-letter publish failed: {exc!r}") from exc
