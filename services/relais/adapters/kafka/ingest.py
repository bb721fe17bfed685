"""The ingest subscriber: a thin FastStream entry point around ``IngestHandler``.

Delivery contract (DESIGN promise 1, STYLE 7):

* an explicit consumer group, ``AckPolicy.MANUAL``: the offset is committed (``msg.ack()``) only
  after ``IngestHandler.handle`` returned, i.e. after the ledger commit (and, for a dead letter,
  after the DLQ publish was acknowledged by the broker);
* records are handled one at a time per subscriber, so a commit never covers an unhandled record;
* when the handler fails (ledger or DLQ topic unreachable, a bug), the record is NOT committed: the
  consumer seeks back to it (``msg.nack()``) and tries again after a growing pause. Nothing is
  skipped; readiness (``/health/ready``) tells the operator why it is stuck.

FastStream's default parser decodes every header as UTF-8 and its decoder parses JSON bodies; a
garbled record would fail there, before our handler, and be skipped. So this subscriber brings its
own parser (headers decoded leniently for FastStream's bookkeeping only; our handler reads the raw
record) and a decoder that returns the raw bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from relais.config import KafkaSettings
from relais.logging import bound, get_logger
from relais.metrics import Metrics
from relais.services.ingest import IngestHandler, Outcome, Record, Result

log = get_logger("relais.ingest")

_BACKOFF_START_S = 0.2
_BACKOFF_CAP_S = 30.0


async def lenient_parser(
    record: ConsumerRecord[Any, Any],
    original: Callable[[ConsumerRecord[Any, Any]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    clean = dataclasses.replace(
        record,
        headers=[
            (name, (value or b"").decode("utf-8", "replace").encode())
            for name, value in record.headers
        ],
    )
    message = await original(clean)
    message.raw_message = record  # the handler reads the record exactly as it came
    return message


async def raw_decoder(message: StreamMessage[Any], original: Any = None) -> Any:
    return message.body


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
            fields["errors"] = [f"{e.code}@{e.path}" for e in result.errors[:20]]
        if result.reason:
            fields["reason"] = result.reason
        level = "warning" if result.outcome is Outcome.DEAD_LETTERED else "info"
        getattr(log, level)(f"ingest.{result.outcome.value}", **fields)


class IngestSubscriber:
    """Registers the subscriber on ``broker``; ``paused`` reports a failing handler."""

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
        self._lag: dict[TopicPartition, int] = {}
        topics: tuple[str, ...] = () if kafka.input_pattern else (kafka.input_topic,)
        options: dict[str, Any] = {
            "group_id": kafka.group_id,
            "ack_policy": AckPolicy.MANUAL,
            "auto_offset_reset": kafka.auto_offset_reset,
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
        self.subscriber = broker.subscriber(*topics, **options)
        self.subscriber(self._on_message)

    @property
    def failing(self) -> bool:
        return self._failures > 0

    async def _on_message(self, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        assert isinstance(raw, ConsumerRecord)
        record = Record(
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            key=raw.key,
            value=raw.value,
            headers=tuple(raw.headers),
            timestamp_ms=raw.timestamp,
        )
        with bound(topic=raw.topic, partition=raw.partition, offset=raw.offset):
            try:
                await self._handler.handle(record)
            except asyncio.CancelledError:
                await msg.nack()
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: do not commit, retry the record
                await msg.nack()
                self._failures += 1
                self.last_error = type(exc).__name__
                pause = min(_BACKOFF_CAP_S, _BACKOFF_START_S * 2 ** min(self._failures, 10))
                log.error("ingest.handler_failed", error=repr(exc), retry_in_s=pause)
                await asyncio.sleep(pause)
                return
            await msg.ack()
            self._failures = 0
            self.last_error = None
            self.handled += 1
        self._observe_lag(msg, raw)

    def _observe_lag(self, msg: KafkaMessage, raw: ConsumerRecord[Any, Any]) -> None:
        if self._metrics is None:
            return
        highwater = getattr(getattr(msg, "consumer", None), "highwater", None)
        if highwater is None:
            return
        tp = TopicPartition(raw.topic, raw.partition)
        end = highwater(tp)
        if end is None:
            return
        self._lag[tp] = max(0, end - raw.offset - 1)
        total = sum(v for k, v in self._lag.items() if k.topic == raw.topic)
        self._metrics.consumer_lag.labels(topic=raw.topic).set(total)
