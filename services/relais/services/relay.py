"""Relay: the transactional outbox -> the status topic, at least once, in outbox order.

The outbox is written in the same transaction as each outcome (ingest, dispatch, poll); the relay
is the only writer of status events to Kafka (STYLE 9). One loop:

    batch = ledger.outbox_batch(n)      # oldest first (= per-dossier order)
    sink.publish(batch)                 # sent in order, ALL acknowledged (acks=all) on return
    ledger.mark_published(seqs)         # only then

A crash between publish and mark publishes the batch again with the same event ids (consumers
dedupe on ``ce_id``). A failed publish marks nothing and the same batch is tried again after a
pause, so a later row never overtakes an earlier one.

Only one relay may publish at a time, or two replicas could interleave their batches and reorder a
dossier's statuses: each loop turn first makes sure this process holds the ``Leadership`` (a
PostgreSQL advisory lock, a file lock for SQLite), and stops publishing as soon as it lost it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol

from relais.services.ledger_port import Ledger, OutboxMessage

_FAILURE_PAUSE_START_S = 0.2
_FAILURE_PAUSE_CAP_S = 10.0


class StatusSink(Protocol):
    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        """Send in order; return once the broker acknowledged every message, else raise."""
        ...


class Leadership(Protocol):
    async def acquire(self) -> bool:
        """Try to become (or stay) the single active relay; never blocks for long."""
        ...

    async def release(self) -> None: ...


class AlwaysLeader:
    """One relay per ledger by construction (tests, a single process on a private ledger)."""

    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class RelayObserver(Protocol):
    def on_published(self, messages: Sequence[OutboxMessage]) -> None: ...

    def on_failure(self, error: BaseException) -> None: ...


class Relay:
    def __init__(
        self,
        ledger: Ledger,
        sink: StatusSink,
        *,
        leadership: Leadership | None = None,
        batch_size: int = 500,
        idle_s: float = 0.2,
        final_drain_s: float = 5.0,
        observer: RelayObserver | None = None,
        wake: asyncio.Event | None = None,
    ) -> None:
        self._ledger = ledger
        self._sink = sink
        self._leadership: Leadership = leadership if leadership is not None else AlwaysLeader()
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._final_drain_s = final_drain_s
        self._observer = observer
        # Set by the roles of this process after a commit that wrote outbox rows: the idle pause
        # ends at once (across processes, the ``idle_s`` poll is what remains).
        self._wake = wake if wake is not None else asyncio.Event()
        # Status events the broker acknowledged, counted before they are marked published: once
        # the outbox backlog reads 0, this count is final (tests wait on that, not on a pause).
        self.published = 0
        self.is_leader = False

    async def publish_once(self) -> int:
        """Publish one batch; the number of status events published (0: nothing to do)."""
        batch = await self._ledger.outbox_batch(self._batch_size)
        if not batch:
            return 0
        messages = [record.message for record in batch]
        await self._sink.publish(messages)
        self.published += len(messages)
        await self._ledger.mark_published([record.seq for record in batch])
        if self._observer is not None:
            self._observer.on_published(messages)
        return len(messages)

    async def drain(self) -> int:
        """Publish until the outbox is empty (shutdown, tests)."""
        total = 0
        while n := await self.publish_once():
            total += n
        return total

    def notify(self) -> None:
        """Outbox rows were just committed in this process: publish now, not after the pause."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        forward = asyncio.create_task(self._forward(stop))
        try:
            while not stop.is_set():
                pause = self._idle_s
                wakeable = False
                try:
                    self.is_leader = await self._leadership.acquire()
                    if self.is_leader:
                        self._wake.clear()  # a commit from now on is seen by this turn or the next
                        count = await self.publish_once()
                        pause = 0.0 if count >= self._batch_size else self._idle_s
                        wakeable = True
                    else:
                        pause = max(self._idle_s, 1.0)
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - broker or ledger down: pause, retry
                    failures += 1
                    if self._observer is not None:
                        self._observer.on_failure(exc)
                    pause = min(_FAILURE_PAUSE_CAP_S, _FAILURE_PAUSE_START_S * 2**failures)
                if pause > 0:
                    # Only the idle pause of a leader ends early on a wake-up; a follower and a
                    # failure backoff wait their time (stop ends every pause).
                    waiter = self._wake if wakeable else stop
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waiter.wait(), timeout=pause)
                else:
                    await asyncio.sleep(0)
            if self.is_leader:
                # Shutdown: publish what the other roles left in the outbox, within bounds.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.drain(), self._final_drain_s)
        finally:
            forward.cancel()
            self.is_leader = False
            with contextlib.suppress(Exception):
                await self._leadership.release()

    async def _forward(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()
