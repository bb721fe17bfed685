"""The composition root: ``build(settings, roles)`` wires one relais process; nothing connects here.

    app = build(settings, roles=("ingest", "relay"))
    await app.serve(stop)        # start, run until ``stop`` is set, shut down gracefully

What each role needs:

    ingest    ledger, FastStream KafkaBroker (the subscriber), producer (dead letters), rules
    dispatch  ledger, OPCO gateway (profiles + credentials), Dispatcher
    relay     ledger, producer (status events), leadership lock, Relay
    poll      ledger, OPCO gateway, Poller over every (CFA, OPCO) pair that has a key

Every process also serves ``/health/live``, ``/health/ready`` and ``/metrics``. The ledger URL is
read once (``open_engine``: the ledger, the relay's leadership, the wake-ups between processes).
How the parts start and stop: ``relais.bootstrap.app.App``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from relais.adapters.credentials import CredentialStore
from relais.adapters.credentials_reload import reloading_credentials
from relais.adapters.http_server import HttpServer, build_app
from relais.adapters.kafka.client import bootstrap_hosts, security
from relais.adapters.kafka.ingest import IngestObserverAdapter, IngestSubscriber
from relais.adapters.kafka.producer import KafkaProducer
from relais.adapters.ledger import LedgerEngine, open_engine
from relais.adapters.schema_registry import HttpSchemaRegistry
from relais.bootstrap.app import App
from relais.bootstrap.tracing import ProcessTracing, build_tracing
from relais.config import ALL_ROLES, Role, Settings
from relais.domain.dates import PARIS
from relais.domain.opco import OpcoCode
from relais.domain.referentials import load_npec, load_referentials
from relais.errors import ConfigurationError
from relais.logging import get_logger
from relais.metrics import Metrics
from relais.services.clock import Clock, SystemClock
from relais.services.ingest import DomainRules, IngestHandler, IngestPolicy, Rules
from relais.services.keywatch import KeyWatch
from relais.services.ledger_port import Ledger, OutboxMessage
from relais.services.opco_port import OpcoGateway
from relais.services.relay import Leadership, Relay, SetAside
from relais.services.retry import RetryPolicy

if TYPE_CHECKING:  # imported where built: only the roles a process runs load them
    from faststream.kafka import KafkaBroker

    from relais.services.dispatch import Dispatcher

__all__ = ["App", "build", "ingest_policy", "parse_roles", "retry_policy"]

log = get_logger("relais.runtime")


class _RelayObserver:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_published(self, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            self._metrics.status_out(message.headers.get("ce_type", "unknown").split(".")[-2])

    def on_failure(self, error: BaseException) -> None:
        log.warning("relay.publish_failed", error=repr(error))

    def on_set_aside(self, row: SetAside) -> None:
        self._metrics.status_set_aside.labels(reason=row.reason).inc()
        log.error(
            "relay.set_aside",
            seq=row.seq,
            status_id=row.event_id,
            type=row.status_type,
            size=row.size,
            reason=row.reason,
        )


def parse_roles(roles: Iterable[str] | None) -> tuple[Role, ...]:
    chosen = list(dict.fromkeys(roles or ALL_ROLES))
    unknown = [r for r in chosen if r not in ALL_ROLES]
    if unknown:
        raise ConfigurationError(f"unknown role(s) {unknown}: choose among {list(ALL_ROLES)}")
    return tuple(r for r in ALL_ROLES if r in chosen)


def ingest_policy(settings: Settings) -> IngestPolicy:
    return IngestPolicy(
        max_message_bytes=settings.kafka.max_message_bytes,
        topic_sources=settings.kafka.topic_sources,
        uai_siret=settings.cfa.uai_siret,
        hmac_secrets=settings.cfa.hmac_secrets,
        require_signature=settings.cfa.require_signature,
        registry_framing=settings.kafka.schema_registry_url is not None,
        file_limits=settings.files.policy().limits,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    d = settings.dispatch
    return RetryPolicy(
        attempts=d.max_attempts,
        timeout=timedelta(hours=d.max_age_hours),
        wait_initial=timedelta(seconds=d.backoff_base_s),
        wait_max=timedelta(seconds=d.backoff_cap_s),
        wait_jitter=d.jitter,
    )


def build(
    settings: Settings,
    roles: Iterable[str] | None = None,
    *,
    clock: Clock | None = None,
    rules: Rules | None = None,
    gateway: OpcoGateway | None = None,
    ledger: Ledger | None = None,
    base_urls: dict[OpcoCode, str] | None = None,
    tracing: ProcessTracing | None = None,
) -> App:
    """Wire a process for ``roles`` (default: all four). Nothing connects before ``start``.

    ``rules``, ``gateway``, ``ledger`` and ``tracing`` replace the real ones (tests); ``base_urls``
    points the OPCO client at other servers (the demo's simulator).
    """
    chosen = parse_roles(roles)
    clock = clock or SystemClock()
    engine = open_engine(
        settings.ledger.url.get_secret_value(),
        pool_min=settings.ledger.pool_min,
        pool_max=settings.ledger.pool_max,
        ledger=ledger,
    )
    app = App(settings=settings, roles=chosen, metrics=Metrics(), ledger=engine.ledger, clock=clock)
    app.tracing = tracing if tracing is not None else build_tracing(settings, chosen)
    app.checks["ledger"] = app.ledger.ping
    dispatching = "dispatch" in chosen and settings.dispatch.enabled
    polling = "poll" in chosen and settings.poll.enabled
    wakes = _wakeups(app, engine, dispatching)

    if "ingest" in chosen or "relay" in chosen:
        producer = app.producer = KafkaProducer(settings.kafka)
        app.checks["kafka"] = producer.ping
        if "ingest" in chosen:
            _add_ingest(app, producer, rules, wakes)
        if "relay" in chosen:
            _add_relay(app, producer, engine.leadership, wakes)

    if dispatching or polling:
        credentials = _credentials(settings, app.metrics)
        if gateway is None:
            gateway = _opco_gateway(app, credentials, base_urls)
        app.gateway = gateway
        if dispatching:
            app.dispatcher = _dispatcher(app, gateway, wakes)
        if polling:
            _add_poll(app, gateway, credentials)

    if settings.http.enabled:
        app.http = HttpServer(
            build_app(app.metrics, app.checks), settings.http.host, settings.http.port
        )
    return app


def _opco_gateway(
    app: App, credentials: CredentialStore, base_urls: dict[OpcoCode, str] | None
) -> OpcoGateway:
    from relais.adapters.opco.factory import build_gateway

    return build_gateway(
        app.settings,
        credentials,
        base_urls=base_urls,
        observer=app.metrics,
        tracing=app.tracing.tracing,
    )


class _Wakes(NamedTuple):
    """The events that wake dispatch and the relay (None: nobody to wake)."""

    dispatch: asyncio.Event | None
    relay: asyncio.Event | None


def _add_ingest(app: App, producer: KafkaProducer, rules: Rules | None, wakes: _Wakes) -> None:
    settings = app.settings
    app.broker = _kafka_broker(settings)
    registry = None
    if settings.kafka.schema_registry_url is not None:
        registry = app.registry = HttpSchemaRegistry(settings.kafka.schema_registry_url)
    app.handler = IngestHandler(
        app.ledger,
        producer,
        rules=rules if rules is not None else DomainRules(load_referentials(settings.schemas_dir)),
        policy=ingest_policy(settings),
        clock=app.clock,
        observer=IngestObserverAdapter(app.metrics),
        wake_dispatch=wakes.dispatch,
        wake_relay=wakes.relay,
        tracing=app.tracing.tracing,
        registry=registry,
    )
    app.ingest = IngestSubscriber(app.broker, app.handler, settings.kafka, app.metrics)
    app.checks["ingest"] = app.ingest.check


def _add_relay(app: App, producer: KafkaProducer, leadership: Leadership, wakes: _Wakes) -> None:
    kafka = app.settings.kafka
    app.relay = Relay(
        app.ledger,
        producer,
        leadership=leadership,
        batch_size=kafka.relay_batch_size,
        idle_s=kafka.relay_idle_s,
        final_drain_s=app.settings.shutdown_grace_s * 0.3,
        observer=_RelayObserver(app.metrics),
        wake=wakes.relay,
        reporter=producer,
        tracing=app.tracing.tracing,
    )
    app.checks["relay"] = app.relay.check


def _dispatcher(app: App, gateway: OpcoGateway, wakes: _Wakes) -> Dispatcher:
    from relais.bootstrap.files import file_opener
    from relais.services.dispatch import AUTO_SHARE, Dispatcher, DispatchOptions

    settings = app.settings
    idle = timedelta(seconds=settings.dispatch.idle_s)
    share = settings.dispatch.per_opco_inflight_limit
    return Dispatcher(
        app.ledger,
        gateway,
        DispatchOptions(
            inflight_limit=settings.dispatch.inflight_limit,
            per_opco_inflight=AUTO_SHARE if share is None else share,
            lease=timedelta(seconds=settings.dispatch.lease_s),
            retry=retry_policy(settings),
            idle_min=min(timedelta(milliseconds=50), idle),
            idle_max=idle,
            drain=timedelta(seconds=settings.shutdown_grace_s * 0.6),
        ),
        clock=app.clock,
        metrics=app.metrics,
        wake=wakes.dispatch,
        wake_relay=wakes.relay,
        npec=load_npec(settings.schemas_dir),
        check_factures=True,
        tracing=app.tracing.tracing,
        files=file_opener(settings.files),
    )


def _add_poll(app: App, gateway: OpcoGateway, credentials: CredentialStore) -> None:
    from relais.services.poll import Poller, PollOptions

    poll = app.settings.poll
    app.poller = Poller(
        app.ledger,
        gateway,
        PollOptions(interval=timedelta(seconds=poll.interval_s)),
        clock=app.clock,
        pairs=[(entry.siret, entry.opco) for entry in credentials.entries()],
        metrics=app.metrics,
    )
    app.keywatch = KeyWatch(
        gateway,
        [(entry.siret, entry.opco, entry.expiry) for entry in credentials.entries()],
        app.metrics,
        interval=timedelta(seconds=poll.keys_interval_s),
    )


def _wakeups(app: App, engine: LedgerEngine, dispatching: bool) -> _Wakes:
    """The events that wake dispatch and the relay (None: not run here, or nobody to wake).

    Ingest's commits wake the dispatcher and the relay, dispatch's the relay, instead of their next
    poll. In one process they share events; across processes on PostgreSQL, LISTEN/NOTIFY carries
    them (best effort: the polls remain), and ``app.wakeups`` is that bridge.
    """
    chosen = app.roles
    dispatch_wake = asyncio.Event() if dispatching else None
    relay_wake = asyncio.Event() if "relay" in chosen else None
    all_here = dispatching and "relay" in chosen and "ingest" in chosen
    if engine.wakeups is None or all_here:
        return _Wakes(dispatch_wake, relay_wake)
    from relais.adapters.wakeups import DISPATCH_CHANNEL, RELAY_CHANNEL

    notify: dict[str, asyncio.Event] = {}
    listen: dict[str, asyncio.Event] = {}
    if "ingest" in chosen and dispatch_wake is None:
        dispatch_wake = notify[DISPATCH_CHANNEL] = asyncio.Event()
    elif dispatch_wake is not None:
        listen[DISPATCH_CHANNEL] = dispatch_wake
    if ("ingest" in chosen or dispatching) and relay_wake is None:
        relay_wake = notify[RELAY_CHANNEL] = asyncio.Event()
    elif relay_wake is not None:
        listen[RELAY_CHANNEL] = relay_wake
    wakeups = engine.wakeups(notify=notify, listen=listen)
    app.wakeups = wakeups if wakeups.needed else None
    return _Wakes(dispatch_wake, relay_wake)


def _kafka_broker(settings: Settings) -> KafkaBroker:
    import logging

    from faststream.kafka import KafkaBroker

    k = settings.kafka
    return KafkaBroker(
        bootstrap_hosts(k),
        client_id=k.client_id,
        request_timeout_ms=k.request_timeout_ms,
        security=security(k),
        graceful_timeout=settings.shutdown_grace_s * 0.5,
        consumer_only=True,
        logger=logging.getLogger("relais.faststream"),
        log_level=logging.DEBUG,
        description="relais: CFA events in, status events and dead letters out",
    )


def _credentials(settings: Settings, metrics: Metrics) -> CredentialStore:
    """The CFA keys and OAuth clients, reloaded when their files change; their problems (files
    and rows, never values) logged and expiry gauges set at start and at each reload."""
    return reloading_credentials(settings, on_load=lambda s: _configured_key_expiry(metrics, s))


def _configured_key_expiry(metrics: Metrics, credentials: CredentialStore) -> None:
    """The expiry dates of the credentials files (the poll role also asks the OPCO)."""
    for entry in credentials.entries():
        if entry.expiry is not None:
            expires = datetime.combine(entry.expiry, datetime.min.time(), PARIS)
            metrics.key_expiry(entry.opco.value, entry.siret, expires)
