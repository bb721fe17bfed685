"""relais -> CFA status events, v1: the event and its builders (``StatusEvent.received(...)``...);
the kinds, the ids and the body they share are in ``status_kinds.py`` (re-exported here).

Every CFA event ends in exactly one terminal status (submitted, rejected, failed, dead_lettered);
``received``, ``retrying`` and ``waiting`` are progress notes; ``etat_changed`` reports an
OPCO-side change seen by polling. On Kafka a status event is a record::

    key      = the CFA's dossier id
    headers  = ce_specversion, ce_id, ce_type=fr.relais.status.<name>.v1, ce_source=relais,
               ce_subject=<dossier id>, ce_time, ce_datacontenttype,
               ce_correlationid=<triggering CFA event id>, ce_cfa=<CFA SIRET>, ce_opco=<OPCO>
    value    = ``StatusBody`` as JSON (camelCase, null fields left out)

Ids are stable: ``status_event_id`` and ``etat_event_id`` are uuid5 over what identifies the
outcome, so a redelivery or a restart that recomputes an outcome publishes it under the same id.
An event the CFA sends again (same CFA, same ce_id) is answered with the status it already has,
published again under its id (``Ledger.republish``): consumers de-duplicate by ``ce_id``.
``reason`` is a ``StatusReason`` (``status_reasons.py``); the OPCO's errors travel as
``opcoErrors`` (``opco_errors.OpcoErrorDetail``).

An event's identity is (CFA, event id): CloudEvents ids are unique per source only, so the same
``ce_id`` from two CFAs is two events, with two inbox rows and two sets of status ids. The id of
a status is ``uuid5(NAMESPACE, "status" US cfa US event id US status US attempt)`` (US = the unit
separator ``\\x1f``; attempt empty but for ``retrying``, and the pause's number for
``waiting``) when the CFA is established, and
``uuid5(NAMESPACE, "status" US event id US status US attempt)`` when it is not: a record whose
source is not established is named by its Kafka position (``kafka:<topic>:<partition>:<offset>``,
``Trigger.for_record``). Before the CFA was part of the identity, every status id had the second
form with the CFA's ``ce_id``: the ids already written (and published) keep it, the ledger never
rewrites a stored status id.

A status event carries NO personal data: no names, NIR, birth dates, IBAN. Its fields are ids,
codes, amounts and dates of the OPCO's financial schedule; ``EcheanceSummary`` drops the IBAN of
the OPCO read model on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relais.domain.dates import PARIS
from relais.domain.events import Envelope, ErrorItem, EventKind
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail
from relais.domain.status_kinds import (
    NAMESPACE,
    STATUS_SOURCE,
    STATUS_TYPE_PREFIX,
    STATUS_TYPE_SUFFIX,
    TERMINAL_STATUSES,
    EcheanceSummary,
    OpcoErrorItem,
    StatusBody,
    StatusName,
    etat_event_id,
    status_event_id,
)
from relais.domain.status_reasons import StatusReason

__all__ = [
    "NAMESPACE",
    "STATUS_SOURCE",
    "STATUS_TYPE_PREFIX",
    "STATUS_TYPE_SUFFIX",
    "TERMINAL_STATUSES",
    "EcheanceSummary",
    "StatusBody",
    "StatusEvent",
    "StatusName",
    "Trigger",
    "etat_event_id",
    "status_event_id",
]


OPCO_PAUSED = StatusReason.OPCO_PAUSED  # the reason code of a ``waiting`` note


def paused_message(opco: OpcoCode, until: datetime | None) -> str:
    """The French note of a command held by its OPCO's pause (the end in Europe/Paris time)."""
    text = (
        f"L'OPCO {opco.value} est en fenêtre de maintenance : la demande est en attente et lui "
        "sera transmise dès la fin de la maintenance, sans perte ni changement d'ordre"
    )
    if until is None:
        return text + "."
    end = until.astimezone(PARIS)
    return text + f" (fin prévue le {end:%d/%m/%Y} à {end:%H:%M}, heure de Paris)."


