"""CFA -> relais event contracts, v1: the CloudEvents envelope and one data model per action.

On Kafka an event is a record whose headers carry the CloudEvents 1.0 attributes (binary content
mode) and whose value is the JSON ``data``::

    key      = the CFA's own dossier id (= ce_subject)
    headers  = ce_specversion=1.0, ce_id, ce_type, ce_source (CFA SIRET), ce_time, ce_subject,
               [ce_datacontenttype=application/json], [ce_signature=<hex HMAC>]
    value    = {"cerfa": {...}}            (for fr.cfa.dossier.submitted.v1, see ``EventType``)

In a file (``relais validate``, ``relais send``) the same event is the CloudEvents *structured* JSON
``{"specversion","id","type","source","subject","time","data"}``; ``structured_to_record`` and
``record_to_structured`` convert between the two forms.

Decoding never raises anything but ``EventError`` subclasses, which carry every problem found as a
list of ``ErrorItem`` (code, severity, path, message): ingest turns them into one "rejected" status
event (or a dead letter when ``undecodable``). Messages name fields, never values, so they can be
published and logged without leaking personal data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, NamedTuple, TypeAlias, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from relais.domain.document_event import DocumentSubmittedData as DocumentSubmittedData
from relais.domain.facture_event import LAST_ECHEANCE as LAST_ECHEANCE
from relais.domain.facture_event import FactureCFA as FactureCFA
from relais.domain.facture_event import FactureSubmittedData as FactureSubmittedData
from relais.domain.facture_event import LigneFacture as LigneFacture
from relais.domain.facture_event import OrganismeFacturant as OrganismeFacturant
from relais.domain.files import FileReference
from relais.domain.json_types import Json
from relais.domain.messages_fr import french
from relais.domain.opco import OpcoCode
from relais.errors import InputError

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADER_PREFIX = "ce_"
NOT_FINITE = "la valeur contient un nombre non fini (NaN, Infinity ou hors limites)"


class EventType(StrEnum):
    """The CFA event types (one per action). The suffix ``.v1`` is the contract version."""

    DOSSIER_SUBMITTED = "fr.cfa.dossier.submitted.v1"
    CONVENTION_SUBMITTED = "fr.cfa.convention.submitted.v1"
    FACTURE_SUBMITTED = "fr.cfa.facture.submitted.v1"
    CERTIFICAT_SUBMITTED = "fr.cfa.certificat.submitted.v1"
    RUPTURE_DECLARED = "fr.cfa.rupture.declared.v1"
    DOCUMENT_SUBMITTED = "fr.cfa.document.submitted.v1"


class EventKind(StrEnum):
    """What an event asks relais to do at the OPCO (same values as the ledger's CommandKind)."""

    DOSSIER = "dossier"
    CONVENTION = "convention"
    FACTURE = "facture"
    CERTIFICAT = "certificat"
    RUPTURE = "rupture"
    DOCUMENT = "document"


KIND_OF_TYPE: dict[EventType, EventKind] = {
    EventType.DOSSIER_SUBMITTED: EventKind.DOSSIER,
    EventType.CONVENTION_SUBMITTED: EventKind.CONVENTION,
    EventType.FACTURE_SUBMITTED: EventKind.FACTURE,
    EventType.CERTIFICAT_SUBMITTED: EventKind.CERTIFICAT,
    EventType.RUPTURE_DECLARED: EventKind.RUPTURE,
    EventType.DOCUMENT_SUBMITTED: EventKind.DOCUMENT,
}


# --------------------------------------------------------------------------------------------
# Structured problems
# --------------------------------------------------------------------------------------------


class ErrorItem(BaseModel):
    """One problem with an input: a stable code, a field path, a message that names no value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    severity: Literal["error", "warning"] = "error"
    path: str = ""
    message: str = ""

    @property
    def ref(self) -> str:
        """``CODE:path``: what logs and error texts name (no "@": it would read as an e-mail)."""
        return f"{self.code}:{self.path}" if self.path else self.code


class EventError(InputError):
    """A CFA event that cannot be accepted. ``errors`` lists every problem found, not the first.

    ``undecodable`` is True when the record cannot even be read as an event (no usable id, not
    JSON...): ingest dead-letters it instead of answering with a "rejected" status.
    """

    code = "EVENT_INVALID"
    undecodable: bool = False

    def __init__(self, errors: Iterable[ErrorItem], *, undecodable: bool | None = None) -> None:
        self.errors: tuple[ErrorItem, ...] = tuple(errors)
        if undecodable is not None:
            self.undecodable = undecodable
        summary = ", ".join(e.ref for e in self.errors[:5])
        more = f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{self.code}: {summary}{more}")


class EnvelopeError(EventError):
    """The CloudEvents attributes (headers or structured fields) are missing or invalid."""

    code = "ENVELOPE_INVALID"


class PayloadError(EventError):
    """The ``data`` does not match the model of its event type."""

    code = "PAYLOAD_INVALID"


def errors_from_validation(exc: ValidationError, prefix: str = "") -> list[ErrorItem]:
    """Turn a pydantic ValidationError into ErrorItems without echoing the input values."""
    items: list[ErrorItem] = []
    for err in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in err["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        items.append(ErrorItem(code=schema_error_code(err["type"]), path=path, message=french(err)))
    return items


def schema_error_code(error_type: str) -> str:
    """The code of a problem with the data against its model (a pydantic error type)."""
    return f"SCHEMA_{error_type.upper()}"


# --------------------------------------------------------------------------------------------
# ce_source: which CFA
# --------------------------------------------------------------------------------------------

_SIRET = re.compile(r"^[0-9]{14}$")
_UAI = re.compile(r"^[0-9]{7}[A-Za-z]$")


class SourceRef(NamedTuple):
    """The CFA named by ``ce_source``: a SIRET, or a UAI that the caller maps to a SIRET."""

    scheme: Literal["siret", "uai"]
    value: str


def parse_source(source: str) -> SourceRef:
    """Parse ``ce_source``: ``urn:siret:<siret>``, ``<siret>``, ``urn:uai:<uai>`` or ``<uai>``.

    Raises ``ValueError`` (with a message naming the accepted forms) when it is none of them.
    """
    token = source.strip()
    lowered = token.lower()
    for scheme in ("siret", "uai"):
        prefix = f"urn:{scheme}:"
        if lowered.startswith(prefix):
            token = token[len(prefix) :]
            break
    token = token.replace(" ", "")
    if _SIRET.match(token) and not lowered.startswith("urn:uai:"):
        return SourceRef("siret", token)
    if _UAI.match(token) and not lowered.startswith("urn:siret:"):
        return SourceRef("uai", token.upper())
    raise ValueError(
        "ce_source doit être le SIRET du CFA (14 chiffres, ou 'urn:siret:<siret>') "
        "ou son UAI (7 chiffres et une lettre, ou 'urn:uai:<uai>')"
    )


# --------------------------------------------------------------------------------------------
# The envelope
# --------------------------------------------------------------------------------------------

MAX_EVENT_BYTES = 1_048_576  # default largest record value of a CFA event (Kafka's record limit)
MAX_ID = 200  # characters of an id: ce_id, ce_subject (= the Kafka key), a dossierId
_SOURCE_PATTERN = r"^(?:(?:urn:siret:)?[0-9]{14}|(?:urn:uai:)?[0-9]{7}[A-Za-z])$"

SpecVersion = Annotated[Literal["1.0"], Field(description="CloudEvents spec version")]
EventId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ID,
        description="Unique event id: the CFA's idempotency key (a resend keeps it)",
    ),
]
Source = Annotated[
    str,
    Field(
        min_length=1,
        description="The CFA: its SIRET ('urn:siret:<14 digits>' or plain) or a configured UAI",
        json_schema_extra={"pattern": _SOURCE_PATTERN},
    ),
]
Subject = Annotated[
    str,
    Field(min_length=1, max_length=MAX_ID, description="The CFA's own dossier id (= Kafka key)"),
]
Time = Annotated[
    datetime, Field(description="When the CFA emitted the event (RFC 3339, with an offset)")
]
DataContentType = Annotated[
    Literal["application/json"] | None, Field(description="Media type of data (JSON only)")
]
Signature = Annotated[
    str | None,
    Field(
        pattern=r"^[0-9a-fA-F]{32,128}$",
        description="Optional hex HMAC binding the event to the CFA (tenant binding)",
    ),
]


class Envelope(BaseModel):
    """The CloudEvents context attributes of a CFA event (everything but ``data``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: SpecVersion
    id: EventId
    type: EventType = Field(description="Event type, one per action")
    source: Source
    subject: Subject
    time: Time
    datacontenttype: DataContentType = None
    signature: Signature = None

    @field_validator("source")
    @classmethod
    def _source_is_a_cfa(cls, value: str) -> str:
        parse_source(value)
        return value

    @field_validator("time")
    @classmethod
    def _time_has_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("ce_time doit porter un décalage horaire (RFC 3339)")
        return value

    @property
    def source_ref(self) -> SourceRef:
        return parse_source(self.source)

    @property
    def kind(self) -> EventKind:
        return KIND_OF_TYPE[self.type]

    @property
    def dossier_id(self) -> str:
        return self.subject

    def headers(self) -> dict[str, str]:
        """The Kafka headers of this envelope (binary content mode), as text."""
        out = {
            "ce_specversion": self.specversion,
            "ce_id": self.id,
            "ce_type": self.type.value,
            "ce_source": self.source,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
        }
        if self.datacontenttype is not None:
            out["ce_datacontenttype"] = self.datacontenttype
        if self.signature is not None:
            out["ce_signature"] = self.signature
        return out


ENVELOPE_ATTRIBUTES: tuple[str, ...] = (
    "specversion",
    "id",
    "type",
    "source",
    "subject",
    "time",
    "datacontenttype",
    "signature",
)
_REQUIRED_ATTRIBUTES = ("specversion", "id", "type", "source", "subject", "time")

HeaderValue: TypeAlias = bytes | str
Headers: TypeAlias = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue | None]]


