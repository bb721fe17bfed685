"""Ingest: one Kafka record of a CFA in, one durable decision in the ledger out.

The Kafka subscriber (``relais.adapters.kafka.ingest``) decodes nothing: it hands the raw records of
a poll to ``IngestHandler.handle_batch`` and commits their offsets only after it returns (DESIGN
promise 1). The handler decides each record in order, then publishes the poll's dead letters, then
writes every decision in ONE ledger transaction (``Ledger.ingest_batch``; the ``accept``/``reject``
below are its entries). For each record it reaches exactly one of four outcomes:

``accepted``       envelope + data + control rules + routing OK -> ``ledger.accept`` writes the
                   inbox row, the command and a ``received`` status in ONE transaction
``rejected``       the event is readable but wrong (envelope attribute, source not allowed on
                   this topic, bad signature, schema, control rules, unknown dossier) ->
                   ``ledger.reject`` with ONE ``rejected`` status carrying every error found
``duplicate``      the event id was already in the inbox: nothing is written again
``dead_lettered``  the record cannot be read as an event (no usable ce_id, required ce_* headers
                   missing, not JSON, not an object, nested deeper than 32 levels, not UTF-8, a
                   NUL in an id, too large, empty) -> the raw record to the DLQ topic (awaited:
                   durable before the offset commit), then ``ledger.reject`` with a
                   ``dead_lettered`` status (for the CFA when its source is established, else
                   for the operators, named by the record's Kafka position)

Anything else (the ledger or the DLQ topic unreachable) raises: the subscriber does not commit and
the record comes again.

The command payload (what dispatch reads) is ``{"type": <ce_type>, "time": <ce_time>, "data":
<the event's data as published, validated>}`` plus, for follow-ups, ``"numeroInterneDossier"`` when
the ledger already knows the OPCO's id; ``command_event`` turns it back into typed data.

Inbox keys: (the CFA's SIRET, its ``ce_id``) for events whose source is trusted: CloudEvents ids
are unique per source only, so the same id from two CFAs is two events. An event refused because
its source may not use this topic or its signature is wrong is keyed by its Kafka position instead
(``kafka:<topic>:<partition>:<offset>``, no CFA), so a forged event can never take the inbox slot
of the real CFA's event id. Its refusal is named by that position too (status id, Kafka key,
``eventId``), carries no CFA and none of the ids it claims, and so goes to the operators' topic
(``kafka.rejected_topic``), never to a CFA's status topic.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from pydantic import SecretStr

from relais.domain.dates import paris_today
from relais.domain.events import (
    KIND_OF_TYPE,
    CertificatSubmittedData,
    CfaEvent,
    ConventionSubmittedData,
    DossierSubmittedData,
    Envelope,
    EnvelopeError,
    ErrorItem,
    EventData,
    EventError,
    EventKind,
    EventType,
    FactureSubmittedData,
    NonFiniteNumberError,
    PayloadError,
    decode_data,
    envelope_from_headers,
    loads_json,
)
from relais.domain.findings import Finding
from relais.domain.opco import OpcoCode
from relais.domain.referentials import Referentials
from relais.domain.status import StatusEvent, Trigger
from relais.domain.validation import validate_cerfa, validate_followup
from relais.logging import bound
from relais.services.clock import Clock, SystemClock
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import (
    Accept,
    CommandKind,
    Ledger,
    NewCommand,
    OutboxMessage,
    Reject,
)
from relais.services.statuses import to_outbox

SIGNATURE_HEADER = "ce_signature"
DLQ_HEADERS = ("dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset")
DLQ_VALUE_DROPPED = "dlq_value_dropped"  # the size of a value left out of the dead letter
DLQ_KEY_DROPPED = "dlq_key_dropped"  # the size of a key left out of the dead letter


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Record:
    """A Kafka record as consumed (headers as the raw (name, bytes) pairs, duplicates kept)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    timestamp_ms: int | None = None

    @property
    def position(self) -> str:
        return f"kafka:{self.topic}:{self.partition}:{self.offset}"


