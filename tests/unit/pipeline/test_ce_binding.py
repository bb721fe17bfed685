"""The CloudEvents Kafka binding at ingest: binary mode with ``content-type``, structured mode as
the Python SDK produces it, and the refusal of data that is not JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import SecretStr

from relais.domain.events import EventType
from relais.domain.status import StatusBody
from relais.services.ingest import IngestHandler, IngestPolicy, Outcome, Record
from relais.services.ingest.signature import sign
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import CFA, DATA, TIME, event, headers, record
from tests.unit.pipeline.test_ingest import ListSink
from tests.unit.services.fakes import FakeLedger, ManualClock


def handler(ledger: FakeLedger, sink: ListSink, **policy: Any) -> IngestHandler:
    return IngestHandler(
        ledger,
        sink,
        rules=ExplicitOpcoRules(),
        policy=IngestPolicy(**policy),
        clock=ManualClock(),
    )  # type: ignore[arg-type]


def sdk_event(event_id: str = "e-sdk", subject: str = "D-9", **extra: Any) -> CloudEvent:
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "type": EventType.DOSSIER_SUBMITTED.value,
        "source": f"urn:siret:{CFA}",
        "subject": subject,
        "time": datetime.fromisoformat(TIME),
        "datacontenttype": "application/json",
        "partitionkey": subject,
        **extra,
    }
    return CloudEvent(attributes, DATA[EventType.DOSSIER_SUBMITTED])


def from_message(message: kafka.KafkaMessage, offset: int = 0) -> Record:
    key = message.key.encode() if isinstance(message.key, str) else message.key
    return Record(
        topic="cfa.events.v1",
        partition=0,
        offset=offset,
        key=key,
        value=message.value,
        headers=list(message.headers.items()),
    )


async def test_a_structured_event_from_the_python_sdk_is_accepted() -> None:
    ledger, sink = FakeLedger(), ListSink()
    message = kafka.to_structured(sdk_event(), JSONFormat())
    assert message.headers == {"content-type": b"application/cloudevents+json"}
    result = await handler(ledger, sink).handle(from_message(message))
    assert (result.outcome, result.event_id, result.dossier_id) == (
        Outcome.ACCEPTED,
        "e-sdk",
        "D-9",
    )
    (status,) = ledger.statuses()
    assert StatusBody.model_validate_json(status.value).eventId == "e-sdk"


async def test_a_binary_event_from_the_python_sdk_uses_content_type() -> None:
    ledger, sink = FakeLedger(), ListSink()
    message = kafka.to_binary(sdk_event(), JSONFormat())
    assert message.headers["content-type"] == b"application/json"
    assert "ce_datacontenttype" not in message.headers
    result = await handler(ledger, sink).handle(from_message(message))
    assert result.outcome is Outcome.ACCEPTED


@pytest.mark.parametrize("where", ["content-type", "ce_datacontenttype"])
async def test_xml_data_is_refused_with_its_code(where: str) -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs = headers(EventType.DOSSIER_SUBMITTED, event_id="e-xml")
    del hdrs["ce_datacontenttype"]
    hdrs[where] = "application/xml"
    result = await handler(ledger, sink).handle(record(hdrs, b"<cerfa/>"))
    assert result.outcome is Outcome.REJECTED
    (item,) = result.errors
    assert (item.code, item.path) == ("ENVELOPE_UNSUPPORTED_CONTENT_TYPE", where)
    assert "application/json" in item.message and "non pris en charge" in item.message
    (status,) = ledger.statuses()
    assert StatusBody.model_validate_json(status.value).eventId == "e-xml"
    assert sink.letters == []


async def test_content_type_wins_over_the_legacy_header() -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs, value = event(EventType.DOSSIER_SUBMITTED)
    hdrs["content-type"] = "text/csv"  # ce_datacontenttype says JSON, content-type does not
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert [e.code for e in result.errors] == ["ENVELOPE_UNSUPPORTED_CONTENT_TYPE"]
    hdrs["content-type"] = "application/json; charset=utf-8"
    hdrs["ce_id"] = "e-json"
    accepted = await handler(ledger, sink).handle(record(hdrs, value, offset=1))
    assert accepted.outcome is Outcome.ACCEPTED


async def test_structured_data_base64_is_refused() -> None:
    ledger, sink = FakeLedger(), ListSink()
    message = kafka.to_structured(
        CloudEvent({**sdk_event().get_attributes(), "datacontenttype": "application/xml"}, b"<a/>"),
        JSONFormat(),
    )
    result = await handler(ledger, sink).handle(from_message(message))
    assert [e.code for e in result.errors] == ["ENVELOPE_UNSUPPORTED_CONTENT_TYPE"]


async def test_another_structured_format_is_dead_lettered() -> None:
    ledger, sink = FakeLedger(), ListSink()
    message = kafka.to_structured(sdk_event(), JSONFormat())
    rec = from_message(message)
    rec = Record(
        rec.topic, 0, 0, rec.key, rec.value, [("content-type", b"application/cloudevents+avro")]
    )
    result = await handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED
    assert [e.code for e in result.errors] == ["ENVELOPE_UNSUPPORTED_CONTENT_TYPE"]


async def test_a_structured_event_missing_its_id_is_not_given_one_by_the_sdk() -> None:
    ledger, sink = FakeLedger(), ListSink()
    value = json.loads(kafka.to_structured(sdk_event(), JSONFormat()).value)
    del value["id"]
    rec = Record(
        "cfa.events.v1",
        0,
        0,
        b"D-9",
        json.dumps(value).encode(),
        [("content-type", b"application/cloudevents+json")],
    )
    result = await handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED
    assert "ENVELOPE_MISSING_ATTRIBUTE" in [e.code for e in result.errors]


async def test_a_structured_event_with_no_data_is_refused() -> None:
    ledger, sink = FakeLedger(), ListSink()
    value = json.loads(kafka.to_structured(sdk_event(), JSONFormat()).value)
    del value["data"]
    rec = Record(
        "cfa.events.v1",
        0,
        0,
        b"D-9",
        json.dumps(value).encode(),
        [("content-type", b"application/cloudevents+json")],
    )
    result = await handler(ledger, sink).handle(rec)
    assert [e.code for e in result.errors] == ["DATA_MISSING"]


async def test_structured_signature_is_a_header_over_the_whole_value() -> None:
    ledger, sink = FakeLedger(), ListSink()
    h = handler(ledger, sink, hmac_secrets={CFA: SecretStr("s3cret")})
    message = kafka.to_structured(sdk_event(), JSONFormat())
    attrs = json.loads(message.value)
    signed_attrs = {f"ce_{k}": v for k, v in attrs.items() if k != "data"}
    signature = sign("s3cret", signed_attrs, message.value)
    good = from_message(message)
    good = Record(
        good.topic,
        0,
        0,
        good.key,
        good.value,
        [*good.headers, ("ce_signature", signature.encode())],
    )
    assert (await h.handle(good)).outcome is Outcome.ACCEPTED
    tampered = Record(
        good.topic, 0, 1, good.key, good.value.replace(b"AKTO", b"OCAPIAT"), good.headers
    )
    assert [e.code for e in (await h.handle(tampered)).errors] == ["SIGNATURE_INVALID"]
    inside = json.loads(message.value) | {"signature": signature}
    in_value = Record(good.topic, 0, 2, good.key, json.dumps(inside).encode(), good.headers)
    assert [e.code for e in (await h.handle(in_value)).errors] == ["ENVELOPE_SIGNATURE_IN_VALUE"]


async def test_a_structured_attribute_that_is_not_a_string_is_refused() -> None:
    ledger, sink = FakeLedger(), ListSink()
    value = json.loads(kafka.to_structured(sdk_event("e-num"), JSONFormat()).value)
    value["time"] = 1_790_000_000  # a Unix time: not the JSON event format
    rec = Record(
        "cfa.events.v1",
        0,
        0,
        b"D-9",
        json.dumps(value).encode(),
        [("content-type", b"application/cloudevents+json")],
    )
    result = await handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.REJECTED
    assert [(e.code, e.path) for e in result.errors] == [("ENVELOPE_INVALID_ATTRIBUTE", "time")]
