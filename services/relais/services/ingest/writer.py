"""The batch writer: the decisions of a poll, durable in as few ledger transactions as their
order allows (one, usually). Per write: the dead letters first (awaited: durable before their
status can be), then ONE ``Ledger.ingest_batch`` with every inbox row, command and status.

An event seen before (same CFA, same ce_id: a resend, or a redelivery) writes nothing new: it is
answered with the status it already has (``Ledger.republish``: its latest status queued again
under its own id, a duplicate delivery that consumers drop by ``ce_id``). That second write comes
after the first commit; a crash between them redelivers the record (its offset is not committed
yet), which asks again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace

from relais.domain.records import Record
from relais.logging import bound
from relais.services.clock import Clock
from relais.services.ingest.answers import Plan
from relais.services.ingest.records import (
    DeadLetterSink,
    IngestObserver,
    Outcome,
    Result,
)
from relais.services.ledger_port import Accept, Ledger, Reject


@dataclass(frozen=True)
class Wakeups:
    """Set after a ledger commit that accepted a command / wrote status rows, for a dispatcher
    and a relay running in this process (they poll otherwise)."""

    dispatch: asyncio.Event | None = None
    relay: asyncio.Event | None = None

    def committed(self, *, accepted: bool, outbox: bool) -> None:
        if accepted and self.dispatch is not None:
            self.dispatch.set()
        if outbox and self.relay is not None:
            self.relay.set()


class BatchWriter:
    """The decisions of one poll not written yet, and the results of those written (in record
    order: ``written[i]`` is the result of the i-th record decided)."""

    def __init__(
        self,
        ledger: Ledger,
        dead_letters: DeadLetterSink,
        clock: Clock,
        *,
        observer: IngestObserver | None = None,
        wakeups: Wakeups | None = None,
    ) -> None:
        self._ledger = ledger
        self._dead_letters = dead_letters
        self._clock = clock
        self._observer = observer
        self._wakeups = wakeups or Wakeups()
        self._pending: list[tuple[Record, Plan]] = []
        self._dossiers: set[tuple[str, str]] = set()  # (cfa, dossier id) of pending commands
        self._sent: set[int] = set()  # ids of the plans whose dead letter is on the DLQ topic
        self.written: list[Result] = []

    def add(self, record: Record, plan: Plan) -> None:
        self._pending.append((record, plan))
        if isinstance(plan.entry, Accept):
            self._dossiers.add((plan.entry.command.cfa, plan.entry.command.dossier_id))

    def decides_any(self, cfa: str, dossier_ids: Sequence[str]) -> bool:
        """Whether a pending decision is about one of these dossiers (then flush before reading
        the ledger about them, as if the poll's records came one by one)."""
        return any((cfa, d) in self._dossiers for d in dossier_ids)

    async def flush(self) -> None:
        """Write what is pending. A write failing for another reason than the infrastructure is
        retried record by record, so that the record to blame is the first not written."""
        pending, self._pending = self._pending, []
        self._dossiers.clear()
        if not pending:
            return
        try:
            await self.write(pending)
        except Exception:
            if len(pending) == 1:
                raise
            # One record at a time: the first that fails is the first unhandled one (a record the
            # database refuses must not hold back the others, see the Kafka adapter's poison).
            for item in pending:
                await self.write([item])

    async def write(
        self, items: Sequence[tuple[Record, Plan]], *, latency: bool = True
    ) -> list[Result]:
        """Dead letters first (durable before their status can be), then one transaction."""
        for _, plan in items:
            if plan.letter is not None and id(plan) not in self._sent:
                await self._dead_letters.dead_letter(plan.letter)
                self._sent.add(id(plan))
        news = await self._ledger.ingest_batch([plan.entry for _, plan in items])
        written = [plan.entry for new, (_, plan) in zip(news, items, strict=True) if new]
        seen = [
            _identity(plan.entry) for new, (_, plan) in zip(news, items, strict=True) if not new
        ]
        republished = await self._ledger.republish(list(dict.fromkeys(seen))) if seen else 0
        self._wakeups.committed(
            accepted=any(isinstance(entry, Accept) for entry in written),
            outbox=republished > 0 or any(entry.statuses for entry in written),
        )
        results: list[Result] = []
        for new, (record, plan) in zip(news, items, strict=True):
            result = plan.result if new else replace(plan.result, outcome=Outcome.DUPLICATE)
            results.append(result)
            if self._observer is not None:
                with bound(topic=record.topic, partition=record.partition, offset=record.offset):
                    self._observer.on_result(
                        result, self._latency(record, result) if latency else None
                    )
        self.written.extend(results)
        return results

    def _latency(self, record: Record, result: Result) -> float | None:
        """Event time -> terminal status, for outcomes that are terminal at ingest."""
        if result.outcome not in (Outcome.REJECTED, Outcome.DEAD_LETTERED):
            return None
        if record.timestamp_ms is None or record.timestamp_ms <= 0:
            return None
        return max(0.0, self._clock.now().timestamp() - record.timestamp_ms / 1000)


def _identity(entry: Accept | Reject) -> tuple[str, str]:
    """(CFA, event id) of a ledger entry: the key of its inbox row (CFA '' when not established)."""
    if isinstance(entry, Accept):
        return entry.command.cfa, entry.command.event_id
    return entry.cfa or "", entry.event_id
