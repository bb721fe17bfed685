"""One relais process at run time: its parts, and how they start and stop (``App``).

``relais.bootstrap.build`` fills an ``App``; ``serve(stop)`` runs it. Shutdown (SIGTERM/SIGINT ->
``stop``), within ``settings.shutdown_grace_s``:
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relais.adapters.http_server import HttpServer, ReadinessCheck
from relais.adapters.kafka.ingest import IngestSubscriber
from relais.adapters.kafka.producer import KafkaProducer
from relais.adapters.schema_registry import HttpSchemaRegistry
from relais.bootstrap.tracing import ProcessTracing
from relais.config import Role, Settings
from relais.logging import get_logger
from relais.metrics import Metrics
from relais.services.clock import Clock
from relais.services.ingest import IngestHandler
from relais.services.keywatch import KeyWatch
from relais.services.ledger_port import Ledger
from relais.services.opco_port import OpcoGateway
from relais.services.relay import Relay
from relais.startup import start_failure
from relais.tracing import Tracing

if TYPE_CHECKING:  # imported where built: only the roles a process runs load them
    from faststream.kafka import KafkaBroker

    from relais.adapters.wakeups import PgWakeups
    from relais.services.dispatch import Dispatcher
    from relais.services.poll import Poller

log = get_logger("relais.runtime")

_COUNTS_EVERY_S = 5.0


@dataclass
class App:
    """One relais process: its parts, and how to start and stop them."""

    settings: Settings
    roles: tuple[Role, ...]
    metrics: Metrics
    ledger: Ledger
    clock: Clock
    gateway: OpcoGateway | None = None  # when dispatch or poll runs
    registry: HttpSchemaRegistry | None = None  # when ingest runs with a schema registry
    broker: KafkaBroker | None = None  # when ingest runs
    producer: KafkaProducer | None = None
    ingest: IngestSubscriber | None = None
    handler: IngestHandler | None = None
    relay: Relay | None = None
    dispatcher: Dispatcher | None = None
    poller: Poller | None = None
    keywatch: KeyWatch | None = None
    wakeups: PgWakeups | None = None  # the roles' wake-ups across processes (PostgreSQL)
    http: HttpServer | None = None
    tracing: ProcessTracing = field(default_factory=lambda: ProcessTracing(Tracing.off()))
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
            self.registry.aclose if self.registry is not None else None,
            self.ledger.close,
            self.http.stop if self.http is not None else None,
            self.tracing.shutdown,  # the last spans flushed to the collector (bounded)
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
                await self.ingest.refresh_lags()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _COUNTS_EVERY_S)
