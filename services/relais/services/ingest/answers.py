"""What ingest writes for one record: its ledger entry, the status that answers it, its dead
letter and its result. The one place ingest names the event a status answers (``Trigger``) and
builds its statuses (``relais.domain.status`` holds the status contract: ids, body, constructors).

Who a status answers: an event whose source is established is named by (CFA, ce_id); a record
whose source is not established is named by its Kafka position only (inbox key, status id, Kafka
key, ``eventId``), never by the ids it claims nor the CFA it claims to come from, so a forged
record cannot earn a status about another CFA's event or dossier, nor take the outbox slot of the
real event's answer (finding F3). Without a CFA, the status goes to the operators' topic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from relais.domain.events import (
    KIND_OF_TYPE,
    CfaEvent,
    Envelope,
    ErrorItem,
    EventError,
    EventKind,
    EventType,
)
from relais.domain.opco import OpcoCode
from relais.domain.records import Record
from relais.domain.status import StatusEvent, Trigger
from relais.domain.status_reasons import StatusReason
from relais.services.command_payload import CommandPayload
from relais.services.ingest.hygiene import BAD_CHARACTER, capped, error, key_text, usable_id
from relais.services.ingest.records import (
    DLQ_HEADERS,
    DLQ_VALUE_DROPPED,
    DeadLetter,
    Outcome,
    Result,
)
from relais.services.ledger_port import Accept, CommandKind, NewCommand, OutboxMessage, Reject
from relais.services.statuses import to_outbox
from relais.tracing import current_context


@dataclass(frozen=True)
class Plan:
    """One record's decision before it is written: its ledger entry, its dead letter (published
    before the entry is written) and its result (``duplicate`` instead when the ledger has seen
    the inbox key)."""

    entry: Accept | Reject
    result: Result
    letter: DeadLetter | None = None


def attributed(envelope: Envelope, cfa: str | None) -> Trigger:
    """The event of an established CFA (or, refused before that, the ids it carries)."""
    return Trigger.from_envelope(envelope, cfa=cfa)


def unattributed(record: Record) -> Trigger:
    """A record whose source is not established: named by its Kafka position only."""
    return Trigger.for_record(record.topic, record.partition, record.offset)


def accepted(
    event: CfaEvent,
    cfa: str,
    opco: OpcoCode,
    now: datetime,
    *,
    numero: str | None = None,
    depends_on: Sequence[str] = (),
) -> Plan:
    """The command, and a ``received`` status naming its OPCO."""
    command = NewCommand(
        event_id=event.id,
        cfa=cfa,
        dossier_id=event.dossier_id,
        opco=opco.value,
        kind=CommandKind(event.kind.value),
        # tracing on: the context of this record's ingest span, for dispatch to continue
        payload=CommandPayload(
            event.type, event.envelope.time, event.data, numero, current_context() or None
        ),
        depends_on=tuple(depends_on),
    )
    received = StatusEvent.received(attributed(event.envelope, cfa), occurred_at=now, opco=opco)
    return Plan(
        Accept(command, [to_outbox(received)]),
        Result(
            Outcome.ACCEPTED,
            event_id=event.id,
            dossier_id=event.dossier_id,
            kind=event.kind,
            opco=opco,
        ),
    )


def rejected(
    record: Record,
    envelope: Envelope,
    cfa: str | None,
    errors: Sequence[ErrorItem],
    now: datetime,
    *,
    trusted: bool = True,
) -> Plan:
    """One ``rejected`` status with every error; attributed only when the source is trusted."""
    trigger = attributed(envelope, cfa) if trusted else unattributed(record)
    status = StatusEvent.rejected(trigger, errors=capped(errors), occurred_at=now)
    return Plan(
        Reject(trigger.event_id, [to_outbox(status)], cfa=trigger.cfa),
        Result(
            Outcome.REJECTED,
            event_id=envelope.id,
            dossier_id=envelope.subject,
            kind=envelope.kind,
            errors=tuple(capped(errors)),
        ),
    )


def rejected_envelope(
    record: Record, hdrs: Mapping[str, str], exc: EventError, now: datetime
) -> Plan:
    """Envelope errors with a usable ce_id: one rejected status naming every problem, keyed by
    the record's position (the source is not established)."""
    event_id = hdrs.get("ce_id")
    if event_id is None:  # usable for the envelope model, not for storage (a NUL in it)
        return dead_lettered(
            record, {}, "ENVELOPE_INVALID_CHARACTER", "ce_id " + BAD_CHARACTER, now, exc
        )
    status = StatusEvent.rejected(unattributed(record), errors=capped(exc.errors), occurred_at=now)
    return Plan(
        Reject(record.position, [to_outbox(status)]),
        Result(
            Outcome.REJECTED,
            event_id=event_id,
            dossier_id=hdrs.get("ce_subject") or key_text(record.key),
            kind=_kind_of(hdrs.get("ce_type")),
            errors=tuple(capped(exc.errors)),
        ),
    )


