"""The CloudEvents Kafka protocol binding of a CFA event, read through the ``cloudevents`` SDK
(``cloudevents.core.bindings.kafka``): the record's content mode, its attributes, its data.

    binary      the attributes are ``ce_*`` headers, the data's media type is the ``content-type``
                header (``ce_datacontenttype`` is still read when there is no ``content-type``),
                the value is the data
    structured  ``content-type: application/cloudevents+json``: the whole event, attributes and
                ``data``, is the value (what the CloudEvents SDKs produce by default)

relais handles JSON data only: another data media type (``application/xml``, ``data_base64``) is
refused with ``ENVELOPE_UNSUPPORTED_CONTENT_TYPE``, a ``rejected`` status once the source is
established; another structured format (``application/cloudevents+avro``, a batch) cannot be
read at all and is dead-lettered with the same code.

The SDK maps headers and value to an event and checks the CloudEvents core rules; what relais
validates (``Envelope``) are the attribute values as sent, never the SDK's: its event factory
fills a missing ``id`` or ``time`` in, which relais must refuse instead. Everything is bounded
before the SDK sees it: the value by the size cap and parsed once by ``hygiene`` (depth, finite
numbers), the ``content-type`` header to ``MAX_CONTENT_TYPE`` characters.

Signatures (``signature.py``): in structured mode ``ce_signature`` stays a Kafka header (a
``signature`` member inside the value is refused: the value is what is signed) and signs the
attributes as they appear in the value, then the whole value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from relais.domain.events import (
    CONTENT_TYPE,
    ENVELOPE_ATTRIBUTES,
    Envelope,
    ErrorItem,
    build_envelope,
    header_attributes,
)
from relais.services.ingest.hygiene import error, unsafe_text, usable_id

CONTENT_TYPE_HEADER = "content-type"
STRUCTURED_CONTENT_TYPE = JSONFormat.CONTENT_TYPE  # application/cloudevents+json
MAX_CONTENT_TYPE = 200  # characters of a content-type header relais reads

UNSUPPORTED_CONTENT_TYPE = "ENVELOPE_UNSUPPORTED_CONTENT_TYPE"
UNSUPPORTED_MESSAGE = (
    "type de contenu non pris en charge : relais accepte des données JSON "
    "(content-type application/json) en mode binaire, ou un événement entier en mode structuré "
    "(content-type application/cloudevents+json)"
)
SIGNATURE_IN_VALUE = "ENVELOPE_SIGNATURE_IN_VALUE"
SIGNATURE_IN_VALUE_MESSAGE = (
    "en mode structuré, la signature se place dans l'en-tête Kafka ce_signature, pas dans "
    "l'événement (la valeur entière est signée)"
)
_JSON_FORMAT = JSONFormat()


class ContentMode(StrEnum):
    BINARY = "binary"
    STRUCTURED = "structured"


@dataclass(frozen=True)
class Bound:
    """A record read through the binding (before the envelope is validated)."""

    mode: ContentMode
    attributes: dict[str, Any]  # attribute -> value as sent (text in binary mode)
    errors: list[ErrorItem] = field(default_factory=list)  # of the attributes' carriers
    data: Any = None  # the JSON data (a parsed value, or the structured event's ``data``)
    content_problem: ErrorItem | None = None  # data that is not JSON: refused once trusted

    def envelope(self, key: bytes | None) -> Envelope:
        """The validated envelope (raises ``EnvelopeError`` with every problem)."""
        if self.mode is ContentMode.BINARY:
            return build_envelope(self.attributes, list(self.errors), "headers", key)
        return build_envelope(self.attributes, list(self.errors), "structured", key)

    def signed_headers(self) -> dict[str, str]:
        """What ``signature.signing_input`` reads: ``ce_<attribute>`` -> its text as sent."""
        return {f"ce_{k}": v for k, v in self.attributes.items() if isinstance(v, str)}

    def correlation(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The ce_* texts that name the event in a dead letter or a status (bounded)."""
        if self.mode is ContentMode.BINARY:
            return dict(headers)
        return {
            f"ce_{k}": v
            for k, v in self.attributes.items()
            if isinstance(v, str) and usable_id(v) and not unsafe_text(v)
        }


def content_type(headers: Sequence[tuple[str, bytes]]) -> str | None:
    """The first ``content-type`` header (any case) as text; "" when unreadable or too long."""
    for name, raw in headers:
        if name.lower() != CONTENT_TYPE_HEADER:
            continue
        if len(raw) > MAX_CONTENT_TYPE:
            return ""
        try:
            return raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return ""
    return None


