"""One trace from a CFA's Kafka record to the OPCO call to the status event, across the ledger.

Ingest, dispatch and relay run in one process (``build``) on the real broker, a SQLite ledger and
the real simulator; the spans are read with the SDK's ``InMemorySpanExporter``. One record carries
the ERP's ``traceparent``: its ingest span continues that trace; the other has none: its ingest
span starts one. Either way, the dispatch span is the ingest span's child (its context kept in the
command's payload), the OPCO call the dispatch span's, the publication of its ``submitted`` status
the dispatch span's, and the status record's ``traceparent`` names that publication. The second
test splits ingest + relay and dispatch into two apps with their own exporters, dispatch started
once ingest is done: only the ledger carries the trace between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from relais.bootstrap import App, build
from relais.bootstrap.tracing import provider_tracing
from relais.domain.opco import OpcoCode
from relais.sampledata import Generator
from tests.fixtures.broker import In, Out, produce
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess
from tests.integration.pipeline.harness import out, published_statuses, running, wait_until
from tests.integration.pipeline.test_order_through_kafka import app_settings, sim_urls
from tests.today import TODAY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ERP_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ERP_SPAN = "00f067aa0ba902b7"
ERP_STATE = "erp=00f067aa0ba902b7"
# What a span may name (relais.tracing): ids, CFA SIRET, OPCO, topic, route, HTTP status.
ALLOWED_ATTRIBUTES = {
    "messaging.system",
    "messaging.operation.type",
    "messaging.destination.name",
    "messaging.destination.partition.id",
    "messaging.kafka.offset",
    "messaging.message.id",
    "relais.outcome",
    "relais.event_id",
    "relais.command_id",
    "relais.cfa",
    "relais.opco",
    "relais.kind",
    "relais.attempt",
    "relais.status_type",
    "http.request.method",
    "http.response.status_code",
    "url.template",
    "error.type",
}


PERSONAL = ("nom", "prenom", "nir", "dateNaissance", "courriel", "telephone")


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _parent(span: ReadableSpan) -> str | None:
    return _hex(span.parent.span_id, 16) if span.parent is not None else None


def _id(span: ReadableSpan) -> str:
    return _hex(span.context.span_id, 16)


def _trace(span: ReadableSpan) -> str:
    return _hex(span.context.trace_id, 32)


def _one(spans: list[ReadableSpan], predicate: Callable[[ReadableSpan], bool]) -> ReadableSpan:
    found = [s for s in spans if predicate(s)]
    assert len(found) == 1, [(s.name, dict(s.attributes or {})) for s in found]
    return found[0]


def _events() -> tuple[dict[str, Any], dict[str, Any], list[Out]]:
    """Two dossiers' events and their records: the first with the ERP's trace headers."""
    gen = Generator(20261203, TODAY, cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    start = TODAY - timedelta(days=2)
    traced, rooted = (
        gen.dossier(opco, cfa=gen.cfas[0], explicit_opco=True, start=start).event
        for opco in (OpcoCode.ATLAS, OpcoCode.AFDAS)
    )
    erp = out(traced)
    trace_headers = [
        ("traceparent", f"00-{ERP_TRACE}-{ERP_SPAN}-01".encode()),
        ("tracestate", ERP_STATE.encode()),
    ]
    return traced, rooted, [replace(erp, headers=[*erp.headers, *trace_headers]), out(rooted)]


def _done(app: App, state: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        counts = await app.ledger.counts()
        return counts.get(state, 0) == 2 and not counts.get("outbox", 0)

    return check


async def test_one_trace_from_the_record_to_the_opco_call_to_the_status(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    traced, rooted, records = _events()
    settings, status_topic = app_settings(
        kafka_bootstrap, topic_factory, tmp_path, fresh_simulator.oauth_file
    )
    roles = ["ingest", "dispatch", "relay"]
    exporter = InMemorySpanExporter()
    tracing = provider_tracing(settings, roles, exporter)
    app = build(settings, roles, base_urls=sim_urls(fresh_simulator), tracing=tracing)
    async with running(app):
        await produce(kafka_bootstrap, settings.kafka.input_topic, records)
        await wait_until(_done(app, "done"), timeout_s=60, every_s=0.2)
        statuses = await published_statuses(app, kafka_bootstrap, status_topic)
    tracing.provider.force_flush()
    spans = list(exporter.get_finished_spans())

    _check_chain(spans, statuses, traced, erp_trace=ERP_TRACE)
    _check_chain(spans, statuses, rooted, erp_trace=None)
    _check_no_personal_data(spans, [traced, rooted])


async def test_the_ledger_carries_the_trace_from_one_process_to_another(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    """Ingest and relay in one app, dispatch in another started once ingest is done: each with
    its own tracer provider and exporter, as two processes would export to one collector."""
    traced, rooted, records = _events()
    settings, status_topic = app_settings(
        kafka_bootstrap, topic_factory, tmp_path, fresh_simulator.oauth_file
    )
    front_exporter, back_exporter = InMemorySpanExporter(), InMemorySpanExporter()
    front_tracing = provider_tracing(settings, ["ingest", "relay"], front_exporter)
    back_tracing = provider_tracing(settings, ["dispatch"], back_exporter)
    front = build(settings, ["ingest", "relay"], tracing=front_tracing)
    back = build(settings, ["dispatch"], base_urls=sim_urls(fresh_simulator), tracing=back_tracing)
    async with running(front):
        await produce(kafka_bootstrap, settings.kafka.input_topic, records)
        await wait_until(_done(front, "pending"), timeout_s=60, every_s=0.2)
        async with running(back):
            await wait_until(_done(front, "done"), timeout_s=60, every_s=0.2)
        statuses = await published_statuses(front, kafka_bootstrap, status_topic)
    for tracing in (front_tracing, back_tracing):
        tracing.provider.force_flush()
    front_spans = list(front_exporter.get_finished_spans())
    back_spans = list(back_exporter.get_finished_spans())
    assert {s.resource.attributes["service.name"] for s in back_spans} == {"relais-dispatch"}
    assert {s.kind for s in back_spans} == {SpanKind.INTERNAL, SpanKind.CLIENT}
    assert SpanKind.INTERNAL not in {s.kind for s in front_spans}
    _check_chain(front_spans + back_spans, statuses, traced, erp_trace=ERP_TRACE)
    _check_chain(front_spans + back_spans, statuses, rooted, erp_trace=None)


def _check_chain(
    spans: list[ReadableSpan], statuses: list[In], event: dict[str, Any], erp_trace: str | None
) -> None:
    event_id = event["id"]
    ingest = _one(
        spans,
        lambda s: (
            s.kind is SpanKind.CONSUMER and (s.attributes or {}).get("relais.event_id") == event_id
        ),
    )
    trace_id = _trace(ingest)
    if erp_trace is not None:  # the ERP's trace continued: the child of its span
        assert (trace_id, _parent(ingest)) == (erp_trace, ERP_SPAN)
    else:  # no traceparent: a new root
        assert ingest.parent is None
    assert (ingest.attributes or {})["relais.outcome"] == "accepted"
    dispatch = _one(spans, lambda s: s.name == "dispatch" and _parent(s) == _id(ingest))
    assert (dispatch.attributes or {})["relais.event_id"] == event_id
    assert (dispatch.attributes or {})["relais.outcome"] == "submitted"
    call = _one(spans, lambda s: s.kind is SpanKind.CLIENT and _parent(s) == _id(dispatch))
    assert call.name == "POST /v2/dossiers" or call.name == "POST /v1/dossiers", call.name
    status_code = (call.attributes or {})["http.response.status_code"]
    assert isinstance(status_code, int) and 200 <= status_code < 300
    assert {_trace(s) for s in (dispatch, call)} == {trace_id}

    # the statuses, each published in a PRODUCER span: the child of the span that decided it
    mine = {s.json()["status"]: s for s in statuses if s.json()["eventId"] == event_id}
    assert set(mine) == {"received", "submitted"}, sorted(mine)
    for status, decided_by in (("received", ingest), ("submitted", dispatch)):
        record = mine[status]
        publish = _one(
            spans,
            lambda s, r=record: (
                s.kind is SpanKind.PRODUCER
                and (s.attributes or {}).get("messaging.message.id") == r.headers["ce_id"]
            ),
        )
        assert _parent(publish) == _id(decided_by), status
        version, record_trace, record_span, flags = record.headers["traceparent"].split("-")
        assert (version, record_trace, record_span) == ("00", trace_id, _id(publish))
        assert int(flags, 16) & 1 == 1  # sampled (bit 2, "random", is the SDK's to set)
        if erp_trace is not None:
            assert record.headers["tracestate"] == ERP_STATE  # carried along the trace
        else:
            assert "tracestate" not in record.headers


def _check_no_personal_data(spans: list[ReadableSpan], events: list[dict[str, Any]]) -> None:
    names = {key for s in spans for key in (s.attributes or {})}
    assert names <= ALLOWED_ATTRIBUTES, sorted(names - ALLOWED_ATTRIBUTES)
    apprentis = [event["data"]["cerfa"]["apprenti"] for event in events]
    personal = {str(a[field]) for a in apprentis for field in PERSONAL if a.get(field)}
    assert len(personal) >= 2 * 5, personal  # the check looks for something
    values = {str(v) for s in spans for v in (s.attributes or {}).values()}
    values |= {s.name for s in spans}
    assert not {v for v in values if any(p in v for p in personal)}
