"""relais's Prometheus metrics: few, named on purpose, bounded labels (never ids).

``Metrics()`` builds its own ``CollectorRegistry`` (nothing is registered at import time, so tests
and several apps in one process never collide); ``bootstrap.build`` makes one per process and
``/metrics`` renders it. The names below are a contract with the Helm chart, the alert rules and
the dashboards: do not rename them.

    relais_events_consumed_total{outcome}            accepted|rejected|duplicate|dead_lettered
    relais_commands_total{opco,kind,outcome}         submitted|failed|retried|deferred
    relais_opco_requests_total{opco,route,status_class}
    relais_opco_request_duration_seconds{opco,route} histogram
    relais_opco_circuit_open{opco}                   gauge 0/1
    relais_opco_paused{opco}                         gauge 0/1, an operator's pause (relais opco)
    relais_ledger_commands{state}                    gauge
    relais_outbox_backlog                            gauge
    relais_dlq_messages_total
    relais_status_published_total{type}
    relais_event_latency_seconds{kind}               histogram, event time -> terminal status
    relais_poll_last_success_timestamp_seconds{opco}
    relais_cfa_key_expiry_timestamp_seconds{opco,cfa}  cfa = CFA SIRET (an organisation, bounded)
    relais_consumer_lag_messages{topic}        the fetcher's estimate (next record to handle)
    relais_kafka_consumer_lag{topic,partition}  the broker's: high watermark - committed offset
                                                (adapters/kafka/lag.py; KEDA and alerts use it)
    relais_referential_valid_until_timestamp_seconds{file}  file = a referential's name (4 files)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

EVENT_OUTCOMES = ("accepted", "rejected", "duplicate", "dead_lettered")
COMMAND_OUTCOMES = ("submitted", "failed", "retried", "deferred")

_OPCO_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def status_class(status: int | None) -> str:
    """``2xx``..``5xx``, or ``error`` when no HTTP answer came back (timeout, connection)."""
    if status is None or not 100 <= status <= 599:
        return "error"
    return f"{status // 100}xx"


class Metrics:
    """Every relais metric, on one registry owned by this object."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events_consumed = Counter(
            "relais_events_consumed_total",
            "CFA events consumed from the input topics, by outcome",
            ["outcome"],
            registry=r,
        )
        self.commands = Counter(
            "relais_commands_total",
            "OPCO command attempts by outcome",
            ["opco", "kind", "outcome"],
            registry=r,
        )
        self.opco_requests = Counter(
            "relais_opco_requests_total",
            "HTTP requests to the OPCO convergence APIs",
            ["opco", "route", "status_class"],
            registry=r,
        )
        self.opco_request_duration = Histogram(
            "relais_opco_request_duration_seconds",
            "Duration of HTTP requests to the OPCO convergence APIs",
            ["opco", "route"],
            buckets=_OPCO_BUCKETS,
            registry=r,
        )
        self.opco_circuit_open = Gauge(
            "relais_opco_circuit_open",
            "1 while the circuit breaker of an OPCO is open",
            ["opco"],
            registry=r,
        )
        self.opco_paused = Gauge(
            "relais_opco_paused",
            "1 while an OPCO is paused by the operators (relais opco pause): its commands wait",
            ["opco"],
            registry=r,
        )
        self.ledger_commands = Gauge(
            "relais_ledger_commands",
            "Commands in the ledger by state",
            ["state"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "relais_outbox_backlog",
            "Status events waiting in the outbox",
            registry=r,
        )
        self.dlq_messages = Counter(
            "relais_dlq_messages",
            "Records sent to the dead-letter topic",
            registry=r,
        )
        self.status_published = Counter(
            "relais_status_published",
            "Status events published on the status topic, by type",
            ["type"],
            registry=r,
        )
        self.status_set_aside = Counter(
            "relais_status_set_aside",
            "Outbox rows the relay could not publish and set aside (reported on the DLQ topic)",
            ["reason"],
            registry=r,
        )
        self.event_latency = Histogram(
            "relais_event_latency_seconds",
            "From a CFA event's time to its terminal status",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.poll_last_success = Gauge(
            "relais_poll_last_success_timestamp_seconds",
            "Unix time of the last complete poll of an OPCO",
            ["opco"],
            registry=r,
        )
        self.cfa_key_expiry = Gauge(
            "relais_cfa_key_expiry_timestamp_seconds",
            "Unix time at which a CFA's API key at an OPCO expires",
            ["opco", "cfa"],
            registry=r,
        )
        self.referential_valid_until = Gauge(
            "relais_referential_valid_until_timestamp_seconds",
            "Unix time at which a referential file (SMIC, IDCC -> OPCO, wage grid, NPEC) stops "
            "being known right (its valid-until day ends); 0 when the file does not say",
            ["file"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "relais_consumer_lag_messages",
            "Messages not yet consumed by the ingest group, by topic",
            ["topic"],
            registry=r,
        )
        self.kafka_consumer_lag = Gauge(
            "relais_kafka_consumer_lag",
            "Records of an input partition owned by this process not yet committed by the ingest "
            "group: the broker's high watermark minus the group's committed offset",
            ["topic", "partition"],
            registry=r,
        )
        for outcome in EVENT_OUTCOMES:
            self.events_consumed.labels(outcome=outcome)

    # Small helpers the services call, so label names live here only.

    def event_consumed(self, outcome: str) -> None:
        self.events_consumed.labels(outcome=outcome).inc()

    def command(self, opco: str, kind: str, outcome: str) -> None:
        self.commands.labels(opco=opco, kind=kind, outcome=outcome).inc()

    def terminal_latency(self, kind: str, seconds: float) -> None:
        """An event reached its terminal status (submitted/failed by dispatch)."""
        self.event_latency.labels(kind=kind).observe(seconds)

    def opco_request(self, opco: str, route: str, status: int | None, seconds: float) -> None:
        self.opco_requests.labels(opco=opco, route=route, status_class=status_class(status)).inc()
        self.opco_request_duration.labels(opco=opco, route=route).observe(seconds)

    def circuit(self, opco: str, *, is_open: bool) -> None:
        self.opco_circuit_open.labels(opco=opco).set(1 if is_open else 0)

    def opco_pause(self, opco: str, *, paused: bool) -> None:
        self.opco_paused.labels(opco=opco).set(1 if paused else 0)

    def ledger_counts(self, counts: Mapping[str, int]) -> None:
        """From ``Ledger.counts()``: commands by state, plus the ``outbox`` backlog."""
        for name, value in counts.items():
            if name == "outbox":
                self.outbox_backlog.set(value)
            else:
                self.ledger_commands.labels(state=name).set(value)

    # relais.adapters.opco.observer.RequestObserver (the OPCO client's hooks)

    def on_request(self, opco: str, route: str, status_class: str, seconds: float) -> None:
        self.opco_requests.labels(opco=opco, route=route, status_class=status_class).inc()
        self.opco_request_duration.labels(opco=opco, route=route).observe(seconds)

    def on_breaker(self, opco: str, state: str) -> None:
        self.opco_circuit_open.labels(opco=opco).set(1 if state == "open" else 0)

    # relais.services.poll.PollMetrics

    def poll_succeeded(self, opco: str, at: datetime) -> None:
        self.poll_last_success.labels(opco=opco).set(at.timestamp())

    def key_expiry(self, opco: str, cfa: str, expires_at: datetime) -> None:
        self.cfa_key_expiry.labels(opco=opco, cfa=cfa).set(expires_at.timestamp())

    def referential_validity(self, file: str, valid_until: datetime | None) -> None:
        value = 0.0 if valid_until is None else valid_until.timestamp()
        self.referential_valid_until.labels(file=file).set(value)

    def status_out(self, type_: str) -> None:
        self.status_published.labels(type=type_).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
