"""Reads a contender's output topic and notes when each event got its terminal answer.

Reading is cheap on purpose (headers only, no JSON): the harness shares the cores with what it
measures. A relais status names its CFA event in ``ce_correlationid`` and its outcome in
``ce_type`` (``fr.relais.status.<name>.v1``); the naive bridge writes the same two headers; the
bare pipe copies the CFA event itself (``ce_id``), which counts as its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

TERMINAL = frozenset({"submitted", "rejected", "failed", "dead_lettered"})
_PREFIX = "fr.relais.status."


@dataclass
class Seen:
    at: float  # monotonic
    status: str
    wall: float = 0.0  # epoch seconds


@dataclass
class Collector:
    bootstrap: str
    topic: str
    pipe: bool = False  # every record is an answer (the bare pipe's copies)
    terminal: dict[str, Seen] = field(default_factory=dict)
    duplicates: int = 0  # a second terminal record for an event (at-least-once redelivery)
    notes: Counter[str] = field(default_factory=Counter)  # received, retrying, etat_changed...
    records: int = 0
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=4_194_304,
        )
        await consumer.start()
        partitions = consumer.partitions_for_topic(self.topic)
        while not partitions:
            await asyncio.sleep(0.1)
            await consumer._client.force_metadata_update()  # the topic was just created
            partitions = consumer.partitions_for_topic(self.topic)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(), name=f"collector-{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now, wall = time.monotonic(), time.time()
            for records in batches.values():
                for rec in records:
                    self._observe(rec.headers, now, wall)
            if batches:
                self._changed.set()

    def _observe(self, headers: list[tuple[str, bytes]], now: float, wall: float) -> None:
        self.records += 1
        h = {k: v for k, v in headers if k in ("ce_id", "ce_type", "ce_correlationid")}
        if self.pipe:
            event_id, status = h.get("ce_id", b"").decode(), "piped"
        else:
            event_id = h.get("ce_correlationid", b"").decode()
            ce_type = h.get("ce_type", b"").decode()
            status = ce_type[len(_PREFIX) : -3] if ce_type.startswith(_PREFIX) else ce_type
            if status not in TERMINAL:
                self.notes[status] += 1
                return
        if event_id in self.terminal:
            self.duplicates += 1
        else:
            self.terminal[event_id] = Seen(now, status, wall)

    def done(self, ids: set[str] | frozenset[str]) -> int:
        return sum(1 for i in ids if i in self.terminal)

    async def wait_for(self, ids: set[str] | frozenset[str], timeout_s: float) -> bool:
        """Until every id has its terminal answer (True) or ``timeout_s`` passed (False)."""
        deadline = time.monotonic() + timeout_s
        missing = {i for i in ids if i not in self.terminal}
        while missing:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            missing = {i for i in missing if i not in self.terminal}
        return True