class StatusEvent(BaseModel):
    """A status event ready to be written to the outbox: ``id``, ``key``, ``headers()``,
    ``value()``. Build it with the constructors (``StatusEvent.received(...)``...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    subject: str = Field(description="Kafka key: the CFA's dossier id")
    body: StatusBody

    @property
    def key(self) -> str:
        return self.subject

    @property
    def status(self) -> StatusName:
        return self.body.status

    @property
    def type(self) -> str:
        return self.body.status.event_type

    def headers(self) -> dict[str, str]:
        out = {
            "ce_specversion": "1.0",
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": STATUS_SOURCE,
            "ce_subject": self.subject,
            "ce_time": self.body.occurredAt.isoformat(),
            "ce_datacontenttype": "application/json",
        }
        if self.body.eventId is not None:
            out["ce_correlationid"] = self.body.eventId
        if self.body.cfa is not None:
            out["ce_cfa"] = self.body.cfa
        if self.body.opco is not None:
            out["ce_opco"] = self.body.opco.value
        return out

    def value(self) -> bytes:
        payload = self.body.model_dump(mode="json", exclude_none=True)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v.encode()) for k, v in self.headers().items()]

    @classmethod
    def from_record(
        cls, key: bytes | str, headers: Iterable[tuple[str, bytes]], value: bytes
    ) -> StatusEvent:
        """Read a status event back from Kafka (``relais watch``, tests)."""
        hdrs = {k: v.decode() for k, v in headers}
        subject = key.decode() if isinstance(key, bytes) else key
        return cls(id=hdrs["ce_id"], subject=subject, body=StatusBody.model_validate_json(value))

    # ---------------------------------------------------------------- constructors

    @classmethod
    def _for_trigger(
        cls,
        trigger: Trigger,
        status: StatusName,
        occurred_at: datetime,
        *,
        attempt: int | None = None,
        **fields: Any,
    ) -> StatusEvent:
        body = StatusBody(
            status=status,
            eventId=trigger.event_id,
            cfa=trigger.cfa,
            dossierId=trigger.dossier_id,
            kind=trigger.kind,
            occurredAt=occurred_at,
            **fields,
        )
        subject = trigger.dossier_id or trigger.event_id
        return cls(
            id=status_event_id(trigger.event_id, status, attempt, cfa=trigger.cfa),
            subject=subject,
            body=body,
        )

    @classmethod
    def received(
        cls, trigger: Trigger, *, occurred_at: datetime, opco: OpcoCode | None = None
    ) -> StatusEvent:
        """The event is durably accepted (in the ledger) and routed to ``opco``."""
        return cls._for_trigger(trigger, StatusName.RECEIVED, occurred_at, opco=opco)

    @classmethod
    def rejected(
        cls,
        trigger: Trigger,
        *,
        errors: Sequence[ErrorItem],
        occurred_at: datetime,
        opco: OpcoCode | None = None,
    ) -> StatusEvent:
        """Bad input (ingest's checks; dispatch's money checks before a call). Terminal."""
        return cls._for_trigger(
            trigger, StatusName.REJECTED, occurred_at, opco=opco, errors=list(errors)
        )

    @classmethod
    def retrying(
        cls,
        trigger: Trigger,
        *,
        opco: OpcoCode,
        attempt: int,
        next_attempt_at: datetime,
        reason: StatusReason,
        occurred_at: datetime,
        opco_messages: Sequence[str] = (),
        opco_errors: Sequence[OpcoErrorDetail] = (),
    ) -> StatusEvent:
        """Attempt ``attempt`` failed in a retryable way; the next one is at ``next_attempt_at``."""
        return cls._for_trigger(
            trigger,
            StatusName.RETRYING,
            occurred_at,
            attempt=attempt,
            opco=opco,
            attempts=attempt,
            nextAttemptAt=next_attempt_at,
            reason=reason,
            opcoMessages=list(opco_messages) or None,
            opcoErrors=[OpcoErrorItem.of(e) for e in opco_errors] or None,
        )

    @classmethod
    def waiting(
        cls,
        trigger: Trigger,
        *,
        opco: OpcoCode,
        pause: int,
        until: datetime | None,
        occurred_at: datetime,
    ) -> StatusEvent:
        """The command waits, no attempt spent: its OPCO is paused by the operators (its
        maintenance window) until ``until`` (None: until they resume it). One per pause."""
        return cls._for_trigger(
            trigger,
            StatusName.WAITING,
            occurred_at,
            attempt=pause,
            opco=opco,
            nextAttemptAt=until,
            reason=OPCO_PAUSED,
            message=paused_message(opco, until),
        )

    @classmethod
    def submitted(
        cls,
        trigger: Trigger,
        *,
        opco: OpcoCode,
        occurred_at: datetime,
        numero_interne: str | None = None,
        numero_externe: str | None = None,
        numero_interne_facture: str | None = None,
        numero_interne_document: str | None = None,
        reference_facture_cfa: str | None = None,
        etat: str | None = None,
        attempts: int | None = None,
        already_at_opco: bool = False,
        warnings: Sequence[ErrorItem] = (),
    ) -> StatusEvent:
        """The OPCO accepted the call, or already had it (a 409, or a lookup that found it):
        then ``reason`` is ``already_at_opco``. ``warnings``: e.g. the numeroInterne is already
        the one of another dossier of the CFA. Terminal."""
        return cls._for_trigger(
            trigger,
            StatusName.SUBMITTED,
            occurred_at,
            opco=opco,
            numeroInterne=numero_interne,
            numeroExterne=numero_externe,
            numeroInterneFacture=numero_interne_facture,
            numeroInterneDocument=numero_interne_document,
            referenceFactureCFA=reference_facture_cfa,
            etat=etat,
            attempts=attempts,
            reason=StatusReason.ALREADY_AT_OPCO if already_at_opco else None,
            errors=list(warnings) or None,
        )

    @classmethod
    def failed(
        cls,
        trigger: Trigger,
        *,
        opco: OpcoCode | None,
        reason: StatusReason,
        occurred_at: datetime,
        opco_messages: Sequence[str] = (),
        opco_errors: Sequence[OpcoErrorDetail] = (),
        errors: Sequence[ErrorItem] = (),
        attempts: int | None = None,
    ) -> StatusEvent:
        """Permanent OPCO error, route not supported, or retry caps reached. Terminal."""
        return cls._for_trigger(
            trigger,
            StatusName.FAILED,
            occurred_at,
            opco=opco,
            reason=reason,
            opcoMessages=list(opco_messages) or None,
            opcoErrors=[OpcoErrorItem.of(e) for e in opco_errors] or None,
            errors=list(errors) or None,
            attempts=attempts,
        )

    @classmethod
    def dead_lettered(
        cls,
        trigger: Trigger,
        *,
        reason: StatusReason,
        occurred_at: datetime,
        errors: Sequence[ErrorItem] = (),
    ) -> StatusEvent:
        """The record could not even be decoded; the raw record went to the DLQ topic. Terminal.
        Without a usable ce_id, use ``Trigger.for_record(topic, partition, offset)``."""
        return cls._for_trigger(
            trigger,
            StatusName.DEAD_LETTERED,
            occurred_at,
            reason=reason,
            errors=list(errors) or None,
        )

    @classmethod
    def etat_changed(
        cls,
        *,
        cfa: str,
        opco: OpcoCode,
        kind: Literal[EventKind.DOSSIER, EventKind.FACTURE],
        numero: str,
        etat: str,
        previous_etat: str | None,
        occurred_at: datetime,
        dossier_id: str | None = None,
        numero_externe: str | None = None,
        reference_facture_cfa: str | None = None,
        engagement: float | None = None,
        echeances: Sequence[EcheanceSummary | dict[str, Any]] | None = None,
        trigger_event_id: str | None = None,
        motif: str | None = None,
    ) -> StatusEvent:
        """An OPCO state change seen by polling (dossier: ``numero`` = numeroInterne; facture:
        ``numero`` = numeroInterneFacture), keyed by the CFA's ``dossier_id`` (a facture's: the
        dossier of the event that submitted it). ``echeances`` may be the read model's dicts:
        their IBAN is dropped. ``motif``: the OPCO's comment on the new etat (a refusal's
        reason), one line of at most ``MAX_MOTIF_LENGTH`` characters."""
        is_dossier = kind == EventKind.DOSSIER
        body = StatusBody(
            status=StatusName.ETAT_CHANGED,
            eventId=trigger_event_id,
            cfa=cfa,
            dossierId=dossier_id,
            opco=opco,
            kind=kind,
            numeroInterne=numero if is_dossier else None,
            numeroExterne=numero_externe,
            numeroInterneFacture=None if is_dossier else numero,
            referenceFactureCFA=reference_facture_cfa,
            etat=etat,
            previousEtat=previous_etat,
            engagement=engagement,
            motif=_one_line(motif),
            echeances=None
            if echeances is None
            else [
                e if isinstance(e, EcheanceSummary) else EcheanceSummary.model_validate(e)
                for e in echeances
            ],
            occurredAt=occurred_at,
        )
        subject = dossier_id or f"{opco.value}:{numero}"
        return cls(
            id=etat_event_id(cfa, opco, kind, numero, previous_etat, etat),
            subject=subject,
            body=body,
        )


MAX_MOTIF_LENGTH = 300


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(text.split())[:MAX_MOTIF_LENGTH] or None


class Trigger(BaseModel):
    """What a status says about the CFA event it answers."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    cfa: str | None = None
    dossier_id: str | None = None
    kind: EventKind | None = None

    @classmethod
    def from_envelope(cls, envelope: Envelope, cfa: str | None = None) -> Trigger:
        """``cfa``: the CFA SIRET after UAI mapping (default: the SIRET in ce_source, if any)."""
        if cfa is None:
            ref = envelope.source_ref
            cfa = ref.value if ref.scheme == "siret" else None
        return cls(event_id=envelope.id, cfa=cfa, dossier_id=envelope.subject, kind=envelope.kind)

    @classmethod
    def for_record(cls, topic: str, partition: int, offset: int) -> Trigger:
        """A record without a usable ce_id: its position names it (stable across redelivery)."""
        return cls(event_id=f"kafka:{topic}:{partition}:{offset}")
