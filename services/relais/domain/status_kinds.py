"""What a status event is, before any is built: its kinds (``StatusName``; which are terminal),
its stable ids and its JSON value (``StatusBody``). ``status.py`` builds the events.

Ids are stable: ``status_event_id`` and ``etat_event_id`` are uuid5 over what identifies the
outcome, so a redelivery or a restart that recomputes an outcome publishes it under the same id
(the id forms are described in ``status.py``). A status body carries NO personal data:
``EcheanceSummary`` drops the IBAN of the OPCO read model on purpose.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relais.domain.events import ErrorItem, EventKind
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail
from relais.domain.status_reasons import StatusReason

STATUS_SOURCE = "relais"
STATUS_TYPE_PREFIX = "fr.relais.status."
STATUS_TYPE_SUFFIX = ".v1"

NAMESPACE = uuid.UUID("0b6f1c6e-7d7e-5b7e-9a53-2c0a6f0e4a11")
"""uuid5 namespace of relais status event ids (never change it: ids must stay stable)."""


class StatusName(StrEnum):
    RECEIVED = "received"
    REJECTED = "rejected"
    RETRYING = "retrying"
    WAITING = "waiting"
    SUBMITTED = "submitted"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    ETAT_CHANGED = "etat_changed"

    @property
    def event_type(self) -> str:
        return f"{STATUS_TYPE_PREFIX}{self.value}{STATUS_TYPE_SUFFIX}"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {StatusName.REJECTED, StatusName.SUBMITTED, StatusName.FAILED, StatusName.DEAD_LETTERED}
)


def _uuid5(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return str(uuid.uuid5(NAMESPACE, text))


def status_event_id(
    trigger_event_id: str, status: str, attempt: int | None = None, *, cfa: str | None = None
) -> str:
    """Stable id of the status ``status`` of the event ``trigger_event_id`` of the CFA ``cfa``.

    ``attempt`` tells apart the ``retrying`` notes of one event (one per attempt), and its
    ``waiting`` notes (one per pause of its OPCO: the pause's number). ``cfa`` None:
    the source is not established and ``trigger_event_id`` is the record's Kafka position.
    """
    if cfa is None:
        return _uuid5("status", trigger_event_id, str(status), attempt)
    return _uuid5("status", cfa, trigger_event_id, str(status), attempt)


def etat_event_id(
    cfa: str,
    opco: str,
    kind: str,
    numero: str,
    previous_etat: str | None,
    etat: str,
) -> str:
    """Stable id of one OPCO state change (``kind`` "dossier" or "facture", ``numero`` the OPCO's
    numeroInterne / numeroInterneFacture): a poller that sees the change again recomputes it."""
    return _uuid5("etat", cfa, str(opco), str(kind), numero, previous_etat, etat)


class EcheanceSummary(BaseModel):
    """One échéance of the OPCO's payment schedule, without the IBAN of the read model."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    numero: int
    codification: str | None = None
    montantTotal: float | None = None
    montantRegle: float | None = None
    montantEnCoursInstruction: float | None = None
    dateOuverture: date | None = None
    dateDebut: date | None = None
    dateFin: date | None = None

    @field_validator("dateOuverture", "dateDebut", "dateFin", mode="before")
    @classmethod
    def _lenient_date(cls, value: Any) -> Any:
        # OPCOs send "2026-09-01", "2026-09-01T00:00:00Z" or "...+0000": keep the date part.
        if isinstance(value, str) and len(value) > 10 and value[10] == "T":
            return value[:10]
        return value


class OpcoErrorItem(BaseModel):
    """One of the OPCO's errors on the wire (``OpcoErrorDetail``; absent parts left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str | None = Field(default=None, description="The OPCO's error code")
    message: str | None = Field(default=None, description="The OPCO's text, as it wrote it")
    field: str | None = Field(default=None, description="The field it is about (OPCO's path)")

    @classmethod
    def of(cls, detail: OpcoErrorDetail) -> OpcoErrorItem:
        return cls(code=detail.code, message=detail.message, field=detail.field)


class StatusBody(BaseModel):
    """The JSON value of a status event (camelCase; absent fields are left out on the wire)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: StatusName
    eventId: str | None = Field(
        default=None,
        description="Id of the triggering CFA event (correlation id); the record's Kafka "
        "position (kafka:<topic>:<partition>:<offset>) when its source is not established",
    )
    cfa: str | None = Field(default=None, description="The CFA (SIRET)")
    dossierId: str | None = Field(default=None, description="The CFA's own dossier id")
    opco: OpcoCode | None = None
    kind: EventKind | None = None
    numeroInterne: str | None = None
    numeroExterne: str | None = None
    numeroInterneFacture: str | None = None
    referenceFactureCFA: str | None = None
    numeroInterneDocument: str | None = Field(
        default=None, description="The OPCO's id of a document (submitted, kind document)"
    )
    etat: str | None = Field(default=None, description="Current OPCO etat (dossier or facture)")
    previousEtat: str | None = None
    engagement: float | None = Field(default=None, description="Amount committed by the OPCO")
    echeances: list[EcheanceSummary] | None = None
    errors: list[ErrorItem] | None = Field(default=None, description="Every problem at once")
    opcoMessages: list[str] | None = Field(
        default=None, description="The OPCO's own messages, as it wrote them (one line each)"
    )
    opcoErrors: list[OpcoErrorItem] | None = Field(
        default=None,
        description="The OPCO's own errors, each with its code, message and field when the OPCO "
        "gives them (retrying, failed; a submitted found already at the OPCO)",
    )
    motif: str | None = Field(
        default=None,
        description="etat_changed: the OPCO's reason for the new etat (a refusal's motif) when "
        "its etats page gives one",
    )
    attempts: int | None = Field(default=None, ge=0, description="OPCO calls made so far")
    nextAttemptAt: datetime | None = None
    reason: StatusReason | None = Field(
        default=None,
        description="Why (retrying, waiting, failed, dead_lettered; submitted: already_at_opco); "
        "one of the codes of schemas/events/README.md, each described in French there",
    )
    message: str | None = Field(
        default=None,
        description="A note for the CFA's users, in French (waiting: why and until when)",
    )
    occurredAt: datetime
