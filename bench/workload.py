"""The load: pre-generated CFA dossier events, produced in batches (burst) or at a fixed rate.

Events come from ``relais.sampledata.Generator`` (valid dossiers, real keys of SIRET/NIR/UAI...),
cycling over the OPCO that accept dossiers, and are turned into Kafka records before the clock
starts: the load generator only appends ready bytes to the producer (it shares the 2 cores).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from relais.domain.events import structured_to_record
from relais.domain.opco import OpcoCode
from relais.sampledata import Generator


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    opco: str
    key: bytes
    headers: list[tuple[str, bytes]]
    value: bytes


def generate(generator: Generator, n: int, opcos: Sequence[OpcoCode]) -> list[Event]:
    """``n`` fresh dossier events (new natural keys: no duplicate at the simulator)."""
    out: list[Event] = []
    for d in generator.dossiers(n, opcos):
        record = structured_to_record(d.event)
        out.append(Event(d.event_id, d.opco.value, record.key, record.headers, record.value))
    return out


class Producer:
    """One aiokafka producer for the harness; ``sent_at[event id]`` = monotonic send time."""

    def __init__(self, bootstrap: str, *, burst: bool) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            linger_ms=10 if burst else 0,
            max_batch_size=1_048_576 if burst else 65_536,
            max_request_size=4_194_304,
        )
        self.sent_at: dict[str, float] = {}
        self.sent_wall: dict[str, float] = {}  # epoch seconds: compared with relais's log lines

    async def __aenter__(self) -> Producer:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def burst(self, topic: str, events: Sequence[Event], chunk: int = 2000) -> float:
        """Send everything as fast as the broker takes it; the seconds it took."""
        start = time.monotonic()
        for i in range(0, len(events), chunk):
            futures = []
            for e in events[i : i + chunk]:
                self.sent_at[e.id] = time.monotonic()
                self.sent_wall[e.id] = time.time()
                futures.append(
                    await self._producer.send(topic, e.value, key=e.key, headers=e.headers)
                )
            await asyncio.gather(*futures)
        return time.monotonic() - start

    async def paced(self, topic: str, events: Sequence[Event], rate_per_s: float) -> float:
        """Send event i at ``start + i / rate``; the achieved rate (events/s)."""
        start = time.monotonic()
        futures = []
        i = 0
        while i < len(events):
            now = time.monotonic()
            due = min(len(events), int((now - start) * rate_per_s) + 1)
            while i < due:
                e = events[i]
                self.sent_at[e.id] = time.monotonic()
                self.sent_wall[e.id] = time.time()
                futures.append(
                    await self._producer.send(topic, e.value, key=e.key, headers=e.headers)
                )
                i += 1
            if i < len(events):
                next_at = start + i / rate_per_s
                await asyncio.sleep(max(0.001, next_at - time.monotonic()))
        await asyncio.gather(*futures)
        elapsed = time.monotonic() - start
        return len(events) / elapsed if elapsed > 0 else 0.0
