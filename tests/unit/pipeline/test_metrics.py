"""The metric names are a contract with the Helm chart and the alert rules."""

from __future__ import annotations

from relais.metrics import Metrics, status_class
from tests.ledger_entries import accept

EXPECTED = {
    "relais_events_consumed_total": "counter",
    "relais_commands_total": "counter",
    "relais_opco_requests_total": "counter",
    "relais_opco_request_duration_seconds": "histogram",
    "relais_opco_circuit_open": "gauge",
    "relais_ledger_commands": "gauge",
    "relais_outbox_backlog": "gauge",
    "relais_dlq_messages_total": "counter",
    "relais_status_published_total": "counter",
    "relais_status_set_aside_total": "counter",
    "relais_event_latency_seconds": "histogram",
    "relais_poll_last_success_timestamp_seconds": "gauge",
    "relais_cfa_key_expiry_timestamp_seconds": "gauge",
    "relais_consumer_lag_messages": "gauge",
    "relais_referential_valid_until_timestamp_seconds": "gauge",
}


def test_exact_names_and_types() -> None:
    m = Metrics()
    m.event_consumed("accepted")
    m.command("AKTO", "dossier", "submitted")
    m.opco_request("AKTO", "POST /v1/dossiers", 201, 0.12)
    m.opco_request("AKTO", "POST /v1/dossiers", None, 5.0)
    m.circuit("AKTO", is_open=True)
    m.ledger_counts({"pending": 3, "done": 2, "outbox": 7})
    m.dlq_messages.inc()
    m.status_out("received")
    m.status_set_aside.labels(reason="TOO_LARGE").inc()
    m.event_latency.labels(kind="dossier").observe(1.5)
    m.poll_last_success.labels(opco="AKTO").set(1.0)
    m.cfa_key_expiry.labels(opco="AKTO", cfa="12345678901234").set(2.0)
    m.consumer_lag.labels(topic="cfa.events.v1").set(0)
    m.referential_validity("smic.csv", None)
    text = m.render().decode()
    for name, kind in EXPECTED.items():
        family = name.removesuffix("_total")
        assert f"# TYPE {family} {kind}" in text or f"# TYPE {name} {kind}" in text, name
    assert (
        'relais_opco_requests_total{opco="AKTO",route="POST /v1/dossiers",status_class="2xx"} 1.0'
        in text
    )
    assert 'status_class="error"' in text
    assert "relais_outbox_backlog 7.0" in text
    assert 'relais_ledger_commands{state="pending"} 3.0' in text
    assert 'relais_events_consumed_total{outcome="duplicate"} 0.0' in text


def test_registries_are_independent() -> None:
    a, b = Metrics(), Metrics()
    a.event_consumed("accepted")
    assert 'relais_events_consumed_total{outcome="accepted"} 1.0' in a.render().decode()
    assert 'relais_events_consumed_total{outcome="accepted"} 0.0' in b.render().decode()


def test_status_class() -> None:
    assert [status_class(s) for s in (200, 201, 404, 429, 503, None, 0)] == [
        "2xx",
        "2xx",
        "4xx",
        "4xx",
        "5xx",
        "error",
        "error",
    ]


def test_is_the_opco_client_observer_and_the_poll_metrics() -> None:
    from datetime import UTC, datetime

    from relais.adapters.opco.observer import RequestObserver
    from relais.services.poll import PollMetrics

    m = Metrics()
    observer: RequestObserver = m
    poll_metrics: PollMetrics = m
    observer.on_request("ATLAS", "GET /v2/dossiers/etats", "timeout", 30.0)
    observer.on_breaker("ATLAS", "open")
    poll_metrics.poll_succeeded("ATLAS", datetime(2026, 11, 27, tzinfo=UTC))
    text = m.render().decode()
    assert 'status_class="timeout"' in text
    assert 'relais_opco_circuit_open{opco="ATLAS"} 1.0' in text
    expected = datetime(2026, 11, 27, tzinfo=UTC).timestamp()
    sample = m.registry.get_sample_value(
        "relais_poll_last_success_timestamp_seconds", {"opco": "ATLAS"}
    )
    assert sample == expected
    observer.on_breaker("ATLAS", "half_open")
    assert 'relais_opco_circuit_open{opco="ATLAS"} 0.0' in m.render().decode()


async def test_dispatch_records_the_event_latency_of_submitted_and_failed() -> None:
    """relais_event_latency_seconds{kind}: event time (ce_time) -> submitted or failed."""
    import dataclasses
    from datetime import timedelta

    from relais.services.dispatch import Dispatcher
    from tests.unit.services.fakes import FakeGateway, FakeLedger, ManualClock
    from tests.unit.services.samples import dossier_cmd

    clock = ManualClock()  # 08:00 UTC, the samples' ce_time
    ledger = FakeLedger(clock)
    metrics = Metrics()
    dispatcher = Dispatcher(ledger, FakeGateway(), clock=clock, metrics=metrics)
    ok = dossier_cmd("e1", "D1")
    bad = dataclasses.replace(dossier_cmd("e2", "D2"), opco="NOT_AN_OPCO")  # fails at once
    assert await accept(ledger, ok, []) and await accept(ledger, bad, [])
    clock.advance(timedelta(seconds=90))
    assert await dispatcher.run_once() == 2
    text = metrics.render().decode()
    assert 'relais_event_latency_seconds_count{kind="dossier"} 2.0' in text
    assert 'relais_event_latency_seconds_sum{kind="dossier"} 180.0' in text
    outcomes = [line for line in text.splitlines() if line.startswith("relais_commands_total{")]
    assert any('outcome="submitted"' in line and line.endswith(" 1.0") for line in outcomes)
    assert any('outcome="failed"' in line and line.endswith(" 1.0") for line in outcomes)
