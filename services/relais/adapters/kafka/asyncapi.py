"""The AsyncAPI 3.0 document of relais's topics (``schemas/asyncapi.json``).

Generated from the code, never edited: the channels and the consumer group come from
``KafkaSettings``' defaults, the message headers from the ``Envelope`` model and the status event's
header builder, and the payloads point at the JSON Schemas of ``schemas/events/`` (generated from
the same pydantic models by ``relais.contracts``), so a payload is described in one place only.
``relais schemas write`` writes it; ``relais schemas check`` and a unit test fail when it drifts.
"""

from __future__ import annotations

from relais.config import KafkaSettings
from relais.domain.events import DATA_MODELS, KIND_OF_TYPE, Envelope, EventType
from relais.domain.json_types import Json
from relais.domain.status import StatusName
from relais.services.ingest import DLQ_HEADERS, DLQ_KEY_DROPPED, DLQ_VALUE_DROPPED

ASYNCAPI_FILE = "asyncapi.json"
EVENTS_DIR = "events"


def _ref(path: str) -> Json:
    return {"$ref": path}


def _envelope_headers(event_type: EventType) -> Json:
    schema = Envelope.model_json_schema()
    properties: Json = {}
    for name, prop in schema["properties"].items():
        header = {"type": "string", "description": prop.get("description", name)}
        if name == "type":
            header["const"] = event_type.value
        elif name == "specversion":
            header["const"] = "1.0"
        elif name == "datacontenttype":
            header["const"] = "application/json"
            header["description"] = (
                "Read when there is no content-type header (the binding's place for it); "
                "another media type is refused with ENVELOPE_UNSUPPORTED_CONTENT_TYPE"
            )
        elif name == "signature":
            header["description"] = _SIGNATURE
        properties[f"ce_{name}"] = header
    properties.update(_trace_headers("the ERP's span: relais's ingest span continues its trace"))
    properties["content-type"] = _DATA_CONTENT_TYPE
    return {
        "type": "object",
        "required": [f"ce_{name}" for name in schema.get("required", [])],
        "properties": properties,
    }


_SIGNATURE = (
    "Optional hex HMAC-SHA256, by the CFA's secret, of ce_id, ce_type, ce_source, ce_subject "
    "and ce_time as sent (one per line, each followed by a newline) then the record value as "
    "sent (registry framing included); in structured mode a Kafka header too, over the "
    "attributes as they appear in the value, then the whole value; required for CFAs that "
    "have a secret configured"
)
_DATA_CONTENT_TYPE: Json = {
    "type": "string",
    "description": "CloudEvents Kafka binding, binary mode: the media type of the value, "
    "application/json (parameters such as charset=utf-8 allowed); another one (e.g. "
    "application/xml) is refused with ENVELOPE_UNSUPPORTED_CONTENT_TYPE",
    "pattern": "^application/json(;.*)?$",
}
_STRUCTURED_HEADERS: Json = {
    "type": "object",
    "required": ["content-type"],
    "properties": {
        "content-type": {
            "type": "string",
            "description": "CloudEvents Kafka binding, structured mode: the whole event is the "
            "value (what the CloudEvents SDKs produce by default)",
            "pattern": "^application/cloudevents\\+json(;.*)?$",
        },
        "ce_signature": {"type": "string", "description": _SIGNATURE},
    },
}
_REGISTRY_NOTE = (
    " With RELAIS_KAFKA__SCHEMA_REGISTRY_URL set, a value may be framed by a Confluent-"
    "compatible registry serializer (magic byte 0, 4-byte big-endian schema id, then the JSON): "
    "the schema must be the one `relais schemas register` registered for the event type "
    "(subject <topic>-<ce_type>)."
)


def _status_headers() -> Json:
    types = [name.event_type for name in StatusName]
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_subject", "ce_time"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {
                "type": "string",
                "description": "Stable id (uuid5): a redelivery repeats it; dedupe on it. An "
                "event is identified by (CFA, event id): the id is derived from the CFA's SIRET, "
                "the CFA event's id and the status (and the attempt of a retrying note), so the "
                "same ce_id from two CFAs gives two ids. For a refusal of a record whose source "
                "is not established (source not allowed on the topic, signature, unknown UAI, "
                "unreadable envelope) it is derived from the record's Kafka position "
                "(kafka:<topic>:<partition>:<offset>) and the status, without a CFA: a forged "
                "copy never takes the id of the real event's status. Statuses written before "
                "relais keyed events by CFA keep their ids (event id and status, no CFA)",
            },
            "ce_type": {"type": "string", "enum": types},
            "ce_source": {"type": "string", "const": "relais"},
            "ce_subject": {
                "type": "string",
                "description": "The CFA's dossier id (= key); the Kafka position for a refusal "
                "of a record whose source is not established",
            },
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_datacontenttype": {
                "type": "string",
                "const": "application/json",
                "description": "Kept for consumers written before content-type (same value)",
            },
            "content-type": {"type": "string", "const": "application/json"},
            "ce_correlationid": {
                "type": "string",
                "description": "Id of the triggering CFA event (absent for OPCO-side changes); "
                "the Kafka position for a refusal of a record whose source is not established",
            },
            "ce_cfa": {
                "type": "string",
                "description": "The CFA's SIRET; absent when the record's source is not "
                "established (such a status goes to the operators' rejected topic)",
            },
            "ce_opco": {"type": "string", "description": "The OPCO's code"},
            **_trace_headers("relais's span that published this status (tracing on only)"),
        },
    }


