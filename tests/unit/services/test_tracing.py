"""Tracing: off by default (no exporter built, the SDK not even imported, payloads and statuses as
before), on when an endpoint is configured; the trace context read from hostile headers bounded,
kept in a command's payload (older rows read as before) and carried by the relay's records."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from relais.bootstrap.tracing import build_tracing
from relais.config import Settings
from relais.domain.events import ConventionSubmittedData, EventType
from relais.errors import ConfigurationError
from relais.services import command_payload
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import OutboxMessage
from relais.services.relay import Relay, Unpublishable
from relais.tracing import Tracing, bounded, current_context, from_headers
from tests.ledger_entries import reject
from tests.unit.services.fakes import FakeLedger

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SDK_DISABLED",
)


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Exporters:
    """Stands for the OTLP exporter class: records every exporter built."""

    def __init__(self) -> None:
        self.built: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> InMemorySpanExporter:
        self.built.append(kwargs)
        return InMemorySpanExporter()


@pytest.fixture
def exporters(monkeypatch: pytest.MonkeyPatch) -> Iterator[Exporters]:
    from opentelemetry.exporter.otlp.proto.http import trace_exporter

    made = Exporters()
    monkeypatch.setattr(trace_exporter, "OTLPSpanExporter", made)
    yield made


def test_off_by_default_builds_no_exporter_and_imports_no_sdk(
    exporters: Exporters, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the SDK and the exporter made unimportable: off must not need them
    for name in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http.trace_exporter"):
        monkeypatch.setitem(sys.modules, name, None)
    traced = build_tracing(Settings(), ["ingest"])
    assert traced.tracing.enabled is False and traced.provider is None
    assert exporters.built == []
    with traced.tracing.span("ingest") as span:
        assert span is None
        assert current_context() == {}


def test_an_explicit_off_wins_over_the_otel_endpoint(
    exporters: Exporters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert build_tracing(Settings(tracing={"enabled": False}), ["relay"]).provider is None
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert build_tracing(Settings(), ["relay"]).provider is None
    assert exporters.built == []


def test_on_with_relais_endpoint_exports_to_its_traces_path(exporters: Exporters) -> None:
    settings = Settings(tracing={"otlp_endpoint": "http://collector:4318/"})
    traced = build_tracing(settings, ["dispatch"])
    assert traced.tracing.enabled and traced.provider is not None
    assert exporters.built == [{"endpoint": "http://collector:4318/v1/traces"}]
    assert traced.provider.resource.attributes["service.name"] == "relais-dispatch"
    traced.provider.shutdown()


def test_on_with_the_standard_variable_lets_the_exporter_read_it(
    exporters: Exporters, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    traced = build_tracing(Settings(), ["ingest", "dispatch", "relay", "poll"])
    assert exporters.built == [{"endpoint": None}]  # the exporter reads OTEL_* itself
    assert traced.provider is not None
    assert traced.provider.resource.attributes["service.name"] == "relais"
    traced.provider.shutdown()


def test_on_without_the_sdk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(ConfigurationError, match=r"relais\[tracing\]"):
        build_tracing(Settings(tracing={"otlp_endpoint": "http://c:4318"}), ["ingest"])


def test_hostile_trace_headers_are_dropped_not_cut() -> None:
    assert from_headers([("traceparent", TRACEPARENT.encode())]) == {"traceparent": TRACEPARENT}
    assert from_headers([("traceparent", b"x" * 129)]) == {}
    assert from_headers([("traceparent", "00-é".encode())]) == {}
    assert from_headers([("tracestate", b"a=b")]) == {}  # a state without a parent: nothing
    too_long = [("traceparent", TRACEPARENT.encode()), ("tracestate", b"a=" + b"b" * 600)]
    assert from_headers(too_long) == {"traceparent": TRACEPARENT}
    assert bounded({"traceparent": TRACEPARENT, "other": "x"}) == {"traceparent": TRACEPARENT}


def _payload(trace: dict[str, str] | None) -> CommandPayload:
    data = ConventionSubmittedData.model_validate({"convention": {"lieu": "Évry"}})
    time = datetime.fromisoformat("2026-11-27T09:00:00+01:00")
    return CommandPayload(EventType.CONVENTION_SUBMITTED, time, data, None, trace)


def test_the_payload_keeps_the_trace_and_older_rows_read_without_one() -> None:
    kept = command_payload.decode(command_payload.encode(_payload({"traceparent": TRACEPARENT})))
    assert isinstance(kept, CommandPayload) and kept.trace == {"traceparent": TRACEPARENT}
    assert "trace" not in command_payload.encode(_payload(None))  # tracing off: as before
    older = command_payload.decode(command_payload.encode(_payload(None)))
    assert isinstance(older, CommandPayload) and older.trace is None
    hostile = {**_payload(None).stored, "trace": {"traceparent": "x" * 200}}
    assert command_payload.load(hostile).trace is None  # type: ignore[union-attr]


class Sink:
    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        self.sent.extend(messages)


def _tracing() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider.get_tracer("test")), exporter


async def test_the_relay_publishes_each_traced_status_in_a_child_span() -> None:
    tracing, exporter = _tracing()
    ledger = FakeLedger()
    traced = OutboxMessage("s-1", "D1", {"ce_id": "s-1", "traceparent": TRACEPARENT}, b"{}")
    bare = OutboxMessage("s-2", "D2", {"ce_id": "s-2"}, b"{}")
    await reject(ledger, "e-1", [traced, bare])
    sink = Sink()
    assert await Relay(ledger, sink, tracing=tracing).drain() == 2
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.PRODUCER
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    sent = {m.event_id: m.headers for m in sink.sent}
    assert sent["s-1"]["traceparent"].split("-")[1:3] == [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        format(span.context.span_id, "016x"),
    ]
    assert sent["s-2"] == {"ce_id": "s-2"}  # no trace context: published as it was


def test_a_failing_span_names_the_error_type_never_its_message() -> None:
    tracing, exporter = _tracing()
    with pytest.raises(ValueError), tracing.span("dispatch"):
        raise ValueError("https://opco.example/v2/dossiers/NI-7 Jean DUPONT")
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError"
    assert dict(span.attributes or {}) == {"error.type": "ValueError"}
    assert list(span.events) == []  # no exception event: its message is not recorded


class RefusingSink:
    """Acknowledges the first message, refuses the second for itself (too large)."""

    async def publish(self, messages: Sequence[OutboxMessage]) -> None:
        if len(messages) > 1:
            raise Unpublishable("too large", index=1, reason="TOO_LARGE")


async def test_a_publish_span_fails_only_for_the_message_the_broker_refused() -> None:
    tracing, exporter = _tracing()
    ledger = FakeLedger()
    rows = [
        OutboxMessage(f"s-{i}", "D1", {"ce_id": f"s-{i}", "traceparent": TRACEPARENT}, b"{}")
        for i in (1, 2)
    ]
    await reject(ledger, "e-1", rows)
    await Relay(ledger, RefusingSink(), tracing=tracing).drain()
    failed = {
        str((s.attributes or {})["messaging.message.id"]): s.status.status_code
        for s in exporter.get_finished_spans()
    }
    assert failed == {"s-1": StatusCode.UNSET, "s-2": StatusCode.ERROR}


async def test_the_relay_off_publishes_the_rows_as_they_are() -> None:
    ledger = FakeLedger()
    traced = OutboxMessage("s-1", "D1", {"ce_id": "s-1", "traceparent": TRACEPARENT}, b"{}")
    await reject(ledger, "e-1", [traced])
    sink = Sink()
    await Relay(ledger, sink).drain()
    assert sink.sent == [traced]


def test_the_cloudevents_tracing_extension_is_read_when_the_plain_header_is_absent() -> None:
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    extension = [("ce_traceparent", TRACEPARENT.encode()), ("ce_tracestate", b"a=b")]
    assert from_headers(extension) == {"traceparent": TRACEPARENT, "tracestate": "a=b"}
    assert from_headers([*extension, ("traceparent", other.encode())]) == {"traceparent": other}
