"""The payload of a ledger command: what ingest decided, what dispatch calls the OPCO with.

Ingest writes one ``CommandPayload`` per accepted event: its type, its time (``ce_time``), its
typed data, for a follow-up the numeroInterne of its dossier when the ledger already knew it and,
when tracing is on, the W3C trace context of its ingest span (dispatch's spans continue that trace).
The ledger stores it as JSON (``to_json``: ``{"type", "time", "data"[, "numeroInterneDossier"]
[, "trace"]}``, the form every stored row has; a row without ``trace`` reads as before) and
reads it back with ``load``, the one place a stored payload is parsed: a row no model reads any
more (an older contract) loads as an ``UnreadablePayload``, which dispatch fails with
``invalid_payload`` instead of calling the OPCO.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from pydantic import ValidationError

from relais.domain.events import (
    DATA_MODELS,
    KIND_OF_TYPE,
    CertificatSubmittedData,
    ConventionSubmittedData,
    ErrorItem,
    EventData,
    EventKind,
    EventType,
    PayloadError,
    errors_from_validation,
)
from relais.domain.json_types import Json
from relais.tracing import Carrier, bounded

NUMERO_FIELD = "numeroInterneDossier"
TRACE_FIELD = "trace"


@dataclass(frozen=True)
class CommandPayload:
    """One accepted CFA event as its command carries it."""

    type: EventType
    time: datetime  # ce_time, as the CFA sent it
    data: EventData
    numero_interne: str | None = None  # the own dossier's numeroInterne, when ingest knew it
    trace: Carrier | None = None  # traceparent/tracestate of the ingest span (tracing on)

    @property
    def kind(self) -> EventKind:
        return KIND_OF_TYPE[self.type]

    @property
    def dossier_numero(self) -> str | None:
        """The numeroInterne of the command's own dossier when known before dispatch: the one the
        CFA gave in its data (ingest checked it is the ledger's), else the one ingest found."""
        explicit = explicit_numero(self.data)
        if explicit is not None and explicit[1]:
            return str(explicit[1])
        return self.numero_interne

    @cached_property
    def stored(self) -> Json:
        """The stored JSON form (keys in this order, ``data`` as published, nulls left out)."""
        out: Json = {
            "type": self.type.value,
            "time": self.time.isoformat(),
            "data": self.data.model_dump(mode="json", exclude_none=True),
        }
        if self.numero_interne is not None:
            out[NUMERO_FIELD] = self.numero_interne
        if self.trace:
            out[TRACE_FIELD] = dict(self.trace)
        return out

    def to_json(self) -> Json:
        return self.stored


@dataclass(frozen=True)
class UnreadablePayload:
    """A stored payload that no longer reads as a ``CommandPayload`` (kept as it was stored)."""

    stored: Json
    errors: tuple[ErrorItem, ...]

    def to_json(self) -> Json:
        return self.stored

    @property
    def message(self) -> str:
        return str(PayloadError(self.errors))


StoredPayload = CommandPayload | UnreadablePayload


def explicit_numero(data: EventData) -> tuple[str, Any] | None:
    """(path, value) of the OPCO dossier id a follow-up gives itself, if it gives one."""
    if isinstance(data, ConventionSubmittedData) and data.numeroInterneDossier is not None:
        return "data.numeroInterneDossier", data.numeroInterneDossier
    if isinstance(data, CertificatSubmittedData) and "numeroInterneDossier" in data.certificat:
        return "data.certificat.numeroInterneDossier", data.certificat["numeroInterneDossier"]
    return None


def parse(obj: Any) -> CommandPayload:
    """A stored payload read back; raises ``PayloadError`` naming every problem."""
    if not isinstance(obj, dict):
        raise PayloadError(
            [_error("PAYLOAD_NOT_OBJECT", "", "le contenu enregistré doit être un objet JSON")]
        )
    try:
        event_type = EventType(str(obj.get("type")))
    except ValueError:
        raise PayloadError(
            [_error("PAYLOAD_UNKNOWN_TYPE", "type", "type d'événement absent")]
        ) from None
    try:
        time = datetime.fromisoformat(str(obj.get("time")))
    except ValueError:
        raise PayloadError(
            [_error("PAYLOAD_INVALID_TIME", "time", "date de l'événement absente")]
        ) from None
    try:
        data = DATA_MODELS[event_type].model_validate(obj.get("data"))
    except ValidationError as exc:
        raise PayloadError(errors_from_validation(exc, "data")) from None
    numero = obj.get(NUMERO_FIELD)
    trace = obj.get(TRACE_FIELD)
    return CommandPayload(
        type=event_type,
        time=time,
        data=cast(EventData, data),  # DATA_MODELS maps each type to one EventData model
        numero_interne=numero if isinstance(numero, str) and numero else None,
        trace=bounded(trace) or None if isinstance(trace, dict) else None,
    )


def load(obj: Any) -> StoredPayload:
    """What a ledger row's payload column holds, typed; never raises."""
    try:
        return parse(obj)
    except PayloadError as exc:
        return UnreadablePayload(obj if isinstance(obj, dict) else {"stored": obj}, exc.errors)


def encode(payload: CommandPayload) -> str:
    """The text a ledger stores (compact, UTF-8 as is: the bytes every stored row has)."""
    return json.dumps(payload.to_json(), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> StoredPayload:
    """A ledger row's payload column read back (``load``)."""
    return load(json.loads(text))


def _error(code: str, path: str, message: str) -> ErrorItem:
    return ErrorItem(code=code, path=path, message=message)
