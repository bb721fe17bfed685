"""The ingest subscriber: a thin FastStream entry point around ``IngestHandler``.

Delivery contract (DESIGN promise 1, STYLE 7):

* an explicit consumer group and ``AckPolicy.MANUAL``: FastStream never commits by itself;
* the records of one poll (up to ``kafka.ingest_batch_size``) are handled in order by
  ``IngestHandler.handle_batch``: decisions per record, then the dead letters (awaited), then ONE
  ledger transaction for the poll (more only when a follow-up reads what the same poll decides);
  then the next offset after each handled record is committed explicitly, once per poll. A record
  counts as handled only once its ledger transaction committed (and, for a dead letter, after the
  broker acknowledged the DLQ publish);
* when the handler fails (ledger or DLQ topic unreachable, a bug), the records handled so far are
  committed, every partition of the poll is rewound to its first unhandled record (so no later
  commit can cover it) and the subscriber pauses, longer each time. Nothing is skipped;
  ``/health/ready`` tells the operator why it is stuck;
* except a poison record: one that failed three times in a row with an error that is neither the
  ledger's nor the broker's while the ledger answers (a bug meeting odd data) is dead-lettered
  (``UNPROCESSABLE``), so that one record never stops the stream.

FastStream's default parser decodes every header as UTF-8 and its decoder parses JSON bodies; a
garbled record would fail there, before our handler, and be skipped. So this subscriber brings its
own parser (headers decoded leniently for FastStream's bookkeeping only; our handler reads the raw
record) and a decoder that returns the raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from relais.adapters.kafka.lag import PartitionLag
from relais.adapters.kafka.producer import PublishError
from relais.config import KafkaSettings
from relais.errors import LedgerError
from relais.logging import bound, get_logger
from relais.metrics import Metrics
from relais.services.ingest import BatchInterrupted, IngestHandler, Outcome, Record, Result

log = get_logger("relais.ingest")

_BACKOFF_START_S = 0.2
_BACKOFF_CAP_S = 30.0
_UNREADY_AFTER_FAILURES = 3
_POISON_AFTER = 3  # failures of one record, the ledger answering, before it is dead-lettered
_INFRASTRUCTURE = (LedgerError, PublishError, OSError, TimeoutError)


def _clean(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    return dataclasses.replace(
        record,
        headers=[
            (name, (value or b"").decode("utf-8", "replace").encode())
            for name, value in record.headers
        ],
    )


async def lenient_parser(
    records: ConsumerRecord[Any, Any] | tuple[ConsumerRecord[Any, Any], ...],
    original: Callable[[Any], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    if isinstance(records, tuple):
        message = await original(tuple(_clean(r) for r in records))
    else:
        message = await original(_clean(records))
    message.raw_message = records  # the handler reads the records exactly as they came
    return message


async def raw_decoder(message: StreamMessage[Any], original: Any = None) -> Any:
    return message.body


def batch_timeout_ms(kafka: KafkaSettings) -> int:
    """The subscriber's wait for records when the fetch buffer is empty (see ``IngestSubscriber``):
    at most 50 ms, at most one fetch hold, at least 10 ms."""
    return max(10, min(50, kafka.fetch_max_wait_ms))


def _record(rec: ConsumerRecord[Any, Any]) -> Record:
    return Record(
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        key=rec.key,
        value=rec.value,
        headers=tuple(rec.headers),
        timestamp_ms=rec.timestamp,
    )


async def _commit(consumer: Any, done: Mapping[TopicPartition, int]) -> None:
    """Commit the next offset after each handled record (explicit: never the fetch position)."""
    if done:
        await consumer.commit(
            {tp: OffsetAndMetadata(offset + 1, "") for tp, offset in done.items()}
        )


class IngestObserverAdapter:
    """Metrics and one log line per record outcome."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_result(self, result: Result, latency_s: float | None) -> None:
        self._metrics.event_consumed(result.outcome.value)
        if result.outcome is Outcome.DEAD_LETTERED:
            self._metrics.dlq_messages.inc()
        if latency_s is not None:
            self._metrics.event_latency.labels(
                kind=result.kind.value if result.kind else "unknown"
            ).observe(latency_s)
        fields: dict[str, Any] = {
            "event_id": result.event_id,
            "dossier": result.dossier_id,
            "kind": result.kind.value if result.kind else None,
            "opco": result.opco.value if result.opco else None,
        }
        if result.errors:
            fields["errors"] = [e.ref for e in result.errors[:20]]
        if result.reason:
            fields["reason"] = result.reason
        level = "warning" if result.outcome is Outcome.DEAD_LETTERED else "info"
        getattr(log, level)(f"ingest.{result.outcome.value}", **fields)