def media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def is_structured(value: str | None) -> bool:
    """A structured-mode record (whatever its format): ``application/cloudevents...``."""
    return value is not None and media_type(value).startswith("application/cloudevents")


def json_data(value: str | None) -> bool:
    """Whether a data content type is JSON as relais reads it (no type: JSON by default)."""
    if value is None:
        return True
    kind, _, params = value.partition(";")
    if kind.strip().lower() != CONTENT_TYPE:
        return False
    for param in params.split(";"):
        name, _, arg = param.partition("=")
        if name.strip().lower() == "charset" and arg.strip().strip('"').lower() != "utf-8":
            return False
    return True


def unsupported(path: str) -> ErrorItem:
    return error(UNSUPPORTED_CONTENT_TYPE, path, UNSUPPORTED_MESSAGE)


def unbind(
    headers: Sequence[tuple[str, bytes]], value: bytes, parsed: dict[str, Any] | None
) -> Bound:
    """The record as a CloudEvent: binary or structured (``parsed``: the value as JSON, or None
    when it is not a JSON object). A structured record whose format is not JSON is for the
    caller to dead-letter (``is_structured`` but not ``STRUCTURED_CONTENT_TYPE``)."""
    declared = content_type(headers)
    if declared is not None and media_type(declared) == STRUCTURED_CONTENT_TYPE:
        return _structured(headers, value, parsed)
    return _binary(headers, declared, parsed)


def _binary(
    headers: Sequence[tuple[str, bytes]], declared: str | None, parsed: dict[str, Any] | None
) -> Bound:
    attrs, errors = header_attributes(headers)
    sdk_headers = {f"ce_{k}": v.encode() for k, v in attrs.items()}
    if declared is not None:
        sdk_headers[CONTENT_TYPE_HEADER] = declared.encode()  # last: it wins over the ce_ form
    event = _sdk_event(
        lambda: kafka.from_binary(
            kafka.KafkaMessage(headers=sdk_headers, key=None, value=b""), _JSON_FORMAT, CloudEvent
        )
    )
    datacontenttype = attrs.pop("datacontenttype", None)
    if event is not None:
        datacontenttype = event.get_attributes().get("datacontenttype")
    elif declared is not None:
        datacontenttype = declared
    where = CONTENT_TYPE_HEADER if declared is not None else "ce_datacontenttype"
    problem = None if json_data(datacontenttype) else unsupported(where)
    if datacontenttype is not None and problem is None:
        attrs["datacontenttype"] = CONTENT_TYPE
    return Bound(ContentMode.BINARY, dict(attrs), errors, parsed, problem)


def _structured(
    headers: Sequence[tuple[str, bytes]], value: bytes, parsed: dict[str, Any] | None
) -> Bound:
    if parsed is None:
        return Bound(ContentMode.STRUCTURED, {})
    attrs: dict[str, Any] = {k: v for k, v in parsed.items() if k in ENVELOPE_ATTRIBUTES}
    errors: list[ErrorItem] = []
    for name in [k for k, v in attrs.items() if not isinstance(v, str)]:
        # The JSON event format writes every attribute as a string (a number would pass for a
        # Unix time in the envelope model): refused, as the SDK refuses it.
        errors.append(error("ENVELOPE_INVALID_ATTRIBUTE", name, "doit être une chaîne JSON"))
    if "signature" in attrs:
        errors.append(error(SIGNATURE_IN_VALUE, "signature", SIGNATURE_IN_VALUE_MESSAGE))
        del attrs["signature"]
    header_attrs, header_errors = header_attributes(headers)
    errors.extend(e for e in header_errors if e.path == "ce_signature")
    if "signature" in header_attrs:
        attrs["signature"] = header_attrs["signature"]
    event = _sdk_event(
        lambda: kafka.from_structured(
            kafka.KafkaMessage(headers={}, key=None, value=value), _JSON_FORMAT, CloudEvent
        )
    )
    data = event.get_data() if event is not None else parsed.get("data")
    datacontenttype = attrs.get("datacontenttype")
    problem = None
    if "data_base64" in parsed or isinstance(data, bytes) or not json_data(datacontenttype):
        problem = unsupported("datacontenttype")
        attrs.pop("datacontenttype", None)
    return Bound(ContentMode.STRUCTURED, attrs, errors, data, problem)


def _sdk_event(read: Any) -> BaseCloudEvent | None:
    """The SDK's event, or None when it refuses the record: relais's envelope then lists every
    problem itself (anything the SDK refuses, the envelope refuses too)."""
    try:
        event: BaseCloudEvent = read()
    except (BaseCloudEventException, ValueError, TypeError, KeyError, OverflowError):
        return None
    return event