def _trace_headers(parent: str) -> Json:
    """The optional W3C trace context headers (docs/tracing.md)."""
    return {
        "traceparent": {
            "type": "string",
            "maxLength": 128,
            "description": f"Optional W3C Trace Context traceparent (also the CloudEvents "
            f"distributed tracing extension's name), naming {parent}",
        },
        "tracestate": {
            "type": "string",
            "maxLength": 512,
            "description": "Optional W3C Trace Context tracestate, with traceparent",
        },
    }


def _dlq_headers() -> Json:
    descriptions = {
        "dlq_reason": "Why the record could not be read: DATA_NOT_JSON, DATA_NOT_FINITE, "
        "DATA_NOT_OBJECT, "
        "DATA_TOO_DEEP, TOO_LARGE, EMPTY_VALUE, ENVELOPE_UNDECODABLE, ENVELOPE_HEADERS_MISSING, "
        "ENVELOPE_INVALID_CHARACTER, or UNPROCESSABLE (it kept failing: a relais bug to report); "
        "STATUS_TOO_LARGE, STATUS_INVALID_TOPIC or STATUS_INVALID_TEXT for a status event the "
        "relay could not publish and set aside (a record with headers only)",
        "dlq_topic": "The topic the record came from ('outbox' for a status event set aside)",
        "dlq_partition": "Its partition (decimal; absent for a status event set aside)",
        "dlq_offset": "Its offset (decimal; the outbox row's seq for a status event set aside)",
    }
    properties: Json = {
        name: {"type": "string", "description": descriptions[name]} for name in DLQ_HEADERS
    }
    properties["dlq_errors"] = {
        "type": "string",
        "description": "JSON list of {code, severity, path, message}: every problem found",
    }
    properties[DLQ_VALUE_DROPPED] = {
        "type": "string",
        "description": "Set when the record was too large to be copied: its size in bytes; the "
        "value (and, for huge headers, the original headers) are left out, the original stays "
        "at dlq_topic/dlq_partition/dlq_offset",
    }
    properties[DLQ_KEY_DROPPED] = {
        "type": "string",
        "description": "Set when the record was too large to be sent even without its value: "
        "the key is left out too (this header: its size in bytes)",
    }
    properties["dlq_status_id"] = {
        "type": "string",
        "description": "A status event set aside: its ce_id (the row stays in the ledger)",
    }
    properties["dlq_status_type"] = {
        "type": "string",
        "description": "A status event set aside: its ce_type",
    }
    return {
        "type": "object",
        "required": list(DLQ_HEADERS),
        "description": "The original headers, unchanged, plus these",
        "properties": properties,
    }


def _message_name(event_type: EventType) -> str:
    return event_type.value.removeprefix("fr.cfa.").removesuffix(".v1").replace(".", "_")


def _status_structured(key: Json) -> Json:
    return {
        "name": "status (structured)",
        "title": "relais status event, structured mode",
        "summary": "With RELAIS_KAFKA__STATUS_CONTENT_MODE=structured: the whole CloudEvent in "
        "the value, no ce_* header",
        "contentType": "application/cloudevents+json",
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {"type": "string", "const": "application/cloudevents+json"}
            },
        },
        "payload": {
            "type": "object",
            "description": "The attributes of the binary mode's ce_* headers (without ce_), "
            "datacontenttype application/json, and data",
            "required": ["specversion", "id", "type", "source", "subject", "time", "data"],
            "properties": {"data": _ref(f"{EVENTS_DIR}/status.v1.json")},
        },
        "bindings": {"kafka": {"key": key, "bindingVersion": "0.5.0"}},
    }


def _messages() -> Json:
    """Every message of the document: each CFA event type in binary and structured mode, the
    status event in both, the dead letter."""
    key = {"type": "string", "description": "The CFA's own dossier id (= ce_subject)"}
    messages: Json = {}
    for event_type in EventType:
        model = DATA_MODELS[event_type]
        messages[_message_name(event_type)] = {
            "name": event_type.value,
            "title": event_type.value,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": _envelope_headers(event_type),
            "payload": _ref(f"{EVENTS_DIR}/{event_type.value}.json#/$defs/{model.__name__}"),
            "bindings": {"kafka": {"key": key, "bindingVersion": "0.5.0"}},
            "x-relais-kind": KIND_OF_TYPE[event_type].value,
        }
        messages[f"{_message_name(event_type)}_structured"] = {
            "name": f"{event_type.value} (structured)",
            "title": f"{event_type.value}, structured mode",
            "summary": "The same event, whole in the value (CloudEvents JSON format)",
            "contentType": "application/cloudevents+json",
            "headers": _STRUCTURED_HEADERS,
            "payload": _ref(f"{EVENTS_DIR}/{event_type.value}.json"),
            "bindings": {"kafka": {"key": key, "bindingVersion": "0.5.0"}},
            "x-relais-kind": KIND_OF_TYPE[event_type].value,
        }
    messages["status"] = {
        "name": "status",
        "title": "relais status event",
        "summary": "One outcome of a CFA event, or an OPCO-side change seen by polling",
        "contentType": "application/json",
        "headers": _status_headers(),
        "payload": _ref(f"{EVENTS_DIR}/status.v1.json"),
        "bindings": {"kafka": {"key": key, "bindingVersion": "0.5.0"}},
    }
    messages["status_structured"] = _status_structured(key)
    messages["dead_letter"] = {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "A CFA record relais could not read, exactly as it came",
        "headers": _dlq_headers(),
        "payload": {"description": "The original record value, unchanged (any bytes)"},
    }
    return messages


