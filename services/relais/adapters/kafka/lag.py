"""Consumer lag as the broker counts it: per partition, the high watermark minus the group's
committed offset (``relais_kafka_consumer_lag{topic,partition}``).

The figure the KEDA trigger and the alert rules use. It is read from the broker (ListOffsets for
the high watermarks, OffsetFetch for the commits) every few seconds, not from the fetcher's
buffer: a stuck ingest still shows its lag growing, and the number equals what
``kafka-consumer-groups --describe`` prints for the partitions this process owns. A partition the
group never committed counts from its log start (``auto_offset_reset=earliest``: relais reads it
all). A partition revoked from this process leaves the gauge (its new owner reports it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from relais.logging import get_logger

log = get_logger("relais.ingest.lag")

_TIMEOUT_S = 10.0


def partition_lags(
    ends: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, int | None],
    starts: Mapping[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """High watermark minus committed offset (the log start when nothing was committed)."""
    lags = {}
    for tp, end in ends.items():
        done = committed.get(tp)
        lags[tp] = max(0, end - (done if done is not None else starts.get(tp, 0)))
    return lags


class PartitionLag:
    """Refreshes ``gauge`` (labels topic, partition) for the partitions ``consumer`` owns."""

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._shown: set[TopicPartition] = set()
        self.last: dict[TopicPartition, int] = {}

    async def refresh(self, consumer: Any) -> dict[TopicPartition, int]:
        """Read the commits, then the ends (so a lag is never understated by a commit racing
        the read), set the gauge; on a broker error keep the last figures and log it."""
        tps = sorted(consumer.assignment())
        try:
            lags = await asyncio.wait_for(_read(consumer, tps), _TIMEOUT_S)
        except (KafkaError, TimeoutError, OSError) as exc:
            log.warning("ingest.lag_unavailable", error=type(exc).__name__)
            return self.last
        for tp in self._shown - set(lags):
            self._gauge.remove(tp.topic, str(tp.partition))
        for tp, lag in lags.items():
            self._gauge.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
        self._shown = set(lags)
        self.last = lags
        return lags


async def _read(consumer: Any, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    if not tps:
        return {}
    committed = {tp: await consumer.committed(tp) for tp in tps}
    ends = await consumer.end_offsets(tps)
    missing = [tp for tp, offset in committed.items() if offset is None]
    starts = await consumer.beginning_offsets(missing) if missing else {}
    return partition_lags(ends, committed, starts)