@dataclass(frozen=True)
class DeadLetter:
    """The raw record, unchanged, plus why and where it came from (``dlq_*`` headers)."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    event_id: str | None = None  # ce_id when known
    dossier_id: str | None = None
    kind: EventKind | None = None
    opco: OpcoCode | None = None
    errors: tuple[ErrorItem, ...] = ()
    reason: str | None = None  # dead letters: the dlq_reason code


class DeadLetterSink(Protocol):
    async def dead_letter(self, letter: DeadLetter) -> None:
        """Publish to the DLQ topic and return once the broker has it (acks=all)."""
        ...


class IngestObserver(Protocol):
    def on_result(self, result: Result, latency_s: float | None) -> None: ...


# --------------------------------------------------------------------------------------------
# Control rules and routing (the domain's, behind one seam so the handler is testable alone)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCheck:
    errors: tuple[ErrorItem, ...] = ()
    warnings: tuple[ErrorItem, ...] = ()
    opco: OpcoCode | None = None  # dossiers: the competent OPCO when routing found one


class Rules(Protocol):
    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        """Control rules of the cerfa and the competent OPCO (explicit ``data.opco`` wins)."""
        ...

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        """Control rules of a convention, facture, certificat or rupture body."""
        ...


class ExplicitOpcoRules:
    """No control rules: the event contract only, and the OPCO named in the event. For tests of
    the pipeline's plumbing; production uses the domain's rules (``bootstrap``)."""

    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        if data.opco is None:
            return RuleCheck(
                errors=(
                    ErrorItem(
                        code="ROUTING_NO_OPCO",
                        path="data.opco",
                        message="no competent OPCO could be determined",
                    ),
                )
            )
        return RuleCheck(opco=data.opco)

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        return RuleCheck()


class DomainRules:
    """The standard's control rules and IDCC routing (``relais.domain.validation``)."""

    def __init__(self, referentials: Referentials) -> None:
        self._referentials = referentials

    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        found = validate_cerfa(
            data.cerfa,
            today=today,
            referentials=self._referentials,
            explicit_opco=data.opco.value if data.opco is not None else None,
        )
        return RuleCheck(
            errors=tuple(_item(f, "data.cerfa") for f in found.errors),
            warnings=tuple(_item(f, "data.cerfa") for f in found.warnings),
            opco=found.opco,
        )

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        kind = event.kind.value
        body = event.data.model_dump(mode="json", exclude_none=True).get(kind, {})
        found = validate_followup(kind, body, today=today)
        return RuleCheck(
            errors=tuple(_item(f, f"data.{kind}") for f in found.errors),
            warnings=tuple(_item(f, f"data.{kind}") for f in found.warnings),
        )


def _item(finding: Finding, prefix: str) -> ErrorItem:
    """A domain finding as an event error, its path from the event's root (``data.cerfa...``)."""
    if finding.path == "opco":  # routing speaks of the event's explicit OPCO
        path = "data.opco"
    elif not finding.path:
        path = prefix
    elif finding.path.startswith("["):
        path = f"{prefix}{finding.path}"
    else:
        path = f"{prefix}.{finding.path}"
    return ErrorItem(
        code=finding.code, severity=finding.severity, path=path, message=finding.message
    )


# --------------------------------------------------------------------------------------------
# Signature (optional per-CFA HMAC binding an event to its CFA)
# --------------------------------------------------------------------------------------------


def signing_input(headers: Mapping[str, str], value: bytes) -> bytes:
    """What ``ce_signature`` signs: ce_id, ce_type, ce_source, ce_subject and ce_time exactly as
    sent, one per line, then the record value bytes."""
    parts = [headers.get(f"ce_{name}", "") for name in ("id", "type", "source", "subject", "time")]
    return ("\n".join(parts) + "\n").encode() + value


