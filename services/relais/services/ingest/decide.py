"""One record to its decision, without I/O: ``decide(record, context) -> Plan | FollowUp``.

    hygiene     empty or too large -> dead letter; a registry's framing taken off (``framing``);
                the value parsed once (``hygiene``)
    binding     binary or structured CloudEvent (``binding``, the cloudevents SDK)
    envelope    its attributes (``relais.domain.events``): unreadable -> dead letter, or a
                ``rejected`` status by position when its ce_id is usable
    authorize   topic -> ce_source binding, optional HMAC (``authorize``): the CFA, or refused
                by position
    content     data that is not JSON, or framed by a schema that is not its type's -> refused
    decode      the data against its type's model -> refused with every schema error
    files       its file references by their form (``file_refs``: location grammar, size and
                type bounds; no I/O) -> refused with their ``FILE_*`` codes
    rules       control rules and routing (``rules.Rules``) -> refused, or accepted with a
                ``received`` status naming the OPCO
    follow-ups  their OPCO is their dossier's, in the ledger: ``FollowUp`` says which dossiers
                to read; ``FollowUp.decide(known, now)`` ends the decision (no I/O either)

Every outcome's entry, status and dead letter are built by ``answers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from relais.domain.events import (
    CfaEvent,
    DossierSubmittedData,
    Envelope,
    EnvelopeError,
    ErrorItem,
    EventType,
    FactureSubmittedData,
    PayloadError,
    decode_data,
)
from relais.domain.opco import OpcoCode
from relais.domain.records import Record
from relais.services.command_payload import explicit_numero
from relais.services.ingest import answers, binding, framing
from relais.services.ingest.answers import Plan
from relais.services.ingest.authorize import IngestPolicy, Refusal, authorize
from relais.services.ingest.binding import ContentMode
from relais.services.ingest.file_refs import file_errors
from relais.services.ingest.hygiene import (
    BAD_CHARACTER,
    VALUE_PROBLEMS,
    bad_characters,
    error,
    key_text,
    parse_value,
    text_headers,
    unsafe_text,
)
from relais.services.ingest.rules import RuleCheck, Rules


@dataclass(frozen=True)
class Context:
    """What a decision depends on besides the record: settings, rules, the time."""

    policy: IngestPolicy
    rules: Rules
    now: datetime
    today: date  # the business day in Europe/Paris, for the date rules
    # registry schema id -> the relais event type it is for (None: not a relais schema); the
    # ids of the record's framed value, looked up by the handler (``framing``)
    schema_types: Mapping[int, EventType | None] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownDossier:
    """What the ledger knows of a CFA's dossier: its OPCO and, once submitted, its numeroInterne."""

    opco: str
    numero_interne: str | None = None


def decide(record: Record, context: Context) -> Plan | FollowUp:
    read = _read(record, context)
    if not isinstance(read, _Read):
        return read
    envelope, now = read.envelope, context.now
    cfa: str | None = None
    try:
        cfa = authorize(context.policy, record.topic, envelope, read.signed, read.value)
        _check_content(read, context)
        obj = read.obj
        if obj is not None and (bad := bad_characters(obj, "data")):
            raise Refusal(*bad)
        if obj is None:
            assert read.value_problem is not None
            message = VALUE_PROBLEMS[read.value_problem]
            return answers.dead_lettered(
                record, read.hdrs, read.value_problem, message, now, envelope=envelope, cfa=cfa
            )
        try:
            data = decode_data(envelope, _data_object(read.bound))  # schema errors only
        except PayloadError as exc:
            raise Refusal(*exc.errors) from None
        if bad_files := file_errors(data, context.policy.file_limits):
            raise Refusal(*bad_files)
        event = CfaEvent(envelope=envelope, data=data)
        if isinstance(data, DossierSubmittedData):
            return _dossier(event, data, cfa, context)
        return FollowUp(record, event, cfa, context.rules.check_followup(event, context.today))
    except Refusal as refusal:
        return answers.rejected(record, envelope, cfa, refusal.errors, now, trusted=refusal.trusted)


