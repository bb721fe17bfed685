"""Status events on the wire: the CloudEvents Kafka binding through the ``cloudevents`` SDK.

The outbox keeps each status in one form (``ce_*`` headers and the JSON body, see
``statuses.py``); the relay's producer turns it into the Kafka record of the deployment's content
mode (setting ``kafka.status_content_mode``) when it publishes:

    binary      (default) ``ce_*`` headers, ``content-type: application/json``, the body as the
                value; ``ce_datacontenttype`` is kept too, for the consumers written before the
                binding was followed (it says the same)
    structured  ``content-type: application/cloudevents+json``, the whole event as the value
                (attributes and ``data``), no ``ce_*`` header (an SDK that sees one reads the
                record as binary)

The Kafka key stays the CFA's dossier id in both modes; the row's other headers (the trace context's
``traceparent``/``tracestate``) are carried as they are.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from cloudevents.core.bindings import kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from relais.services.ledger_port import OutboxMessage

_JSON_FORMAT = JSONFormat()
LEGACY_CONTENT_TYPE_HEADER = "ce_datacontenttype"


class StatusNotBindable(ValueError):
    """An outbox row that is not a CloudEvent (no time, a body that is not JSON): the relay
    sets it aside like a record the broker refuses (it cannot happen with rows relais wrote)."""


class StatusContentMode(StrEnum):
    BINARY = "binary"
    STRUCTURED = "structured"


def status_cloudevent(message: OutboxMessage) -> CloudEvent:
    """The SDK's event of an outbox message (its ``ce_*`` headers are the attributes)."""
    attributes: dict[str, Any] = {
        name[3:]: value for name, value in message.headers.items() if name.startswith("ce_")
    }
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    data: Any = json.loads(message.value)
    return CloudEvent(attributes, data)


def wire_form(
    message: OutboxMessage, mode: StatusContentMode
) -> tuple[list[tuple[str, bytes]], bytes]:
    """The Kafka headers and value of a status event in ``mode`` (raises ``StatusNotBindable``)."""
    try:
        event = status_cloudevent(message)
    except (KeyError, ValueError, TypeError, BaseCloudEventException) as exc:
        raise StatusNotBindable(f"not a CloudEvent ({type(exc).__name__})") from None
    carried = _carried(message)
    if mode is StatusContentMode.STRUCTURED:
        record = kafka.to_structured(event, _JSON_FORMAT, key_mapper=_no_key)
        return list(record.headers.items()) + carried, record.value
    record = kafka.to_binary(event, _JSON_FORMAT, key_mapper=_no_key)
    headers = list(record.headers.items())
    legacy = message.headers.get(LEGACY_CONTENT_TYPE_HEADER)
    if legacy is not None:
        headers.append((LEGACY_CONTENT_TYPE_HEADER, legacy.encode()))
    return headers + carried, message.value  # the body's exact bytes, as sized by the relay


def _carried(message: OutboxMessage) -> list[tuple[str, bytes]]:
    """The row's headers that are not CloudEvents attributes (``traceparent``/``tracestate``
    of the trace context, in either mode): kept as they are."""
    return [
        (name, value.encode())
        for name, value in message.headers.items()
        if not name.startswith("ce_") and name != "content-type"
    ]


def _no_key(event: Any) -> None:
    return None  # the key is the outbox message's (the CFA's dossier id)
