"""Relay: the transactional outbox -> the status topic, at least once, in outbox order.

The outbox is written in the same transaction as each outcome (ingest, dispatch, poll); the relay
is the only writer of status events to Kafka (STYLE 9). One loop:

    batch = ledger.outbox_batch(n)      # oldest first (= per-dossier order)
    sink.publish(batch)                 # sent in order, ALL acknowledged (acks=all) on return
    ledger.mark_published(seqs)         # only then

A crash between publish and mark publishes the batch again with the same event ids (consumers
dedupe on ``ce_id``). A failed publish marks nothing and the same batch is tried again after a
pause, so a later row never overtakes an earlier one.

Except a row that can never be published (DESIGN: "a row that cannot be published is set aside
and reported, never blocks the rest"): larger than ``MAX_STATUS_BYTES``, or refused by the broker
for itself (``Unpublishable``: too large for it, an invalid topic). The rows before it that the
broker acknowledged are marked published, the row is reported (``SetAsideReporter``: a record on
the DLQ topic saying why, without its key nor value) then ``ledger.set_aside``, and the rows after
it flow on. ``check`` (readiness) fails while the relay has made no progress for ``stuck_after_s``
(every turn failing: broker down, or a fault no one classified yet).

Only one relay may publish at a time, or two replicas could interleave their batches and reorder a
dossier's statuses: each loop turn first makes sure this process holds the ``Leadership`` (a
PostgreSQL advisory lock, a file lock for SQLite), and stops publishing as soon as it lost it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from relais.errors import RelaisError
from relais.services.ledger_port import Ledger, OutboxMessage, OutboxRecord
from relais.services.statuses import MAX_STATUS_BYTES, message_size
from relais.tracing import Span, SpanKind, StatusCode, Tracing, context_of

_FAILURE_PAUSE_START_S = 0.2
_FAILURE_PAUSE_CAP_S = 10.0
STUCK_AFTER_S = 60.0  # readiness fails after this long without a successful turn

TOO_LARGE = "TOO_LARGE"  # set-aside reason: over MAX_STATUS_BYTES, or too large for the broker
MAX_TYPE = 100  # characters of a status type reported with a row set aside


class Unpublishable(RelaisError):
    """The broker refuses the message at ``index`` of a publish for the message itself (too large,
    an invalid topic): retrying cannot help. Every message before it was acknowledged."""

    code = "UNPUBLISHABLE"

    def __init__(self, message: str, *, index: int, reason: str) -> None:
        super().__init__(message)
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class SetAside:
    """What is reported of a row set aside: where it is and why, nothing of its content."""

    seq: int
    event_id: str  # the status event's own id (a uuid5, no personal data)
    status_type: str
    size: int  # bytes (key + headers + value)
    reason: str


class SetAsideReporter(Protocol):
    async def report_set_aside(self, row: SetAside) -> None:
        """Publish a record saying a row was set aside (DLQ topic); return once durable."""
        ...


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

    def on_set_aside(self, row: SetAside) -> None: ...


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
        reporter: SetAsideReporter | None = None,
        stuck_after_s: float = STUCK_AFTER_S,
        tracing: Tracing | None = None,
    ) -> None:
        self._ledger = ledger
        self._tracing = tracing if tracing is not None else Tracing.off()
        self._sink = sink
        self._leadership: Leadership = leadership if leadership is not None else AlwaysLeader()
        self._batch_size = batch_size
        self._idle_s = idle_s
        self._final_drain_s = final_drain_s
        self._observer = observer
        # Set by the roles of this process after a commit that wrote outbox rows: the idle pause
        # ends at once (across processes, the ``idle_s`` poll is what remains).
        self._wake = wake if wake is not None else asyncio.Event()
        self._reporter = reporter
        self._stuck_after_s = stuck_after_s
        self._failing_since: float | None = None  # monotonic time of the first failed turn
        self._turn_since: float | None = None  # monotonic start of the publish under way
        self.last_error: str | None = None
        # Status events the broker acknowledged, counted before they are marked published: once
        # the outbox backlog reads 0, this count is final (tests wait on that, not on a pause).
        self.published = 0
        self.set_aside = 0
        self.is_leader = False

    async def publish_once(self) -> int:
        """Publish one batch; the number of outbox rows done (published or set aside; 0: nothing
        to do). A row that can never be published is set aside, not retried (module docstring)."""
        batch = await self._ledger.outbox_batch(self._batch_size)
        if not batch:
            return 0
        messages = [record.message for record in batch]
        sizes = [message_size(m) for m in messages]
        end = next((i for i, size in enumerate(sizes) if size > MAX_STATUS_BYTES), len(batch))
        reason = TOO_LARGE
        try:
            if end:
                with self._publish_spans(messages[:end]) as traced:
                    await self._sink.publish(traced)
        except Unpublishable as exc:
            end, reason = exc.index, exc.reason
        if end:
            self.published += end  # acknowledged: counted before the mark (see __init__)
            await self._ledger.mark_published([record.seq for record in batch[:end]])
            if self._observer is not None:
                self._observer.on_published(messages[:end])
        if end < len(batch):
            await self._set_aside(batch[end], sizes[end], reason)
            return end + 1
        return end

    @contextlib.contextmanager
    def _publish_spans(self, messages: list[OutboxMessage]) -> Iterator[list[OutboxMessage]]:
        """Tracing on: a PRODUCER span per status event that kept a trace context (the span that
        decided it: ingest's, dispatch's), its child, ended once the broker acknowledged the
        batch; the record carries that span's ``traceparent``/``tracestate`` instead (same
        length, same size). A row without one (poll's, or written with tracing off) goes as is."""
        if not self._tracing.enabled:
            yield messages
            return
        spans: list[tuple[int, Span]] = []
        traced: list[OutboxMessage] = []
        for index, message in enumerate(messages):
            span = self._tracing.start_linked(
                "relay publish",
                kind=SpanKind.PRODUCER,
                parent=message.headers,
                attributes=_publish_attributes(message),
            )
            if span is None:
                traced.append(message)
                continue
            spans.append((index, span))
            headers = {**message.headers, **context_of(span)}
            traced.append(dataclasses.replace(message, headers=headers))
        try:
            yield traced
        except BaseException as exc:
            # the messages before an unpublishable one were acknowledged: not theirs the failure
            first = exc.index if isinstance(exc, Unpublishable) else 0
            for _, span in (item for item in spans if item[0] >= first):
                span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            for _, span in spans:
                span.end()

    async def _set_aside(self, record: OutboxRecord, size: int, reason: str) -> None:
        row = SetAside(
            seq=record.seq,
            event_id=record.message.event_id,
            status_type=record.message.headers.get("ce_type", "unknown")[:MAX_TYPE],
            size=size,
            reason=reason,
        )
        if self._reporter is not None:
            await self._reporter.report_set_aside(row)  # durable before the row leaves the queue
        await self._ledger.set_aside(record.seq, reason)
        self.set_aside += 1
        if self._observer is not None:
            self._observer.on_set_aside(row)

    async def check(self) -> None:
        """Readiness: raises when every turn has failed for ``stuck_after_s`` (the outbox does not
        move: the broker refuses, the ledger fails...), or one turn has lasted that long."""
        now = time.monotonic()
        if self._failing_since is not None and now - self._failing_since >= self._stuck_after_s:
            raise ConnectionError(f"relay stuck: {self.last_error}")
        if self._turn_since is not None and now - self._turn_since >= self._stuck_after_s:
            raise ConnectionError("relay stuck: a publish does not return")

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
                        self._turn_since = time.monotonic()
                        try:
                            count = await self.publish_once()
                        finally:
                            self._turn_since = None
                        pause = 0.0 if count >= self._batch_size else self._idle_s
                        wakeable = True
                    else:
                        pause = max(self._idle_s, 1.0)
                    failures = 0
                    self._failing_since, self.last_error = None, None
                except Exception as exc:  # noqa: BLE001 - broker or ledger down: pause, retry
                    failures += 1
                    if self._failing_since is None:
                        self._failing_since = time.monotonic()
                    self.last_error = type(exc).__name__
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


def _publish_attributes(message: OutboxMessage) -> dict[str, str]:
    """What a publish span names: ids, the status type, the CFA SIRET and the OPCO (headers)."""
    headers = message.headers
    out = {
        "messaging.system": "kafka",
        "messaging.operation.type": "publish",
        "messaging.message.id": message.event_id,
        "relais.status_type": headers.get("ce_type", "unknown")[:MAX_TYPE],
    }
    for header, name in (("ce_cfa", "relais.cfa"), ("ce_opco", "relais.opco")):
        if header in headers:
            out[name] = headers[header]
    if message.topic is not None:
        out["messaging.destination.name"] = message.topic
    return out
