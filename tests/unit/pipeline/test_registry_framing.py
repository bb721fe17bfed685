"""Values framed by a Confluent-compatible registry (magic byte 0, 4-byte big-endian schema id):
unwrapped before parsing, accepted only when framed by relais's schema of the event's type; the
registry adapter reads Confluent's documented API (``httpx.MockTransport``, no socket)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from relais.adapters.schema_registry import HttpSchemaRegistry, RegistryUnavailableError
from relais.contracts import event_schema_documents
from relais.domain.events import EventType
from relais.services.ingest import IngestHandler, IngestPolicy, Outcome
from relais.services.ingest.framing import (
    event_type_of,
    frame,
    registry_schema,
    subject_name,
    unframe,
)
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import DATA, event, record
from tests.unit.pipeline.test_ingest import ListSink
from tests.unit.services.fakes import FakeLedger, ManualClock

DOSSIER = EventType.DOSSIER_SUBMITTED


def relais_schema(event_type: EventType) -> dict[str, Any]:
    doc = event_schema_documents()[f"events/{event_type.value}.json"]
    assert isinstance(doc, dict)
    return registry_schema(doc, event_type)


class DictRegistry:
    """The port's fake: schema id -> document."""

    def __init__(self, schemas: dict[int, Any]) -> None:
        self.schemas = schemas
        self.asked: list[int] = []

    async def schema(self, schema_id: int) -> Any:
        self.asked.append(schema_id)
        return self.schemas.get(schema_id)


def handler(ledger: FakeLedger, registry: DictRegistry | None, framing: bool) -> IngestHandler:
    return IngestHandler(
        ledger,
        ListSink(),
        rules=ExplicitOpcoRules(),
        policy=IngestPolicy(registry_framing=framing),
        clock=ManualClock(),
        registry=registry,
    )  # type: ignore[arg-type]


def test_the_wire_format_is_confluents() -> None:
    framed = frame(258, b'{"a":1}')
    assert framed[:5] == b"\x00\x00\x00\x01\x02"  # magic 0, id 258 big-endian
    got = unframe(framed)
    assert got is not None and (got.schema_id, got.payload) == (258, b'{"a":1}')
    assert unframe(b'{"a":1}') is None and unframe(b"\x00\x01") is None


def test_the_registered_schema_is_the_data_of_its_type_under_a_relais_id() -> None:
    schema = relais_schema(DOSSIER)
    assert event_type_of(schema) is DOSSIER
    assert set(schema["properties"]) == set(DATA[DOSSIER]) | {"opco"}
    assert schema["required"] == ["cerfa"]
    assert event_type_of({"$id": "https://example.com/other.json"}) is None
    assert subject_name("cfa.events.v1", DOSSIER) == "cfa.events.v1-fr.cfa.dossier.submitted.v1"


async def test_a_value_framed_by_its_types_schema_is_accepted() -> None:
    ledger = FakeLedger()
    registry = DictRegistry({7: relais_schema(DOSSIER)})
    hdrs, value = event(DOSSIER, event_id="e-framed")
    result = await handler(ledger, registry, True).handle(record(hdrs, frame(7, value)))
    assert result.outcome is Outcome.ACCEPTED and registry.asked == [7]


@pytest.mark.parametrize(
    ("schemas", "reason"),
    [({}, "unknown id"), ({7: relais_schema(EventType.RUPTURE_DECLARED)}, "other type")],
)
async def test_a_value_framed_by_another_schema_is_refused(
    schemas: dict[int, Any], reason: str
) -> None:
    ledger = FakeLedger()
    hdrs, value = event(DOSSIER)
    result = await handler(ledger, DictRegistry(schemas), True).handle(
        record(hdrs, frame(7, value))
    )
    assert result.outcome is Outcome.REJECTED, reason
    assert [e.code for e in result.errors] == ["DATA_SCHEMA_MISMATCH"]


async def test_a_framed_value_without_a_registry_is_dead_lettered_with_its_reason() -> None:
    ledger = FakeLedger()
    hdrs, value = event(DOSSIER)
    result = await handler(ledger, None, False).handle(record(hdrs, frame(7, value)))
    assert result.outcome is Outcome.DEAD_LETTERED
    assert [e.code for e in result.errors] == ["DATA_REGISTRY_FRAMED"]


async def test_the_adapter_reads_schemas_by_id_once_and_registers_subjects() -> None:
    calls: list[str] = []
    schema = relais_schema(DOSSIER)

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/ccompat/schemas/ids/7":
            return httpx.Response(200, json={"schema": json.dumps(schema), "schemaType": "JSON"})
        if request.url.path.endswith("/versions"):
            body = json.loads(request.content)
            assert body["schemaType"] == "JSON" and json.loads(body["schema"]) == schema
            return httpx.Response(200, json={"id": 7})
        return httpx.Response(404, json={"error_code": 40403})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    registry = HttpSchemaRegistry("http://registry/ccompat/", client=client)
    subject = subject_name("t", DOSSIER)
    assert await registry.register(subject, schema) == 7
    assert await registry.schema(7) == schema
    assert await registry.schema(7) == schema  # cached
    assert await registry.schema(8) is None
    assert calls == [
        f"POST /ccompat/subjects/{subject}/versions",
        "GET /ccompat/schemas/ids/7",
        "GET /ccompat/schemas/ids/8",
    ]
    down = HttpSchemaRegistry(
        "http://registry", client=httpx.AsyncClient(transport=httpx.MockTransport(_refuse))
    )
    with pytest.raises(RegistryUnavailableError):
        await down.schema(1)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)