@dataclass(frozen=True)
class _Read:
    """A record read up to its envelope: what the rest of the decision needs."""

    value: bytes  # as sent (framing included): what a signature signs
    framed: framing.Framed | None
    obj: dict[str, Any] | None
    value_problem: str | None
    bound: binding.Bound
    envelope: Envelope
    hdrs: dict[str, str]

    @property
    def signed(self) -> dict[str, str]:
        return self.bound.signed_headers()


def _read(record: Record, context: Context) -> _Read | Plan:
    """Hygiene, registry framing, the binding and the envelope; a dead letter or a rejection
    by position when the record cannot be read as an event."""
    hdrs = text_headers(record.headers)
    now = context.now
    value = record.value
    if value is None or len(value) == 0:
        return answers.dead_lettered(
            record, hdrs, "EMPTY_VALUE", "l'enregistrement n'a pas de valeur", now
        )
    limit = context.policy.max_message_bytes
    if len(value) > limit:
        message = f"la valeur de l'enregistrement dépasse {limit} octets"
        return answers.dead_lettered(record, hdrs, "TOO_LARGE", message, now)
    framed = framing.unframe(value)
    if framed is not None and not context.policy.registry_framing:
        message = framing.FRAMED_WITHOUT_REGISTRY_MESSAGE
        return answers.dead_lettered(record, hdrs, framing.FRAMED_WITHOUT_REGISTRY, message, now)
    payload = framed.payload if framed is not None else value
    obj, value_problem = parse_value(payload)
    bound = binding.unbind(record.headers, payload, obj)
    if bound.mode is ContentMode.STRUCTURED and obj is None:
        assert value_problem is not None  # a structured event is a JSON object or unreadable
        message = VALUE_PROBLEMS[value_problem]
        return answers.dead_lettered(record, hdrs, value_problem, message, now)
    if bound.mode is ContentMode.BINARY and binding.is_structured(
        binding.content_type(record.headers)
    ):
        message = binding.UNSUPPORTED_MESSAGE
        return answers.dead_lettered(record, hdrs, binding.UNSUPPORTED_CONTENT_TYPE, message, now)
    hdrs = bound.correlation(hdrs)
    try:
        envelope = bound.envelope(record.key)
    except EnvelopeError as exc:
        readable = bound.content_problem is not None
        reason = _undecodable_envelope(exc) or (None if readable else value_problem)
        if reason is not None:
            return answers.dead_lettered(record, hdrs, reason, "", now, exc)
        return answers.rejected_envelope(record, hdrs, exc, now)
    if any(unsafe_text(t) for t in (envelope.id, envelope.subject, envelope.source)) or (
        record.key is not None and key_text(record.key) is None
    ):
        # Nothing of it can be stored or echoed safely: dead letter, identified by position.
        message = "un en-tête ce_* ou la clé " + BAD_CHARACTER
        return answers.dead_lettered(record, {}, "ENVELOPE_INVALID_CHARACTER", message, now)
    return _Read(value, framed, obj, value_problem, bound, envelope, hdrs)


def _check_content(read: _Read, context: Context) -> None:
    """Data relais can read (JSON), framed (if at all) by the relais schema of its type."""
    if read.bound.content_problem is not None:
        raise Refusal(read.bound.content_problem)
    if read.framed is None:
        return
    schema_type = context.schema_types.get(read.framed.schema_id)
    if schema_type is None:
        raise Refusal(error(framing.SCHEMA_MISMATCH, "value", framing.SCHEMA_UNKNOWN_MESSAGE))
    if schema_type is not read.envelope.type:
        raise Refusal(error(framing.SCHEMA_MISMATCH, "value", framing.SCHEMA_OTHER_TYPE_MESSAGE))


def _data_object(bound: binding.Bound) -> dict[str, Any]:
    """The event's data as a JSON object (a structured event's ``data`` member may be missing
    or something else: refused)."""
    if isinstance(bound.data, dict):
        return bound.data
    if bound.data is None:
        raise Refusal(error("DATA_MISSING", "data", "l'événement n'a pas de données (data)"))
    raise Refusal(error("DATA_NOT_OBJECT", "data", "data doit être un objet JSON"))


