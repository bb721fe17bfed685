"""The ingest handler: the records of one poll in order, each decided (``decide``), then written
by the batch writer (``writer``); the subscriber commits the offsets of the handled ones."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from relais.domain.dates import paris_today
from relais.domain.events import EventType
from relais.domain.records import Record
from relais.services.clock import Clock, SystemClock
from relais.services.ingest import answers, framing
from relais.services.ingest.answers import Plan
from relais.services.ingest.authorize import IngestPolicy
from relais.services.ingest.decide import Context, FollowUp, KnownDossier, decide
from relais.services.ingest.framing import SchemaRegistry
from relais.services.ingest.hygiene import text_headers
from relais.services.ingest.records import DeadLetterSink, IngestObserver, Result
from relais.services.ingest.rules import Rules
from relais.services.ingest.writer import BatchWriter, Wakeups
from relais.services.ledger_port import Accept, CommandKind, Ledger
from relais.tracing import SpanKind, Tracing, from_headers


class BatchInterrupted(Exception):
    """A poll stopped before its end: ``handled`` are the results of the records made durable
    before it (``records[len(handled)]`` is the first not handled: the caller commits the
    offsets before it and sees it again); ``cause`` is what stopped it, an error or a
    cancellation (the caller re-raises a cancellation)."""

    def __init__(self, handled: Sequence[Result], cause: BaseException) -> None:
        super().__init__(f"{len(handled)} record(s) handled, then {cause!r}")
        self.handled = tuple(handled)
        self.cause = cause


class IngestHandler:
    def __init__(
        self,
        ledger: Ledger,
        dead_letters: DeadLetterSink,
        *,
        rules: Rules,
        policy: IngestPolicy | None = None,
        clock: Clock | None = None,
        observer: IngestObserver | None = None,
        wake_dispatch: asyncio.Event | None = None,
        wake_relay: asyncio.Event | None = None,
        tracing: Tracing | None = None,
        registry: SchemaRegistry | None = None,
    ) -> None:
        self._ledger = ledger
        self._tracing = tracing if tracing is not None else Tracing.off()
        self._dead_letters = dead_letters
        self._rules = rules
        self._policy = policy or IngestPolicy()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._observer = observer
        self._wakeups = Wakeups(dispatch=wake_dispatch, relay=wake_relay)
        self._registry = registry

    async def handle(self, record: Record) -> Result:
        """One record to one durable outcome (``handle_batch`` of one)."""
        try:
            return (await self.handle_batch([record]))[0]
        except BatchInterrupted as stop:
            raise stop.cause from None

    async def handle_batch(self, records: Sequence[Record]) -> list[Result]:
        """The records of one poll, in order, to one outcome each, in as few ledger transactions
        as their order allows (one, usually); the results in record order.

        Per record, the decision is taken first (``decide``: CPU, plus reads of the ledger for
        follow-ups); then the writer publishes the dead letters (awaited) and writes every inbox
        row, command and status of the poll in ONE ``ledger.ingest_batch``. A follow-up whose
        dossier is decided earlier in the same poll first has what precedes it written, so that
        it reads the ledger as one-by-one handling would.

        Raises ``BatchInterrupted`` (carrying the results of the records made durable) when a
        record cannot be handled now.
        """
        writer = self._writer()
        try:
            for record in records:
                try:
                    plan = await self._traced_decide(record, writer)
                except Exception:
                    await writer.flush()  # the decisions before this record stand
                    raise
                writer.add(record, plan)
            await writer.flush()
        except BaseException as exc:  # cancellations too: the caller commits what is durable
            raise BatchInterrupted(writer.written, exc) from exc
        return writer.written

    async def _traced_decide(self, record: Record, writer: BatchWriter) -> Plan:
        """``_decide`` in the record's ingest span (tracing on): the child of its
        ``traceparent`` header, else a new root; the command and statuses decided in it keep
        its context (``relais.tracing``)."""
        if not self._tracing.enabled:
            return await self._decide(record, writer)
        with self._tracing.span(
            f"ingest {record.topic}",
            kind=SpanKind.CONSUMER,
            parent=from_headers(record.headers),
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
            },
        ) as span:
            plan = await self._decide(record, writer)
            if span is not None:
                result, entry = plan.result, plan.entry
                cfa = entry.command.cfa if isinstance(entry, Accept) else entry.cfa
                span.set_attribute("relais.outcome", result.outcome.value)
                for name, value in (
                    ("relais.event_id", result.event_id),
                    ("relais.cfa", cfa),
                    ("relais.opco", result.opco.value if result.opco else None),
                ):
                    if value is not None:
                        span.set_attribute(name, value)
            return plan

    async def _decide(self, record: Record, writer: BatchWriter) -> Plan:
        now = self._clock.now()
        schemas = await self._schema_types(record)
        context = Context(self._policy, self._rules, now, paris_today(now), schemas)
        step = decide(record, context)
        if not isinstance(step, FollowUp):
            return step
        if writer.decides_any(step.cfa, step.dossier_ids):
            await writer.flush()  # read the ledger as if the poll's records came one by one
        known = {d: await self._known_dossier(step.cfa, d) for d in step.dossier_ids}
        return step.decide(known, self._clock.now())

    async def _schema_types(self, record: Record) -> dict[int, EventType | None]:
        """The relais event type of the schema framing the record's value, from the registry
        (cached by the adapter); nothing when the value is not framed or no registry is set."""
        if self._registry is None or not record.value:
            return {}
        framed = framing.unframe(record.value)
        if framed is None:
            return {}
        schema = await self._registry.schema(framed.schema_id)
        return {framed.schema_id: framing.event_type_of(schema)}

    async def _known_dossier(self, cfa: str, dossier_id: str) -> KnownDossier | None:
        record = await self._ledger.dossier(cfa, dossier_id)
        if record is not None:
            return KnownDossier(record.opco, record.numero_interne)
        for command in await self._ledger.commands_for(cfa, dossier_id):
            if command.kind == CommandKind.DOSSIER:
                return KnownDossier(command.opco)
        return None

    async def ledger_answers(self) -> bool:
        try:
            await self._ledger.ping()
        except Exception:  # noqa: BLE001 - a probe: any failure means "no"
            return False
        return True

    async def give_up(self, record: Record, error: BaseException) -> Result:
        """Dead-letter a record that keeps failing for a reason of its own (a bug, data a
        database refuses) while the ledger answers: identified by its position only."""
        detail = f"relais could not process this record ({type(error).__name__})"
        hdrs = text_headers(record.headers)
        plan = answers.dead_lettered(record, hdrs, "UNPROCESSABLE", detail, self._clock.now())
        [result] = await self._writer().write([(record, plan)], latency=False)
        return result

    def _writer(self) -> BatchWriter:
        return BatchWriter(
            self._ledger,
            self._dead_letters,
            self._clock,
            observer=self._observer,
            wakeups=self._wakeups,
        )