class IngestSubscriber:
    """Registers the subscriber on ``broker``; ``failing``/``check`` report a stuck handler."""

    def __init__(
        self,
        broker: KafkaBroker,
        handler: IngestHandler,
        kafka: KafkaSettings,
        metrics: Metrics | None = None,
    ) -> None:
        self._handler = handler
        self._metrics = metrics
        self._failures = 0
        self.last_error: str | None = None
        self.handled = 0
        self._next: dict[TopicPartition, int] = {}  # next offset to handle, per partition
        self._failing_record: tuple[str, int, int] | None = None
        self._record_failures = 0
        self.lag = PartitionLag(metrics.kafka_consumer_lag) if metrics is not None else None
        topics: tuple[str, ...] = () if kafka.input_pattern else (kafka.input_topic,)
        options: dict[str, Any] = {
            "group_id": kafka.group_id,
            "ack_policy": AckPolicy.MANUAL,
            "auto_offset_reset": kafka.auto_offset_reset,
            "batch": True,
            "max_records": kafka.ingest_batch_size,
            # FastStream waits this long for records, then SLEEPS as long again when none came:
            # a record arriving then waits up to twice this. Short, not zero (a busy loop).
            "batch_timeout_ms": batch_timeout_ms(kafka),
            "fetch_max_wait_ms": kafka.fetch_max_wait_ms,
            "session_timeout_ms": kafka.session_timeout_ms,
            "heartbeat_interval_ms": kafka.heartbeat_interval_ms,
            "parser": lenient_parser,
            "decoder": raw_decoder,
            "title": "ingest",
            "description": "CFA events (CloudEvents binary mode: ce_* headers, JSON data)",
        }
        if kafka.input_pattern:
            # FastStream reads "{name}" as a path parameter: a regex quantifier such as
            # "[0-9]{14}" must reach it with its braces doubled (FastStream's literal escape).
            options["pattern"] = kafka.input_pattern.replace("{", "{{").replace("}", "}}")
        if kafka.max_poll_records is not None:
            options["max_poll_records"] = kafka.max_poll_records
        self.options = options  # what the subscriber (and its aiokafka consumer) was given
        self.subscriber = broker.subscriber(*topics, **options)
        self.subscriber(self._on_batch)

    @property
    def failing(self) -> bool:
        return self._failures > 0

    async def check(self) -> None:
        """Readiness: raises while the handler keeps failing on the same records."""
        if self._failures >= _UNREADY_AFTER_FAILURES:
            raise ConnectionError(f"ingest stuck: {self.last_error}")

    async def _on_batch(self, msg: KafkaMessage) -> None:
        """Handle the records of one poll in order (one ledger transaction, usually); commit
        exactly the handled ones.

        On a failure, what was handled is committed, every partition of the batch is rewound to
        its first unhandled record (so no later commit can cover it) and the subscriber pauses;
        unless the first unhandled record is a poison one: it is dead-lettered and the rest of the
        poll goes on.
        """
        raw = msg.raw_message
        records: tuple[ConsumerRecord[Any, Any], ...] = raw if isinstance(raw, tuple) else (raw,)
        consumer: Any = msg.consumer
        done: dict[TopicPartition, int] = {}
        position = 0
        while position < len(records):
            try:
                await self._handler.handle_batch([_record(rec) for rec in records[position:]])
            except BaseException as raised:  # noqa: BLE001 - a cancellation is re-raised below
                exc, handled = _interruption(raised)
                self._handled(records[position : position + len(handled)], done)
                position += len(handled)
                if position < len(records) and isinstance(exc, Exception):
                    rec = records[position]
                    with bound(topic=rec.topic, partition=rec.partition, offset=rec.offset):
                        if await self._poison(rec, exc):
                            self._handled([rec], done)
                            position += 1
                            continue
                await self._give_back(consumer, records[position:], done)
                if not isinstance(exc, Exception):
                    raise exc from None  # cancelled: shutting down
                if position < len(records):
                    rec = records[position]
                    with bound(topic=rec.topic, partition=rec.partition, offset=rec.offset):
                        await self._pause(exc)
                    return
                log.error("ingest.after_commit_failed", error=repr(exc))  # all handled anyway
                break
            self._handled(records[position:], done)
            position = len(records)
        await _commit(consumer, done)
        self.refresh_lag()
        self._failures = 0
        self.last_error = None

    def _handled(
        self, records: Sequence[ConsumerRecord[Any, Any]], done: dict[TopicPartition, int]
    ) -> None:
        for rec in records:
            tp = TopicPartition(rec.topic, rec.partition)
            done[tp] = rec.offset
            self._next[tp] = rec.offset + 1
        self.handled += len(records)

    async def _poison(self, rec: ConsumerRecord[Any, Any], exc: Exception) -> bool:
        """Whether the record, not the infrastructure, is what fails: it failed
        ``_POISON_AFTER`` times in a row with an error that is not the ledger's nor the broker's,
        while the ledger answers. It is then dead-lettered
        (reason UNPROCESSABLE) so that one record never stops the stream (DESIGN promise 5)."""
        if isinstance(exc, _INFRASTRUCTURE):
            return False  # the ledger or the broker: wait for it, never drop the record
        position = (rec.topic, rec.partition, rec.offset)
        if self._failing_record != position:
            self._failing_record, self._record_failures = position, 0
        self._record_failures += 1
        if self._record_failures < _POISON_AFTER or not await self._handler.ledger_answers():
            return False
        try:
            await self._handler.give_up(_record(rec), exc)
        except Exception as again:  # noqa: BLE001 - still stuck: the caller pauses and retries
            log.error("ingest.give_up_failed", error=repr(again))
            return False
        log.error("ingest.unprocessable", error=repr(exc))
        self._failing_record, self._record_failures = None, 0
        return True

    async def _give_back(
        self,
        consumer: Any,
        unhandled: Sequence[ConsumerRecord[Any, Any]],
        done: Mapping[TopicPartition, int],
    ) -> None:
        first: dict[TopicPartition, int] = {}
        for rec in unhandled:
            first.setdefault(TopicPartition(rec.topic, rec.partition), rec.offset)
        for tp, offset in first.items():
            # A partition revoked meanwhile needs nothing: its new owner starts from the commit.
            with contextlib.suppress(IllegalStateError):
                consumer.seek(tp, offset)
        with contextlib.suppress(KafkaError):
            await _commit(consumer, done)

    async def _pause(self, exc: Exception) -> None:
        self._failures += 1
        self.last_error = type(exc).__name__
        pause = min(_BACKOFF_CAP_S, _BACKOFF_START_S * 2 ** min(self._failures, 10))
        log.error("ingest.handler_failed", error=repr(exc), retry_in_s=pause)
        await asyncio.sleep(pause)

    async def refresh_lags(self) -> None:
        """Both lag gauges: the fetcher's estimate, and per partition the broker's figure
        (``relais_kafka_consumer_lag{topic,partition}``, ``lag.py``)."""
        self.refresh_lag()
        await self.refresh_partition_lag()

    async def refresh_partition_lag(self) -> None:
        """``relais_kafka_consumer_lag{topic,partition}`` from the broker (``lag.py``)."""
        consumer: Any = getattr(self.subscriber, "consumer", None)
        if self.lag is not None and consumer is not None:
            await self.lag.refresh(consumer)

    def refresh_lag(self) -> None:
        """``relais_consumer_lag_messages{topic}``: end of each assigned partition minus the next
        offset to handle, summed per topic. Called periodically, so a stuck subscriber shows its
        lag growing (the fetcher keeps learning the partitions' ends)."""
        consumer: Any = getattr(self.subscriber, "consumer", None)
        if self._metrics is None or consumer is None:
            return
        per_topic: dict[str, int] = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is None:
                continue
            position = self._next.get(tp)
            if position is None:
                continue
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, end - position)
        for topic, lag in per_topic.items():
            self._metrics.consumer_lag.labels(topic=topic).set(lag)


def _interruption(raised: BaseException) -> tuple[BaseException, Sequence[Result]]:
    """What stopped a poll and the results of the records handled before it."""
    if isinstance(raised, BatchInterrupted):
        return raised.cause, raised.handled
    return raised, ()