def sign(secret: str, headers: Mapping[str, str], value: bytes) -> str:
    """Hex HMAC-SHA256 of ``signing_input`` (CFA producers compute the same)."""
    return hmac.new(secret.encode(), signing_input(headers, value), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# The handler
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestPolicy:
    """What ingest needs from the settings (built by ``bootstrap`` from ``Settings``)."""

    max_message_bytes: int = 1_048_576
    # topic -> allowed CFA SIRETs/UAIs ("*": any); empty: any source on any topic.
    topic_sources: Mapping[str, Sequence[str]] = field(default_factory=dict)
    uai_siret: Mapping[str, str] = field(default_factory=dict)
    hmac_secrets: Mapping[str, SecretStr] = field(default_factory=dict)
    require_signature: bool = False

    def topic_may_carry(self, topic: str, *sources: str) -> bool:
        if not self.topic_sources:
            return True
        allowed = self.topic_sources.get(topic)
        if allowed is None:
            return False
        return "*" in allowed or any(s in allowed for s in sources)


class _Reject(Exception):
    def __init__(self, *errors: ErrorItem, inbox_key: str | None = None, trusted: bool = True):
        self.errors = errors
        self.inbox_key = inbox_key
        self.trusted = trusted


def _err(code: str, path: str, message: str) -> ErrorItem:
    return ErrorItem(code=code, path=path, message=message)


def _text_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The ce_* headers that decode as UTF-8 (first occurrence), for correlation only. A value
    longer than ``MAX_ID`` characters is left out, its size checked before it is decoded: what
    comes from a record is bounded before it is copied anywhere (a status, a log line)."""
    out: dict[str, str] = {}
    for name, raw in headers:
        lname = name.lower()
        if not lname.startswith("ce_") or lname in out:
            continue
        text = _bounded_text(
            raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")
        )
        if text is not None:
            out[lname] = text
    return out


def _key_text(key: bytes | None) -> str | None:
    """The Kafka key as text when it is usable as an id (UTF-8, at most ``MAX_ID`` characters,
    storable), else None: the caller then uses ce_subject or the record's position."""
    return _bounded_text(key) if key else None


def _bounded_text(raw: bytes | None) -> str | None:
    if raw is None or len(raw) > 4 * MAX_ID:  # at most 4 bytes a character in UTF-8
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if len(text) > MAX_ID or unsafe_text(text) else text


def unsafe_text(text: str) -> bool:
    """A NUL or a lone surrogate: valid in JSON, refused by PostgreSQL text and jsonb (and a
    record that cannot be written would come back forever)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_characters(obj: Any, root: str) -> list[ErrorItem]:
    """Every string (key or value) of a decoded JSON value that is ``unsafe_text``."""
    found: list[ErrorItem] = []
    stack: list[tuple[Any, str]] = [(obj, root)]
    while stack and len(found) <= MAX_ERRORS:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if unsafe_text(key):
                    found.append(_err("DATA_INVALID_CHARACTER", path, _BAD_CHARACTER))
                    continue
                stack.append((value, f"{path}.{key}"))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(node))
        elif isinstance(node, str) and unsafe_text(node):
            found.append(_err("DATA_INVALID_CHARACTER", path, _BAD_CHARACTER))
    return sorted(found, key=lambda e: e.path)


_BAD_CHARACTER = "contains a NUL character or an invalid surrogate"


def _explicit_numero(data: EventData) -> tuple[str, Any] | None:
    """(path, value) of the OPCO dossier id a follow-up gives itself, if it gives one."""
    if isinstance(data, ConventionSubmittedData) and data.numeroInterneDossier is not None:
        return "data.numeroInterneDossier", data.numeroInterneDossier
    if isinstance(data, CertificatSubmittedData) and "numeroInterneDossier" in data.certificat:
        return "data.certificat.numeroInterneDossier", data.certificat["numeroInterneDossier"]
    return None


def _numero_errors(explicit: tuple[str, Any], known: str | None) -> list[ErrorItem]:
    """An explicit numeroInterneDossier against the ledger's for (CFA, dossier id); neither value
    is echoed (one may be another CFA's)."""
    path, value = explicit
    if known is None:
        return [
            _err(
                "DOSSIER_NUMERO_UNVERIFIABLE",
                path,
                "relais does not know the OPCO's id of this dossier yet, so it cannot check "
                "numeroInterneDossier: leave it out (relais fills it in) or send it later",
            )
        ]
    if value != known:
        return [
            _err(
                "DOSSIER_NUMERO_MISMATCH",
                path,
                "numeroInterneDossier is not the OPCO's id of this CFA's dossier",
            )
        ]
    return []


_KIND_OF_COMMAND = {kind: CommandKind(kind.value) for kind in EventKind}


@dataclass
class _Plan:
    """One record's decision before it is written: its ledger entry, its dead letter (published
    before the entry is written) and its result (``duplicate`` instead when the ledger has seen
    the inbox key)."""

    entry: Accept | Reject
    result: Result
    letter: DeadLetter | None = None
    sent: bool = False  # the dead letter is on the DLQ topic already


class _Batch:
    """The decisions of a poll not written yet, and the results of those written."""

    def __init__(self, handled: list[Result]) -> None:
        self.handled = handled
        self._pending: list[tuple[Record, _Plan]] = []
        self._dossiers: set[tuple[str, str]] = set()  # (cfa, dossier id) of pending commands

    def add(self, record: Record, plan: _Plan) -> None:
        self._pending.append((record, plan))
        if isinstance(plan.entry, Accept):
            self._dossiers.add((plan.entry.command.cfa, plan.entry.command.dossier_id))

    def decides_any(self, cfa: str, dossier_ids: Sequence[str]) -> bool:
        return any((cfa, d) in self._dossiers for d in dossier_ids)

    def take(self) -> list[tuple[Record, _Plan]]:
        pending, self._pending = self._pending, []
        self._dossiers.clear()
        return pending


class IngestHandler:
    def __init__(
        self,
        ledger: Ledger,
        dead_letters: DeadLetterSink,
        *,
        rules: Rules | None = None,
        policy: IngestPolicy | None = None,
        clock: Clock | None = None,
        observer: IngestObserver | None = None,
        wake_dispatch: asyncio.Event | None = None,
        wake_relay: asyncio.Event | None = None,
    ) -> None:
        self._ledger = ledger
        # Set after a ledger commit that accepted a command / wrote status rows, for a dispatcher
        # and a relay running in this process (they poll otherwise).
        self._wake_dispatch = wake_dispatch
        self._wake_relay = wake_relay
        self._dead_letters = dead_letters
        self._rules: Rules = rules if rules is not None else ExplicitOpcoRules()
        self._policy = policy or IngestPolicy()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._observer = observer

    async def handle(self, record: Record) -> Result:
        """One record to one durable outcome (``handle_batch`` of one)."""
        return (await self.handle_batch([record]))[0]

    async def handle_batch(
        self, records: Sequence[Record], handled: list[Result] | None = None
    ) -> list[Result]:
        """The records of one poll, in order, to one outcome each, in as few ledger transactions
        as their order allows (one, usually); the results in record order.

        Per record, the decision is taken first (decode, rules, routing: CPU, plus reads of the
        ledger for follow-ups); then, per segment of decisions: the dead letters are published
        (awaited), then ONE ``ledger.ingest_batch`` writes every inbox row, command and status of
        the segment. A follow-up whose dossier is decided earlier in the same poll first has what
        precedes it written, so that it reads the ledger as one-by-one handling would.

        ``handled`` (when given) receives each result once its record is durable: if this raises,
        ``records[len(handled)]`` is the first record not handled (the caller commits the offsets
        before it and sees that record again). A write failing for another reason than the
        infrastructure is retried record by record, so that the record to blame is that one.
        """
        done: list[Result] = handled if handled is not None else []
        batch = _Batch(done)
        for record in records:
            try:
                plan = await self._plan(record, batch)
            except Exception:
                await self._flush(batch)  # the decisions before this record stand
                raise
            batch.add(record, plan)
        await self._flush(batch)
        return done

    def _committed(self, *, accepted: bool, outbox: bool) -> None:
        if accepted and self._wake_dispatch is not None:
            self._wake_dispatch.set()
        if outbox and self._wake_relay is not None:
            self._wake_relay.set()

    async def ledger_answers(self) -> bool:
        try:
            await self._ledger.ping()
        except Exception:  # noqa: BLE001 - a probe: any failure means "no"
            return False
        return True

    async def give_up(self, record: Record, error: BaseException) -> Result:
        """Dead-letter a record that keeps failing for a reason of its own (a bug, data a
        database refuses) while the ledger answers: identified by its position only."""
        hdrs = _text_headers(record.headers)
        reason = "UNPROCESSABLE"
        detail = f"relais could not process this record ({type(error).__name__})"
        plan = self._dead_letter(record, hdrs, reason, detail)
        done: list[Result] = []
        await self._write(_Batch(done), [(record, plan)], latency=False)
        return done[0]

    # ---------------------------------------------------------------- writes

    async def _flush(self, batch: _Batch) -> None:
        pending = batch.take()
        if not pending:
            return
        try:
            await self._write(batch, pending)
        except Exception:
            if len(pending) == 1:
                raise
            # One record at a time: the first that fails is the first unhandled one (a record the
            # database refuses must not hold back the others, see the Kafka adapter's poison).
            for item in pending:
                await self._write(batch, [item])

    async def _write(
        self, batch: _Batch, items: Sequence[tuple[Record, _Plan]], *, latency: bool = True
    ) -> None:
        """Dead letters first (durable before their status can be), then one transaction."""
        for _, plan in items:
            if plan.letter is not None and not plan.sent:
                await self._dead_letters.dead_letter(plan.letter)
                plan.sent = True
        news = await self._ledger.ingest_batch([plan.entry for _, plan in items])
        written = [plan.entry for new, (_, plan) in zip(news, items, strict=True) if new]
        self._committed(
            accepted=any(isinstance(entry, Accept) for entry in written),
            outbox=any(entry.statuses for entry in written),
        )
        for new, (record, plan) in zip(news, items, strict=True):
            result = plan.result if new else replace(plan.result, outcome=Outcome.DUPLICATE)
            batch.handled.append(result)
            if self._observer is not None:
                with bound(topic=record.topic, partition=record.partition, offset=record.offset):
                    self._observer.on_result(
                        result, self._latency(record, result) if latency else None
                    )

    # ---------------------------------------------------------------- steps

    async def _plan(self, record: Record, batch: _Batch) -> _Plan:
        hdrs = _text_headers(record.headers)
        value = record.value
        if value is None or len(value) == 0:
            return self._dead_letter(record, hdrs, "EMPTY_VALUE", "the record has no value")
        if len(value) > self._policy.max_message_bytes:
            return self._dead_letter(
                record,
                hdrs,
                "TOO_LARGE",
                f"the record value is larger than {self._policy.max_message_bytes} bytes",
            )
        obj, value_problem = parse_value(value)
        try:
            envelope = envelope_from_headers(record.headers, key=record.key)
        except EnvelopeError as exc:
            reason = _undecodable_envelope(exc) or value_problem
            if reason is not None:
                return self._dead_letter(record, hdrs, reason, "", exc)
            return self._reject_unreadable_envelope(record, hdrs, exc)
        if any(unsafe_text(t) for t in (envelope.id, envelope.subject, envelope.source)) or (
            record.key is not None and _key_text(record.key) is None
        ):
            # Nothing of it can be stored or echoed safely: dead letter, identified by position.
            return self._dead_letter(
                record,
                {},
                "ENVELOPE_INVALID_CHARACTER",
                "a ce_* header or the key " + _BAD_CHARACTER,
            )
        trigger_cfa: str | None = None
        try:
            cfa = self._authorize(record, envelope, hdrs, value)
            trigger_cfa = cfa
            if obj is not None and (bad := _bad_characters(obj, "data")):
                raise _Reject(*bad)
            if obj is None:
                assert value_problem is not None
                return self._dead_letter(
                    record,
                    hdrs,
                    value_problem,
                    _VALUE_PROBLEMS[value_problem],
                    envelope=envelope,
                    cfa=cfa,
                )
            try:
                data = decode_data(envelope, obj)  # a JSON object already: schema errors only
            except PayloadError as exc:
                raise _Reject(*exc.errors) from None
            event = CfaEvent(envelope=envelope, data=data)
            return await self._accept(event, cfa, batch)
        except _Reject as rej:
            return self._reject(record, envelope, trigger_cfa, rej)

    def _authorize(
        self, record: Record, envelope: Envelope, hdrs: Mapping[str, str], value: bytes
    ) -> str:
        ref = envelope.source_ref
        if ref.scheme == "uai":
            siret = self._policy.uai_siret.get(ref.value)
            if siret is None:
                raise _Reject(
                    _err(
                        "SOURCE_UNKNOWN_UAI",
                        "ce_source",
                        "this UAI is not mapped to a CFA SIRET in relais's settings",
                    ),
                    inbox_key=record.position,
                    trusted=False,
                )
        else:
            siret = ref.value
        if not self._policy.topic_may_carry(record.topic, siret, ref.value):
            raise _Reject(
                _err(
                    "SOURCE_NOT_ALLOWED_ON_TOPIC",
                    "ce_source",
                    "this CFA may not publish on this topic",
                ),
                inbox_key=record.position,
                trusted=False,
            )
        secret = self._policy.hmac_secrets.get(siret)
        if secret is not None or self._policy.require_signature:
            given = envelope.signature
            if given is None:
                raise _Reject(
                    _err("SIGNATURE_MISSING", SIGNATURE_HEADER, "a signature is required"),
                    inbox_key=record.position,
                    trusted=False,
                )
            if secret is None:
                raise _Reject(
                    _err(
                        "SIGNATURE_UNVERIFIABLE",
                        SIGNATURE_HEADER,
                        "relais has no signature secret for this CFA",
                    ),
                    inbox_key=record.position,
                    trusted=False,
                )
            expected = sign(secret.get_secret_value(), hdrs, value)
            if not hmac.compare_digest(expected, given.lower()):
                raise _Reject(
                    _err(
                        "SIGNATURE_INVALID",
                        SIGNATURE_HEADER,
                        "the signature does not match the event",
                    ),
                    inbox_key=record.position,
                    trusted=False,
                )
        return siret

    async def _accept(self, event: CfaEvent, cfa: str, batch: _Batch) -> _Plan:
        today = paris_today(self._clock.now())
        data = event.data
        numero: str | None = None
        depends_on: list[str] = []
        if isinstance(data, DossierSubmittedData):
            check = self._rules.check_dossier(data, today)
            if check.errors:
                raise _Reject(*check.errors)
            opco = check.opco
            if opco is None:
                raise _Reject(
                    _err("ROUTING_NO_OPCO", "data", "no competent OPCO could be determined")
                )
        else:
            check = self._rules.check_followup(event, today)
            opco, found_errors, numero = await self._followup_opco(event, cfa, batch)
            errors = (*check.errors, *found_errors)
            if errors:
                raise _Reject(*errors)
            assert opco is not None
            if isinstance(data, FactureSubmittedData):
                depends_on = [d for d in data.facture.dossier_ids if d != event.dossier_id]
        command = NewCommand(
            event_id=event.id,
            cfa=cfa,
            dossier_id=event.dossier_id,
            opco=opco.value,
            kind=_KIND_OF_COMMAND[event.kind],
            payload=CommandPayload(event.type, event.envelope.time, data, numero),
            depends_on=tuple(depends_on),
        )
        trigger = Trigger.from_envelope(event.envelope, cfa=cfa)
        received = StatusEvent.received(trigger, occurred_at=self._clock.now(), opco=opco)
        return _Plan(
            Accept(command, [to_outbox(received)]),
            Result(
                Outcome.ACCEPTED,
                event_id=event.id,
                dossier_id=event.dossier_id,
                kind=event.kind,
                opco=opco,
            ),
        )

    async def _followup_opco(
        self, event: CfaEvent, cfa: str, batch: _Batch
    ) -> tuple[OpcoCode | None, list[ErrorItem], str | None]:
        """The OPCO of a follow-up: the one of its dossier(s) in the ledger."""
        data = event.data
        if isinstance(data, FactureSubmittedData):
            ids = data.facture.dossier_ids
            paths = {
                line.dossierId: f"data.facture.lignes[{i}].dossierId"
                for i, line in reversed(list(enumerate(data.facture.lignes)))
            }
        else:
            ids = [event.dossier_id]
            paths = {event.dossier_id: "ce_subject"}
        errors: list[ErrorItem] = []
        opcos: dict[str, str] = {}
        numero: str | None = None
        if batch.decides_any(cfa, ids):
            await self._flush(batch)  # read the ledger as if the poll's records came one by one
        for dossier_id in ids:
            opco_code, numero_interne = await self._dossier_opco(cfa, dossier_id)
            if opco_code is None:
                errors.append(
                    _err(
                        "DOSSIER_UNKNOWN",
                        paths[dossier_id],
                        "relais knows no dossier with this id for this CFA",
                    )
                )
                continue
            opcos[dossier_id] = opco_code
            if dossier_id == event.dossier_id:
                numero = numero_interne
        if len(set(opcos.values())) > 1:
            errors.append(
                _err(
                    "FACTURE_SEVERAL_OPCO",
                    "data.facture.lignes",
                    "an invoice must cover dossiers of one OPCO only",
                )
            )
        explicit = _explicit_numero(data)
        if explicit is not None:
            # The CFA gave the OPCO's id itself: it must be the one of this CFA's dossier, or the
            # OPCO would be called with this CFA's key on another CFA's dossier. When the ledger
            # does not know the id yet, relais cannot prove the dossier is this CFA's: refused.
            if not errors:
                errors.extend(_numero_errors(explicit, numero))
            numero = None  # the CFA's own value goes to the OPCO (it is the ledger's)
        if errors or not opcos:
            return None, errors, None
        return OpcoCode(next(iter(opcos.values()))), [], numero

    async def _dossier_opco(self, cfa: str, dossier_id: str) -> tuple[str | None, str | None]:
        record = await self._ledger.dossier(cfa, dossier_id)
        if record is not None:
            return record.opco, record.numero_interne
        for command in await self._ledger.commands_for(cfa, dossier_id):
            if command.kind == CommandKind.DOSSIER:
                return command.opco, None
        return None, None

    def _reject(self, record: Record, envelope: Envelope, cfa: str | None, rej: _Reject) -> _Plan:
        # A refusal of a record whose source is not established is neither attributed to the CFA
        # it claims to come from nor names the ids it claims: named by its position, it goes to
        # the operators' topic (no ce_cfa).
        trigger = Trigger.from_envelope(envelope, cfa=cfa) if rej.trusted else _unattributed(record)
        status = StatusEvent.rejected(
            trigger, errors=capped(rej.errors), occurred_at=self._clock.now()
        )
        return _Plan(
            Reject(trigger.event_id, [to_outbox(status)], cfa=trigger.cfa),
            Result(
                Outcome.REJECTED,
                event_id=envelope.id,
                dossier_id=envelope.subject,
                kind=envelope.kind,
                errors=tuple(capped(rej.errors)),
            ),
        )

    def _reject_unreadable_envelope(
        self, record: Record, hdrs: Mapping[str, str], exc: EventError
    ) -> _Plan:
        """Envelope errors with a usable ce_id: one rejected status naming every problem."""
        event_id = hdrs.get("ce_id")
        if event_id is None:  # usable for the envelope model, not for storage (a NUL in it)
            return self._dead_letter(
                record, {}, "ENVELOPE_INVALID_CHARACTER", "ce_id " + _BAD_CHARACTER, exc
            )
        dossier_id = hdrs.get("ce_subject") or _key_text(record.key)
        kind = _kind_of(hdrs.get("ce_type"))
        status = StatusEvent.rejected(
            _unattributed(record), errors=capped(exc.errors), occurred_at=self._clock.now()
        )
        # The source is not established: key the inbox and the status by position.
        return _Plan(
            Reject(record.position, [to_outbox(status)]),
            Result(
                Outcome.REJECTED,
                event_id=event_id,
                dossier_id=dossier_id,
                kind=kind,
                errors=tuple(capped(exc.errors)),
            ),
        )

    def _dead_letter(
        self,
        record: Record,
        hdrs: Mapping[str, str],
        reason: str,
        message: str,
        exc: EventError | None = None,
        *,
        envelope: Envelope | None = None,
        cfa: str | None = None,
    ) -> _Plan:
        errors = (
            tuple(capped(exc.errors))
            if exc is not None
            else (_err(reason, "record", message or reason),)
        )
        headers = [(n, v) for n, v in record.headers if n not in DLQ_HEADERS]
        headers += [
            ("dlq_reason", reason.encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_errors", json.dumps([e.model_dump() for e in errors]).encode()),
        ]
        value = record.value
        if reason == "TOO_LARGE" and value is not None:
            # It would not fit on the DLQ topic either: the original stays readable at its
            # source position (dlq_topic/partition/offset) for as long as the topic keeps it.
            headers.append((DLQ_VALUE_DROPPED, str(len(value)).encode()))
            value = None
        letter = DeadLetter(record.key, value, headers)
        # claimed ids, for the result (logs) only
        dossier_id = _key_text(record.key) or hdrs.get("ce_subject")
        event_id = hdrs.get("ce_id") if _usable_id(hdrs.get("ce_id")) else None
        kind = _kind_of(hdrs.get("ce_type"))
        if envelope is not None:
            trigger = Trigger.from_envelope(envelope, cfa=cfa)
            event_id, dossier_id, kind = envelope.id, envelope.subject, envelope.kind
        else:
            trigger = _unattributed(record)  # to the operators' topic, named by its position
        statuses: list[OutboxMessage] = []
        if trigger.dossier_id or envelope is None:
            status = StatusEvent.dead_lettered(
                trigger, reason=reason, errors=list(errors), occurred_at=self._clock.now()
            )
            statuses.append(to_outbox(status))
        return _Plan(
            Reject(trigger.event_id, statuses, cfa=trigger.cfa),
            Result(
                Outcome.DEAD_LETTERED,
                event_id=event_id or record.position,
                dossier_id=dossier_id,
                kind=kind,
                errors=errors,
                reason=reason,
            ),
            letter=letter,
        )

    def _latency(self, record: Record, result: Result) -> float | None:
        """Event time -> terminal status, for outcomes that are terminal at ingest."""
        if result.outcome not in (Outcome.REJECTED, Outcome.DEAD_LETTERED):
            return None
        if record.timestamp_ms is None or record.timestamp_ms <= 0:
            return None
        return max(0.0, self._clock.now().timestamp() - record.timestamp_ms / 1000)


_MISSING_HEADER_CODES = frozenset({"ENVELOPE_MISSING_ATTRIBUTE", "HEADER_NOT_UTF8"})


def _undecodable_envelope(exc: EnvelopeError) -> str | None:
    """Why the headers cannot be read as an event at all (None: readable, but wrong).

    No usable ce_id, a required ce_* header missing, or a header that is not UTF-8: the record is
    not an event we can answer field by field, so it goes to the DLQ as it came (replayable once
    the producer is fixed). Present but invalid values (a bad ce_time, an unknown ce_type) are
    answered with a ``rejected`` status instead.
    """
    if exc.undecodable:
        return "ENVELOPE_UNDECODABLE"
    if any(e.code in _MISSING_HEADER_CODES for e in exc.errors):
        return "ENVELOPE_HEADERS_MISSING"
    return None


MAX_DEPTH = 32  # a cerfa is 5 levels deep; deeper JSON is refused before any recursion
_VALUE_PROBLEMS = {
    "DATA_NOT_JSON": "the record value is not JSON (UTF-8)",
    "DATA_NOT_FINITE": "the record value holds a number that is not finite (NaN, Infinity or "
    "out of range)",
    "DATA_NOT_OBJECT": "the record value must be a JSON object",
    "DATA_TOO_DEEP": f"the record value nests deeper than {MAX_DEPTH} levels",
}


def parse_value(value: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The record value as a JSON object, or why not (a ``_VALUE_PROBLEMS`` code). Never raises:
    absurdly nested JSON is refused here, before the models and serializers recurse into it."""
    try:
        obj = loads_json(value)
    except RecursionError:
        return None, "DATA_TOO_DEEP"
    except NonFiniteNumberError:
        return None, "DATA_NOT_FINITE"
    except (UnicodeDecodeError, ValueError):
        return None, "DATA_NOT_JSON"
    if not isinstance(obj, dict):
        return None, "DATA_NOT_OBJECT"
    if _depth_exceeds(obj, MAX_DEPTH):
        return None, "DATA_TOO_DEEP"
    return obj, None


def _depth_exceeds(obj: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


MAX_ERRORS = 200
MAX_PATH = 256
MAX_MESSAGE = 512


def capped(errors: Sequence[ErrorItem]) -> list[ErrorItem]:
    """Every error, up to ``MAX_ERRORS`` (then one saying how many more), each path and message
    cut to a bounded length: a status event (or a dead letter's header) stays far below the
    broker's record size limit whatever the input (a field name can be a megabyte long)."""
    out = [_bounded(e) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS + 1
        out[-1] = _err("TOO_MANY_ERRORS", "", f"{more} more errors are not listed")
    return out


def _bounded(error: ErrorItem) -> ErrorItem:
    if len(error.path) <= MAX_PATH and len(error.message) <= MAX_MESSAGE:
        return error
    return error.model_copy(
        update={
            "path": error.path[: MAX_PATH - 1] + "…" if len(error.path) > MAX_PATH else error.path,
            "message": error.message[:MAX_MESSAGE],
        }
    )


MAX_ID = 200  # ids from headers or the key (the envelope's own limit for ce_id and ce_subject)


def _usable_id(value: str | None) -> bool:
    return value is not None and 0 < len(value) <= MAX_ID


def _kind_of(ce_type: str | None) -> EventKind | None:
    try:
        return KIND_OF_TYPE[EventType(ce_type)] if ce_type else None
    except ValueError:
        return None


def _unattributed(record: Record) -> Trigger:
    """The trigger of a refusal of a record whose source is not established: named by its Kafka
    position only (inbox key, status id, Kafka key, ``eventId``), never by the ids it claims nor
    the CFA it claims to come from, so a forged record cannot earn a status about another CFA's
    event or dossier, nor take the outbox slot of the real event's answer (finding F3). Without a
    CFA, the status goes to the operators' topic (``kafka.rejected_topic``)."""
    return Trigger.for_record(record.topic, record.partition, record.offset)
