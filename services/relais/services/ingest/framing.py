"""Values framed by a Confluent-compatible Schema Registry serializer (JSON Schema), optional
(setting ``kafka.schema_registry_url``).

The wire format (Confluent's documented "wire format", also Apicurio's ``ccompat`` default)::

    byte 0      magic byte 0
    bytes 1-4   the schema id, a 32-bit big-endian integer, as the registry numbered it
    bytes 5-    the serialized data: here the JSON of ``data`` (binary mode) or of the whole
                event (structured mode)

JSON never starts with byte 0, so a framed value is told from a plain one without a setting;
without a registry configured it is dead-lettered (``DATA_REGISTRY_FRAMED``), never misread.

What relais checks of the schema: the registry's document for the id (fetched once, cached:
ids never change meaning) must be the one relais registered for the event's type
(``relais schemas register``): its ``$id`` is ``REGISTRY_ID_PREFIX + <ce_type> + ".json"``. A
record framed with another schema is refused (``DATA_SCHEMA_MISMATCH``); the data itself is then
validated by relais's models as for any record (the registered schema is derived from them, so
validating against it again would repeat the same check with another engine).

A signature (``ce_signature``) signs the value as sent, framing included.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from relais.domain.events import EventType
from relais.domain.json_types import Json

MAGIC_BYTE = 0
HEADER_BYTES = 5
REGISTRY_ID_PREFIX = "https://relais.invalid/schemas/registry/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

FRAMED_WITHOUT_REGISTRY = "DATA_REGISTRY_FRAMED"
FRAMED_WITHOUT_REGISTRY_MESSAGE = (
    "la valeur est encadrée par un registre de schémas (octet magique 0 et identifiant de "
    "schéma) mais relais n'est pas configuré avec un registre : publier le JSON seul"
)
SCHEMA_MISMATCH = "DATA_SCHEMA_MISMATCH"
SCHEMA_UNKNOWN_MESSAGE = (
    "le schéma qui encadre la valeur n'est pas un schéma relais enregistré par "
    "« relais schemas register »"
)
SCHEMA_OTHER_TYPE_MESSAGE = (
    "le schéma qui encadre la valeur est celui d'un autre type d'événement que ce_type"
)


@dataclass(frozen=True)
class Framed:
    schema_id: int
    payload: bytes


def unframe(value: bytes) -> Framed | None:
    """The schema id and the payload of a framed value, None for a plain one."""
    if len(value) < HEADER_BYTES or value[0] != MAGIC_BYTE:
        return None
    return Framed(int.from_bytes(value[1:HEADER_BYTES], "big"), value[HEADER_BYTES:])


def frame(schema_id: int, payload: bytes) -> bytes:
    """A framed value (what a registry serializer writes; for tests and ``relais send``)."""
    return bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big") + payload


class SchemaRegistry(Protocol):
    """The registry's schemas by id (an adapter: HTTP, cached)."""

    async def schema(self, schema_id: int) -> Json | None:
        """The JSON Schema document of ``schema_id``; None when the registry has no such id or
        it is not a JSON Schema. Raises ``relais.errors.UnavailableError`` when the registry
        does not answer (the poll stops and is read again: nothing is lost)."""
        ...


def event_type_of(schema: Json | None) -> EventType | None:
    """The relais event type a registered schema is for (by its ``$id``), None: not relais's."""
    if not isinstance(schema, dict):
        return None
    schema_id = schema.get("$id")
    if not isinstance(schema_id, str) or not schema_id.startswith(REGISTRY_ID_PREFIX):
        return None
    name = schema_id[len(REGISTRY_ID_PREFIX) :].removesuffix(".json")
    try:
        return EventType(name)
    except ValueError:
        return None


def registry_schema(event_schema: Json, event_type: EventType) -> Json:
    """The schema registered for ``event_type``: the ``data`` of its event schema (what a
    binary-mode value holds), with the definitions it uses, under a relais ``$id``."""
    data: Any = copy.deepcopy(event_schema["properties"]["data"])
    defs = copy.deepcopy(event_schema.get("$defs", {}))
    if set(data) == {"$ref"}:  # the data model itself, by reference
        data = defs[data["$ref"].rsplit("/", 1)[-1]]
    doc: Json = {
        "$schema": DIALECT,
        "$id": f"{REGISTRY_ID_PREFIX}{event_type.value}.json",
        **{k: v for k, v in data.items() if k not in {"$schema", "$id"}},
        "title": f"{event_type.value} data",
        "$defs": defs,
    }
    return doc


def subject_name(topic: str, event_type: EventType) -> str:
    """The registry subject of an event type's schema on a topic: ``<topic>-<ce_type>`` (the
    TopicRecordNameStrategy of the Confluent serializers: one topic carries five event types,
    each with its own schema; a serializer looks the subject up by this name)."""
    return f"{topic}-{event_type.value}"