def asyncapi_document(kafka: KafkaSettings | None = None) -> Json:
    kafka = kafka or KafkaSettings()
    messages = _messages()
    cfa_messages = {
        name: _ref(f"#/components/messages/{name}")
        for t in EventType
        for name in (_message_name(t), f"{_message_name(t)}_structured")
    }
    status_ref = {
        name: _ref(f"#/components/messages/{name}") for name in ("status", "status_structured")
    }
    dlq_ref = {"dead_letter": _ref("#/components/messages/dead_letter")}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "relais",
            "version": "1.0.0",
            "description": (
                "relais between a CFA network's Kafka bus and the 11 OPCO convergence APIs. "
                "CFA events arrive as CloudEvents 1.0 by the Kafka protocol binding, in binary "
                "mode (ce_* headers, content-type application/json, JSON data) or structured "
                "mode (content-type application/cloudevents+json, the whole event); "
                "every event ends in exactly one terminal status event (at least once, stable "
                "ids); records that cannot be read go to the dead-letter topic. Topic names "
                "are the defaults (RELAIS_KAFKA__*)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "The network's Kafka (RELAIS_KAFKA__BOOTSTRAP_SERVERS)",
            }
        },
        "channels": {
            "cfaEvents": {
                "address": kafka.input_topic,
                "title": "CFA events",
                "description": (
                    "One shared topic, or one topic per CFA (RELAIS_KAFKA__INPUT_PATTERN); a "
                    "configured map says which ce_source each topic may carry. Key = dossier id, "
                    "so a dossier's events keep their order." + _REGISTRY_NOTE
                ),
                "messages": cfa_messages,
            },
            "status": {
                "address": kafka.status_topic,
                "title": "Status events",
                "description": (
                    "Outbox order per dossier; key = dossier id. One shared topic, or one topic "
                    "per CFA (RELAIS_KAFKA__STATUS_TOPIC_PATTERN, e.g. cfa.{siret}.status): then "
                    "a CFA's statuses go to its own topic only. Binary mode by default "
                    "(RELAIS_KAFKA__STATUS_CONTENT_MODE=structured: the whole event in the value)"
                ),
                "messages": status_ref,
            },
            "rejected": {
                "address": kafka.rejected_topic,
                "title": "Refusals for operators",
                "description": (
                    "Statuses (rejected, dead_lettered) of records whose source is not "
                    "established (source unknown or not allowed on its topic, bad signature, "
                    "unreadable envelope): named by the record's Kafka position (key, ce_subject, "
                    "data.eventId), no ce_cfa, none of the ids the record claims"
                ),
                "messages": status_ref,
            },
            "deadLetters": {
                "address": kafka.dlq_topic,
                "title": "Dead letters",
                "messages": dlq_ref,
            },
        },
        "operations": {
            "consumeCfaEvents": {
                "action": "receive",
                "channel": _ref("#/channels/cfaEvents"),
                "summary": (
                    "Ingest: manual commit after the ledger commit; one terminal status per event"
                ),
                "messages": [_ref(f"#/channels/cfaEvents/messages/{n}") for n in cfa_messages],
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "enum": [kafka.group_id]},
                        "clientId": {"type": "string", "enum": [kafka.client_id]},
                        "bindingVersion": "0.5.0",
                    }
                },
            },
            "publishStatus": {
                "action": "send",
                "channel": _ref("#/channels/status"),
                "summary": "Relay: transactional outbox -> status topic, at least once, in order",
                "messages": [_ref(f"#/channels/status/messages/{n}") for n in status_ref],
            },
            "publishRejected": {
                "action": "send",
                "channel": _ref("#/channels/rejected"),
                "summary": "Relay: refusals of records whose source is not established",
                "messages": [_ref(f"#/channels/rejected/messages/{n}") for n in status_ref],
            },
            "publishDeadLetters": {
                "action": "send",
                "channel": _ref("#/channels/deadLetters"),
                "summary": "Ingest: the raw record, acknowledged before its offset is committed",
                "messages": [_ref("#/channels/deadLetters/messages/dead_letter")],
            },
        },
        "components": {"messages": messages},
    }


def asyncapi_documents() -> dict[str, Json | str]:
    """The ``relais.contracts`` source: ``{"asyncapi.json": document}``."""
    return {ASYNCAPI_FILE: asyncapi_document()}