def dead_lettered(
    record: Record,
    hdrs: Mapping[str, str],
    reason: str,
    message: str,
    now: datetime,
    exc: EventError | None = None,
    *,
    envelope: Envelope | None = None,
    cfa: str | None = None,
) -> Plan:
    """The raw record to the DLQ (``dlq_*`` headers say why and whence) and a ``dead_lettered``
    status: the CFA's when its envelope was read, else the operators', by position."""
    errors = (
        tuple(capped(exc.errors))
        if exc is not None
        else (error(reason, "record", message or reason),)
    )
    event_id: str | None
    dossier_id: str | None
    kind: EventKind | None
    if envelope is not None:
        trigger = attributed(envelope, cfa)
        event_id, dossier_id, kind = envelope.id, envelope.subject, envelope.kind
    else:
        trigger = unattributed(record)
        # claimed ids, for the result (logs) only
        dossier_id = key_text(record.key) or hdrs.get("ce_subject")
        event_id = hdrs.get("ce_id") if usable_id(hdrs.get("ce_id")) else None
        kind = _kind_of(hdrs.get("ce_type"))
    statuses: list[OutboxMessage] = []
    if trigger.dossier_id or envelope is None:
        status = StatusEvent.dead_lettered(
            trigger,
            reason=StatusReason.of_dead_letter(reason),
            errors=list(errors),
            occurred_at=now,
        )
        statuses.append(to_outbox(status))
    return Plan(
        Reject(trigger.event_id, statuses, cfa=trigger.cfa),
        Result(
            Outcome.DEAD_LETTERED,
            event_id=event_id or record.position,
            dossier_id=dossier_id,
            kind=kind,
            errors=errors,
            reason=reason,
        ),
        letter=_letter(record, reason, errors),
    )


def _letter(record: Record, reason: str, errors: Sequence[ErrorItem]) -> DeadLetter:
    headers = [(n, v) for n, v in record.headers if n not in DLQ_HEADERS]
    headers += [
        ("dlq_reason", reason.encode()),
        ("dlq_topic", record.topic.encode()),
        ("dlq_partition", str(record.partition).encode()),
        ("dlq_offset", str(record.offset).encode()),
        ("dlq_errors", json.dumps([e.model_dump() for e in errors]).encode()),
    ]
    value = record.value
    if value is not None and (reason == "TOO_LARGE" or _INLINE_FILE.search(value)):
        # Too large: it would not fit on the DLQ topic either. An inline file (``data:``): files
        # never reach the DLQ (issue 18). The original stays readable at its source position
        # (dlq_topic/partition/offset) for as long as the topic keeps it.
        headers.append((DLQ_VALUE_DROPPED, str(len(value)).encode()))
        value = None
    return DeadLetter(record.key, value, headers)


# An inline file of a file reference (``data:<media type>;base64,``), its JSON escapes included
_INLINE_FILE = re.compile(rb"data:[A-Za-z0-9.+\\/-]{1,64};base64,")


def _kind_of(ce_type: str | None) -> EventKind | None:
    try:
        return KIND_OF_TYPE[EventType(ce_type)] if ce_type else None
    except ValueError:
        return None