def _dossier(event: CfaEvent, data: DossierSubmittedData, cfa: str, context: Context) -> Plan:
    check = context.rules.check_dossier(data, context.today)
    if check.errors:
        raise Refusal(*check.errors)
    if check.opco is None:
        raise Refusal(
            error("ROUTING_NO_OPCO", "data", "aucun OPCO compétent n'a pu être déterminé")
        )
    return answers.accepted(event, cfa, check.opco, context.now)


@dataclass(frozen=True)
class FollowUp:
    """A follow-up (convention, facture, certificat, rupture) decided up to its dossiers: its
    OPCO is the one of its dossier(s) in the ledger (``dossier_ids``, read by the caller)."""

    record: Record
    event: CfaEvent
    cfa: str
    check: RuleCheck  # its control rules, already run

    @property
    def dossier_ids(self) -> list[str]:
        data = self.event.data
        if isinstance(data, FactureSubmittedData):
            return data.facture.dossier_ids
        return [self.event.dossier_id]

    def decide(self, known: Mapping[str, KnownDossier | None], now: datetime) -> Plan:
        """Accepted when every dossier is known at one OPCO (and an explicit numeroInterneDossier
        is the ledger's), else refused with every error, the control rules' first."""
        opco, found, numero = self._routing(known)
        errors = (*self.check.errors, *found)
        if errors:
            envelope = self.event.envelope
            return answers.rejected(self.record, envelope, self.cfa, errors, now)
        assert opco is not None
        data = self.event.data
        depends_on: list[str] = []
        if isinstance(data, FactureSubmittedData):
            depends_on = [d for d in data.facture.dossier_ids if d != self.event.dossier_id]
        return answers.accepted(
            self.event, self.cfa, opco, now, numero=numero, depends_on=depends_on
        )

    def _routing(
        self, known: Mapping[str, KnownDossier | None]
    ) -> tuple[OpcoCode | None, list[ErrorItem], str | None]:
        """The OPCO of the follow-up's dossier(s), the errors found, the own dossier's numero."""
        event = self.event
        errors: list[ErrorItem] = []
        opcos: dict[str, str] = {}
        numero: str | None = None
        paths = self._paths()
        for dossier_id in self.dossier_ids:
            dossier = known.get(dossier_id)
            if dossier is None:
                message = "relais ne connaît aucun dossier de ce CFA sous cet identifiant"
                errors.append(error("DOSSIER_UNKNOWN", paths[dossier_id], message))
                continue
            opcos[dossier_id] = dossier.opco
            if dossier_id == event.dossier_id:
                numero = dossier.numero_interne
        if len(set(opcos.values())) > 1:
            message = "une facture ne peut porter que sur des dossiers d'un même OPCO"
            errors.append(error("FACTURE_SEVERAL_OPCO", "data.facture.lignes", message))
        explicit = explicit_numero(event.data)
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

    def _paths(self) -> dict[str, str]:
        data = self.event.data
        if isinstance(data, FactureSubmittedData):
            return {
                line.dossierId: f"data.facture.lignes[{i}].dossierId"
                for i, line in reversed(list(enumerate(data.facture.lignes)))
            }
        return {self.event.dossier_id: "ce_subject"}


def _numero_errors(explicit: tuple[str, object], known: str | None) -> list[ErrorItem]:
    """An explicit numeroInterneDossier against the ledger's for (CFA, dossier id); neither value
    is echoed (one may be another CFA's)."""
    path, value = explicit
    if known is None:
        message = (
            "relais ne connaît pas encore le numéro du dossier à l'OPCO et ne peut donc pas "
            "vérifier numeroInterneDossier : omettez-le (relais le renseigne) ou envoyez plus tard"
        )
        return [error("DOSSIER_NUMERO_UNVERIFIABLE", path, message)]
    if value != known:
        message = "numeroInterneDossier n'est pas le numéro à l'OPCO de ce dossier du CFA"
        return [error("DOSSIER_NUMERO_MISMATCH", path, message)]
    return []


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
