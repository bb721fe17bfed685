"""The composition root: ``build(settings, roles)`` wires one relais process; nothing connects here.

    app = build(settings, roles=("ingest", "relay"))
    await app.serve(stop)        # start, run until ``stop`` is set, shut down gracefully

What each role needs:

    ingest    ledger, FastStream KafkaBroker (the subscriber), producer (dead letters), rules
    dispatch  ledger, OPCO gateway (profiles + credentials), Dispatcher
    relay     ledger, producer (status events), leadership lock, Relay
    poll      ledger, OPCO gateway, Poller over every (CFA, OPCO) pair that has a key

Every process also serves ``/health/live``, ``/health/ready`` and ``/metrics``.

Shutdown (SIGTERM/SIGINT -> ``stop``), within ``settings.shutdown_grace_s``:
1. stop consuming: the FastStream broker stops its subscriber after the record in hand is handled
   and committed (its graceful timeout);
2. the background roles see ``stop``: dispatch lets in-flight calls finish then releases what it
   still holds to the ledger; poll and relay end their turn;
3. the relay publishes what is left in the outbox (bounded by the remaining grace);
4. producer, gateway, ledger and HTTP server close.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relais.adapters.http_server import HttpServer, ReadinessCheck, build_app
from relais.adapters.kafka.client import security
from relais.adapters.kafka.ingest import IngestObserverAdapter, IngestSubscriber
from relais.adapters.kafka.producer import KafkaProducer
from relais.adapters.leadership import FileLeadership, PostgresLeadership
from relais.adapters.ledger import open_ledger, sqlite_path
from relais.config import ALL_ROLES, Role, Settings
from relais.domain.dates import PARIS
from relais.domain.opco import OpcoCode
from relais.domain.referentials import load_referentials
from relais.errors import ConfigurationError
from relais.logging import get_logger
from relais.metrics import Metrics
from relais.services.clock import Clock, SystemClock
from relais.services.ingest import DomainRules, IngestHandler, IngestPolicy, Rules
from relais.services.keywatch import KeyWatch
from relais.services.ledger_port import Ledger, OutboxMessage
from relais.services.relay import AlwaysLeader, Leadership, Relay, SetAside
from relais.services.retry import RetryPolicy
from relais.startup import start_failure

log = get_logger("relais.runtime")

_COUNTS_EVERY_S = 5.0


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


@dataclass
class App:
    """One relais process: its parts, and how to start and stop them."""

    settings: Settings
    roles: tuple[Role, ...]
    metrics: Metrics
    ledger: Ledger
    clock: Clock
    gateway: Any = None  # OpcoGateway when dispatch or poll runs
    broker: Any = None  # faststream.kafka.KafkaBroker when ingest runs
    producer: KafkaProducer | None = None
    ingest: IngestSubscriber | None = None
    handler: IngestHandler | None = None
    relay: Relay | None = None
    dispatcher: Any = None
    poller: Any = None
    keywatch: KeyWatch | None = None
    wakeups: Any = None  # PgWakeups: the roles' wake-ups across processes (PostgreSQL)
    http: HttpServer | None = None
    checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _started: bool = False

    @property
    def http_port(self) -> int | None:
        return self.http.port if self.http is not None else None

    async def start(self) -> None:
        if self.settings.ledger.migrate_on_start:
            await self.ledger.migrate()
        if self.http is not None:
            await self.http.start()
        if self.producer is not None:
            await self.producer.start()
        self._stop = asyncio.Event()
        self._spawn("counts", self._refresh_counts)
        if self.relay is not None:
            self._spawn("relay", self.relay.run)
        if self.dispatcher is not None:
            self._spawn("dispatch", self.dispatcher.run)
        if self.poller is not None:
            self._spawn("poll", self.poller.run)
        if self.keywatch is not None:
            self._spawn("keys", self.keywatch.run)
        if self.wakeups is not None:
            self._spawn("wakeups", self.wakeups.run)
        if self.broker is not None:
            await self.broker.start()
        self._started = True
        log.info("relais.started", roles=list(self.roles), http_port=self.http_port)

    def _spawn(self, name: str, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        async def guarded() -> None:
            try:
                await run(self._stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("relais.role_crashed", role=name, error=repr(exc))
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=f"relais-{name}"))

    async def stop(self) -> None:
        grace = self.settings.shutdown_grace_s
        deadline = time.monotonic() + grace
        log.info("relais.stopping", grace_s=grace)
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.broker.stop(), max(0.1, deadline - time.monotonic()))
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(
                self._tasks, timeout=max(0.1, deadline - time.monotonic())
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
        if self.dispatcher is not None:
            with contextlib.suppress(Exception):
                await self.ledger.release(self.dispatcher.worker_id)
        for close in (
            self.producer.stop if self.producer is not None else None,
            self.gateway.aclose if self.gateway is not None else None,
            self.ledger.close,
            self.http.stop if self.http is not None else None,
        ):
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        self._started = False
        log.info("relais.stopped")

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, run until ``stop`` is set (or a role crashes), then stop gracefully."""
        try:
            await self.start()
        except BaseException as failure:  # why, said before the "stopping" of what did start:
            log.error("relais.start_failed", **start_failure(failure).fields())
            await self.stop()  # whatever did start (HTTP server, producer, roles) is closed
            raise
        crashed: list[BaseException] = []
        try:
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait([stopper, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            crashed = [
                exc
                for task in self._tasks
                if task.done() and not task.cancelled() and (exc := task.exception()) is not None
            ]
        finally:
            await self.stop()
        if crashed:
            raise crashed[0]  # a role died: the process exits non-zero and is restarted

    async def _refresh_counts(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                self.metrics.ledger_counts(await self.ledger.counts())
            if self.ingest is not None:
                self.ingest.refresh_lag()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _COUNTS_EVERY_S)


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
    )


def leadership_for(ledger_url: str) -> Leadership:
    if ledger_url.startswith(("postgresql://", "postgres://")):
        return PostgresLeadership(ledger_url)
    path = sqlite_path(ledger_url)
    if path == ":memory:":
        return AlwaysLeader()
    return FileLeadership(Path(path + ".relay.lock"))


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
    gateway: Any = None,
    ledger: Ledger | None = None,
    base_urls: dict[OpcoCode, str] | None = None,
) -> App:
    """Wire a process for ``roles`` (default: all four). Nothing connects before ``start``.

    ``rules``, ``gateway`` and ``ledger`` replace the real ones (tests); ``base_urls`` points the
    OPCO client at other servers (the demo's simulator).
    """
    chosen = parse_roles(roles)
    clock = clock or SystemClock()
    metrics = Metrics()
    ledger_url = settings.ledger.url.get_secret_value()
    ledger_opts: dict[str, Any] = {}
    if ledger_url.startswith(("postgresql://", "postgres://")):
        ledger_opts = {"min_size": settings.ledger.pool_min, "max_size": settings.ledger.pool_max}
    else:
        path = sqlite_path(ledger_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if ledger is None:
        ledger = open_ledger(ledger_url, **ledger_opts)
    app = App(settings=settings, roles=chosen, metrics=metrics, ledger=ledger, clock=clock)
    app.checks["ledger"] = ledger.ping
    # Wake-ups between the roles: ingest's commits wake the dispatcher and the relay, dispatch's
    # the relay, instead of their next poll. In one process they share events; across processes
    # on PostgreSQL, LISTEN/NOTIFY carries them (best effort: the polls remain).
    dispatching = "dispatch" in chosen and settings.dispatch.enabled
    dispatch_wake = asyncio.Event() if dispatching else None
    relay_wake = asyncio.Event() if "relay" in chosen else None
    postgres = ledger_url.startswith(("postgresql://", "postgres://"))
    if postgres and not (dispatching and "relay" in chosen and "ingest" in chosen):
        from relais.adapters.wakeups import DISPATCH_CHANNEL, RELAY_CHANNEL, PgWakeups

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
        wakeups = PgWakeups(ledger_url, notify=notify, listen=listen)
        app.wakeups = wakeups if wakeups.needed else None

    if "ingest" in chosen or "relay" in chosen:
        app.producer = KafkaProducer(settings.kafka)
        app.checks["kafka"] = app.producer.ping

    if "ingest" in chosen:
        assert app.producer is not None
        app.broker = _kafka_broker(settings)
        app.handler = IngestHandler(
            ledger,
            app.producer,
            rules=rules
            if rules is not None
            else DomainRules(load_referentials(settings.schemas_dir)),
            policy=ingest_policy(settings),
            clock=clock,
            observer=IngestObserverAdapter(metrics),
            wake_dispatch=dispatch_wake,
            wake_relay=relay_wake,
        )
        app.ingest = IngestSubscriber(app.broker, app.handler, settings.kafka, metrics)
        app.checks["ingest"] = app.ingest.check

    if "relay" in chosen:
        assert app.producer is not None
        app.relay = Relay(
            ledger,
            app.producer,
            leadership=leadership_for(ledger_url),
            batch_size=settings.kafka.relay_batch_size,
            idle_s=settings.kafka.relay_idle_s,
            final_drain_s=settings.shutdown_grace_s * 0.3,
            observer=_RelayObserver(metrics),
            wake=relay_wake,
            reporter=app.producer,
        )
        app.checks["relay"] = app.relay.check

    if dispatching or ("poll" in chosen and settings.poll.enabled):
        credentials = _credentials(settings, metrics)
        if gateway is None:
            from relais.adapters.opco.factory import build_gateway

            gateway = build_gateway(settings, credentials, base_urls=base_urls, observer=metrics)
        app.gateway = gateway
        if dispatching:
            from relais.services.dispatch import AUTO_SHARE, Dispatcher, DispatchOptions

            idle = timedelta(seconds=settings.dispatch.idle_s)
            share = settings.dispatch.per_opco_inflight_limit

            app.dispatcher = Dispatcher(
                ledger,
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
                clock=clock,
                metrics=metrics,
                wake=dispatch_wake,
                wake_relay=relay_wake,
            )
        if "poll" in chosen and settings.poll.enabled:
            from relais.services.poll import Poller, PollOptions

            app.poller = Poller(
                ledger,
                gateway,
                PollOptions(interval=timedelta(seconds=settings.poll.interval_s)),
                clock=clock,
                pairs=[(entry.siret, entry.opco) for entry in credentials.entries()],
                metrics=metrics,
            )
            app.keywatch = KeyWatch(
                gateway,
                [(entry.siret, entry.opco, entry.expiry) for entry in credentials.entries()],
                metrics,
                interval=timedelta(seconds=settings.poll.keys_interval_s),
            )

    if settings.http.enabled:
        app.http = HttpServer(
            build_app(metrics, app.checks), settings.http.host, settings.http.port
        )
    return app


def _kafka_broker(settings: Settings) -> Any:
    import logging

    from faststream.kafka import KafkaBroker

    k = settings.kafka
    return KafkaBroker(
        k.bootstrap_servers,
        client_id=k.client_id,
        request_timeout_ms=k.request_timeout_ms,
        security=security(k),
        graceful_timeout=settings.shutdown_grace_s * 0.5,
        consumer_only=True,
        logger=logging.getLogger("relais.faststream"),
        log_level=logging.DEBUG,
        description="relais: CFA events in, status events and dead letters out",
    )


def _credentials(settings: Settings, metrics: Metrics) -> Any:
    """The CFA keys and OAuth clients, reloaded when their files change; their problems (files
    and rows, never values) logged and expiry gauges set at start and at each reload."""
    from relais.operator.config_check import reloading_credentials

    return reloading_credentials(settings, on_load=lambda s: _configured_key_expiry(metrics, s))


def _configured_key_expiry(metrics: Metrics, credentials: Any) -> None:
    """The expiry dates of the credentials files (the poll role also asks the OPCO)."""
    for entry in credentials.entries():
        if entry.expiry is not None:
            expires = datetime.combine(entry.expiry, datetime.min.time(), PARIS)
            metrics.key_expiry(entry.opco.value, entry.siret, expires)
