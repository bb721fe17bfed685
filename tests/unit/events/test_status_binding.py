"""Status events on the wire, in both CloudEvents content modes, read back by the Python SDK."""

from __future__ import annotations

import dataclasses
import json

import pytest
from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat

from relais.domain.opco import OpcoCode
from relais.domain.records import Record
from relais.domain.status import StatusEvent
from relais.operator.watch import parse_status
from relais.services.ledger_port import OutboxMessage
from relais.services.status_binding import StatusContentMode, StatusNotBindable, wire_form
from relais.services.statuses import to_outbox
from tests.unit.events.test_status import NOW, SIRET, trigger


def outbox() -> OutboxMessage:
    return to_outbox(StatusEvent.received(trigger(), occurred_at=NOW, opco=OpcoCode.ATLAS))


def test_binary_mode_has_content_type_and_keeps_the_older_headers() -> None:
    message = outbox()
    headers, value = wire_form(message, StatusContentMode.BINARY)
    names = dict(headers)
    assert names["content-type"] == b"application/json"
    assert names["ce_datacontenttype"] == b"application/json"  # consumers written before
    assert value == message.value
    back = kafka.from_binary(kafka.KafkaMessage(names, message.key, value), JSONFormat())
    assert back.get_id() == message.event_id
    assert back.get_extension("cfa") == SIRET and back.get_extension("correlationid") == "evt-42"
    assert back.get_data() == json.loads(message.value)
    assert StatusEvent.from_record(message.key, headers, value).body.opco is OpcoCode.ATLAS


def test_structured_mode_is_the_whole_event_in_the_value() -> None:
    message = outbox()
    headers, value = wire_form(message, StatusContentMode.STRUCTURED)
    assert headers == [("content-type", b"application/cloudevents+json")]
    back = kafka.from_kafka(kafka.KafkaMessage(dict(headers), message.key, value), JSONFormat())
    assert (back.get_id(), back.get_type(), back.get_subject()) == (
        message.event_id,
        "fr.relais.status.received.v1",
        "D-42",
    )
    assert back.get_datacontenttype() == "application/json"
    assert back.get_data() == json.loads(message.value)


def test_a_row_that_is_not_a_cloudevent_is_not_bindable() -> None:
    message = outbox()
    broken = OutboxMessage(message.event_id, message.key, {"ce_id": "x"}, message.value)
    with pytest.raises(StatusNotBindable):
        wire_form(broken, StatusContentMode.BINARY)


@pytest.mark.parametrize("mode", list(StatusContentMode))
def test_relais_watch_reads_both_modes(mode: StatusContentMode) -> None:
    message = outbox()
    headers, value = wire_form(message, mode)
    line = parse_status(Record("relais.status.v1", 0, 3, message.key.encode(), value, headers))
    assert line.id == message.event_id
    assert line.body == json.loads(message.value)


@pytest.mark.parametrize("mode", list(StatusContentMode))
def test_the_trace_context_headers_are_carried_in_both_modes(mode: StatusContentMode) -> None:
    message = outbox()
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    traced = dataclasses.replace(
        message, headers={**message.headers, "traceparent": parent, "tracestate": "relais=1"}
    )
    headers = dict(wire_form(traced, mode)[0])
    assert headers["traceparent"] == parent.encode()
    assert headers["tracestate"] == b"relais=1"