def _decode_header(value: HeaderValue | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def _envelope_errors(
    exc: ValidationError, where: Literal["headers", "structured"]
) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    for err in exc.errors(include_input=False, include_url=False):
        attr = str(err["loc"][0]) if err["loc"] else ""
        path = f"{HEADER_PREFIX}{attr}" if where == "headers" else attr
        code = envelope_error_code(attr, err["type"])
        items.append(ErrorItem(code=code, path=path, message=french(err)))
    return items


def envelope_error_code(attr: str, error_type: str) -> str:
    """The code of a problem with the envelope attribute ``attr`` (a pydantic error type):
    the same for ingest (headers) and ``relais validate`` (structured events)."""
    if error_type == "missing":
        return "ENVELOPE_MISSING_ATTRIBUTE"
    if error_type == "extra_forbidden":
        return "ENVELOPE_UNKNOWN_ATTRIBUTE"
    if attr == "type" and error_type == "enum":
        return "ENVELOPE_UNKNOWN_TYPE"
    if attr == "specversion":
        return "ENVELOPE_UNSUPPORTED_SPECVERSION"
    if attr == "source":
        return "ENVELOPE_INVALID_SOURCE"
    if attr == "datacontenttype":
        return "ENVELOPE_UNSUPPORTED_CONTENT_TYPE"  # JSON data only
    return "ENVELOPE_INVALID_ATTRIBUTE"


def _check_key(envelope: Envelope, key: bytes | str | None, errors: list[ErrorItem]) -> None:
    if key is None:
        return
    try:
        text = _decode_header(key)
    except UnicodeDecodeError:
        errors.append(ErrorItem(code="RECORD_KEY_NOT_UTF8", path="key", message="pas en UTF-8"))
        return
    if text != envelope.subject:
        errors.append(
            ErrorItem(
                code="RECORD_KEY_MISMATCH",
                path="key",
                message="la clé Kafka doit être ce_subject (l'identifiant du dossier du CFA)",
            )
        )


def envelope_from_headers(headers: Headers, *, key: bytes | str | None = None) -> Envelope:
    """Read the CloudEvents attributes from Kafka headers (``ce_*``; other headers are ignored).

    ``headers`` is a mapping or the (name, value) pairs aiokafka gives. When ``key`` is given it
    must equal ``ce_subject``. Raises ``EnvelopeError`` listing every problem; it is
    ``undecodable`` when no usable ``ce_id`` is present (nothing to correlate a rejection with).
    """
    attrs, errors = header_attributes(headers)
    return build_envelope(attrs, errors, "headers", key)


def header_attributes(headers: Headers) -> tuple[dict[str, str], list[ErrorItem]]:
    """The envelope's attributes as sent in ``ce_*`` headers (text, first occurrence), and the
    problems of the headers themselves (not UTF-8, given twice). Unknown ``ce_*`` headers
    (CloudEvents extensions relais does not use) are left out."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    attrs: dict[str, str] = {}
    errors: list[ErrorItem] = []
    for name, raw in pairs:
        lname = name.lower()
        if not lname.startswith(HEADER_PREFIX):
            continue
        attr = lname[len(HEADER_PREFIX) :]
        if attr not in ENVELOPE_ATTRIBUTES:
            continue  # CloudEvents extensions we do not use are allowed
        try:
            value = _decode_header(raw)
        except UnicodeDecodeError:
            errors.append(ErrorItem(code="HEADER_NOT_UTF8", path=lname, message="pas en UTF-8"))
            continue
        if value is None:
            continue
        if attr in attrs:
            errors.append(
                ErrorItem(
                    code="HEADER_DUPLICATE", path=lname, message="en-tête donné plusieurs fois"
                )
            )
            continue
        attrs[attr] = value
    return attrs, errors


def build_envelope(
    attrs: Mapping[str, Any],
    errors: list[ErrorItem],
    where: Literal["headers", "structured"],
    key: bytes | str | None,
) -> Envelope:
    """The envelope of ``attrs`` (attribute -> value as sent) or an ``EnvelopeError`` listing
    ``errors`` and every problem found (``where``: how paths are named, ``ce_id`` or ``id``)."""
    envelope: Envelope | None = None
    try:
        envelope = Envelope.model_validate(dict(attrs))
    except ValidationError as exc:
        errors.extend(_envelope_errors(exc, where))
    if envelope is not None:
        _check_key(envelope, key, errors)
    if errors:
        event_id = attrs.get("id")
        usable_id = isinstance(event_id, str) and 0 < len(event_id) <= MAX_ID
        raise EnvelopeError(errors, undecodable=not usable_id)
    assert envelope is not None
    return envelope


# --------------------------------------------------------------------------------------------
# Data models, one per event type
# --------------------------------------------------------------------------------------------

# ``Json`` (a cerfa, convention, certificat object of the convergence standard) is checked by the
# control rules of ``relais.domain.validation`` rather than by the event contract.

_Data = ConfigDict(extra="forbid", frozen=True)


class DossierSubmittedData(BaseModel):
    """A new contract, a succession or an avenant (nature from ``cerfa.contrat.typeContratApp``)."""

    model_config = _Data

    opco: OpcoCode | None = Field(
        default=None, description="Explicit OPCO; wins over routing by the employer's IDCC"
    )
    cerfa: Json = Field(description="The CERFA 10103 object, in the standard's field names")


class ConventionSubmittedData(BaseModel):
    """The convention de formation of the dossier named by ce_subject."""

    model_config = _Data

    numeroInterneDossier: str | None = Field(
        default=None, description="OPCO id of the dossier; relais fills it in when absent"
    )
    convention: Json = Field(description="Convention body; relais fills numeroInterneDossier in")
    fichier: FileReference | None = Field(
        default=None,
        description=(
            "The signed convention (pdf, jpg or png) by reference (s3://, local, data:), sent in "
            "the multipart part 'fichier' where the OPCO takes multipart; required there"
        ),
    )


class CertificatSubmittedData(BaseModel):
    """A certificat de réalisation (without numeroInterneDossier: relais fills it in)."""

    model_config = _Data

    certificat: Json


class Rupture(BaseModel):
    model_config = _Data

    dateRupture: date
    motif: str = Field(min_length=1, max_length=255)


class RuptureDeclaredData(BaseModel):
    """An early termination of the contract of the dossier named by ce_subject."""

    model_config = _Data

    rupture: Rupture


EventData: TypeAlias = (
    DossierSubmittedData
    | ConventionSubmittedData
    | FactureSubmittedData
    | CertificatSubmittedData
    | RuptureDeclaredData
    | DocumentSubmittedData
)

DATA_MODELS: dict[EventType, type[BaseModel]] = {
    EventType.DOSSIER_SUBMITTED: DossierSubmittedData,
    EventType.CONVENTION_SUBMITTED: ConventionSubmittedData,
    EventType.FACTURE_SUBMITTED: FactureSubmittedData,
    EventType.CERTIFICAT_SUBMITTED: CertificatSubmittedData,
    EventType.RUPTURE_DECLARED: RuptureDeclaredData,
    EventType.DOCUMENT_SUBMITTED: DocumentSubmittedData,
}


# --------------------------------------------------------------------------------------------
# A whole event (structured form), one model per type for the JSON Schemas
# --------------------------------------------------------------------------------------------


class _StructuredBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: SpecVersion
    id: EventId
    source: Source
    subject: Subject
    time: Time
    datacontenttype: DataContentType = None
    signature: Signature = None


class DossierSubmitted(_StructuredBase):
    type: Literal[EventType.DOSSIER_SUBMITTED]
    data: DossierSubmittedData


class ConventionSubmitted(_StructuredBase):
    type: Literal[EventType.CONVENTION_SUBMITTED]
    data: ConventionSubmittedData


class FactureSubmitted(_StructuredBase):
    type: Literal[EventType.FACTURE_SUBMITTED]
    data: FactureSubmittedData


class CertificatSubmitted(_StructuredBase):
    type: Literal[EventType.CERTIFICAT_SUBMITTED]
    data: CertificatSubmittedData


class RuptureDeclared(_StructuredBase):
    type: Literal[EventType.RUPTURE_DECLARED]
    data: RuptureDeclaredData


class DocumentSubmitted(_StructuredBase):
    type: Literal[EventType.DOCUMENT_SUBMITTED]
    data: DocumentSubmittedData


STRUCTURED_MODELS: dict[EventType, type[_StructuredBase]] = {
    EventType.DOSSIER_SUBMITTED: DossierSubmitted,
    EventType.CONVENTION_SUBMITTED: ConventionSubmitted,
    EventType.FACTURE_SUBMITTED: FactureSubmitted,
    EventType.CERTIFICAT_SUBMITTED: CertificatSubmitted,
    EventType.RUPTURE_DECLARED: RuptureDeclared,
    EventType.DOCUMENT_SUBMITTED: DocumentSubmitted,
}

StructuredEvent = Annotated[
    DossierSubmitted
    | ConventionSubmitted
    | FactureSubmitted
    | CertificatSubmitted
    | RuptureDeclared
    | DocumentSubmitted,
    Field(discriminator="type"),
]
STRUCTURED_EVENT: TypeAdapter[StructuredEvent] = TypeAdapter(StructuredEvent)


class CfaEvent(BaseModel):
    """A decoded CFA event: its envelope and its typed data."""

    model_config = ConfigDict(frozen=True)

    envelope: Envelope
    data: EventData

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def type(self) -> EventType:
        return self.envelope.type

    @property
    def kind(self) -> EventKind:
        return self.envelope.kind

    @property
    def dossier_id(self) -> str:
        return self.envelope.subject


class NonFiniteNumberError(ValueError):
    """A JSON number that is not finite: ``NaN``, ``Infinity`` or one out of range (``1e999999``).
    Python reads them as floats that JSON cannot carry: sent on, they become ``null``."""


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFiniteNumberError("a JSON number is out of range")
    return number


def _no_constant(name: str) -> Any:
    raise NonFiniteNumberError(f"{name} is not a JSON number")


def loads_json(value: bytes | str) -> Any:
    """``json.loads`` that refuses non-finite numbers (``NonFiniteNumberError``, a ValueError)."""
    return json.loads(value, parse_float=_finite_float, parse_constant=_no_constant)


def decode_data(envelope: Envelope, value: bytes | str | Mapping[str, Any]) -> EventData:
    """Parse and check the JSON ``data`` against the model of ``envelope.type``.

    Raises ``PayloadError``: ``undecodable`` when the value is not a JSON object at all.
    """
    if isinstance(value, Mapping):
        obj: Any = dict(value)
    else:
        try:
            obj = loads_json(value)
        except NonFiniteNumberError:
            raise PayloadError(
                [ErrorItem(code="DATA_NOT_FINITE", path="data", message=NOT_FINITE)],
                undecodable=True,
            ) from None
        except (UnicodeDecodeError, ValueError):
            raise PayloadError(
                [ErrorItem(code="DATA_NOT_JSON", path="data", message="valeur non JSON")],
                undecodable=True,
            ) from None
    if not isinstance(obj, dict):
        raise PayloadError(
            [ErrorItem(code="DATA_NOT_OBJECT", path="data", message="objet JSON attendu")],
            undecodable=True,
        )
    model = DATA_MODELS[envelope.type]
    try:
        data = model.model_validate(obj)
    except ValidationError as exc:
        raise PayloadError(errors_from_validation(exc, "data")) from None
    return cast(EventData, data)  # DATA_MODELS maps each type to one EventData model


def decode_record(headers: Headers, value: bytes, *, key: bytes | str | None = None) -> CfaEvent:
    """Decode one Kafka record into a ``CfaEvent`` (raises ``EnvelopeError``/``PayloadError``)."""
    envelope = envelope_from_headers(headers, key=key)
    return CfaEvent(envelope=envelope, data=decode_data(envelope, value))


def parse_structured(obj: Mapping[str, Any]) -> CfaEvent:
    """Decode a structured CloudEvent (the file form) into a ``CfaEvent``."""
    if not isinstance(obj, Mapping):
        raise EnvelopeError(
            [ErrorItem(code="EVENT_NOT_OBJECT", path="", message="un événement est un objet JSON")],
            undecodable=True,
        )
    attrs = {k: v for k, v in obj.items() if k != "data"}
    envelope = build_envelope(attrs, [], "structured", None)
    if "data" not in obj:
        raise PayloadError(
            [ErrorItem(code="DATA_MISSING", path="data", message="l'événement n'a pas de data")]
        )
    data = obj["data"]
    if not isinstance(data, Mapping):
        raise PayloadError(
            [ErrorItem(code="DATA_NOT_OBJECT", path="data", message="data doit être un objet JSON")]
        )
    return CfaEvent(envelope=envelope, data=decode_data(envelope, data))


def to_structured(event: CfaEvent) -> dict[str, Any]:
    """The file form of an event (JSON-ready dict)."""
    out: dict[str, Any] = event.envelope.model_dump(mode="json", exclude_none=True)
    out["data"] = event.data.model_dump(mode="json", exclude_none=True)
    return out


# --------------------------------------------------------------------------------------------
# Kafka record <-> structured JSON
# --------------------------------------------------------------------------------------------


class KafkaRecord(NamedTuple):
    """What a producer sends: key and value bytes, headers as aiokafka wants them."""

    key: bytes
    headers: list[tuple[str, bytes]]
    value: bytes


def encode_json(obj: Any) -> bytes:
    """Compact, deterministic UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def structured_to_record(obj: Mapping[str, Any]) -> KafkaRecord:
    """Turn a structured CloudEvent (file form) into a Kafka record (binary content mode).

    The event is checked first (envelope and data); raises ``EnvelopeError``/``PayloadError``.
    """
    event = parse_structured(obj)
    headers = event.envelope.headers()
    headers.setdefault("ce_datacontenttype", CONTENT_TYPE)
    value = encode_json(dict(obj["data"]))
    return KafkaRecord(
        key=event.envelope.subject.encode(),
        headers=[(name, text.encode()) for name, text in headers.items()],
        value=value,
    )


def record_to_structured(
    key: bytes | str | None, headers: Headers, value: bytes | str
) -> dict[str, Any]:
    """Turn a Kafka record back into the structured JSON form (checked like ingest does)."""
    envelope = envelope_from_headers(headers, key=key)
    decode_data(envelope, value)
    out: dict[str, Any] = envelope.model_dump(mode="json", exclude_none=True)
    out["data"] = loads_json(value)
    return out
