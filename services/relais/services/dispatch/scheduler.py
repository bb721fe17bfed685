"""The dispatch role's scheduler: slots and claims. Each claimed command runs as its own task
in ``handler.CommandHandler`` (the OPCO call and the outcome written in the ledger).

    claim (head of each dossier queue, under a lease, no OPCO beyond its share of the slots,
           none of an OPCO paused by the operators: ``pauses.py``)
      ->  one task per command, many in parallel  ->  a freed slot wakes the loop to claim again

Crash safety: a worker that dies between the OPCO call and the ledger commit leaves the command
``in_flight``; when the lease expires the ledger hands it out again with ``ambiguous=True`` (the
call may have reached the OPCO), so the next holder looks it up before resending.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress

from relais.domain.npec import NpecTable
from relais.errors import RelaisError
from relais.logging import get_logger
from relais.services.clock import Clock, SystemClock
from relais.services.dispatch.handler import CommandHandler, CommandMetrics
from relais.services.dispatch.options import DispatchOptions, default_worker_id
from relais.services.dispatch.pauses import PauseMetrics, PauseWatch
from relais.services.files_port import CfaFileOpener
from relais.services.ledger_port import Command, Ledger
from relais.services.opco_port import OpcoGateway
from relais.tracing import Tracing

log = get_logger("relais.services.dispatch")


class _NoMetrics:
    def command(self, opco: str, kind: str, outcome: str) -> None:
        return None


class Dispatcher:
    def __init__(
        self,
        ledger: Ledger,
        gateway: OpcoGateway,
        options: DispatchOptions | None = None,
        clock: Clock | None = None,
        worker_id: str | None = None,
        metrics: CommandMetrics | None = None,
        wake: asyncio.Event | None = None,
        wake_relay: asyncio.Event | None = None,
        npec: NpecTable | None = None,
        check_factures: bool = False,
        tracing: Tracing | None = None,
        files: CfaFileOpener | None = None,
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.options = options or DispatchOptions()
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self.metrics: CommandMetrics = metrics or _NoMetrics()
        self._wake = wake or asyncio.Event()
        self._wake_relay = wake_relay  # handed to the handler: set after status rows are written
        self._handler = CommandHandler(
            ledger,
            gateway,
            worker=self.worker_id,
            options=self.options,
            clock=self.clock,
            metrics=self.metrics,
            wake_relay=wake_relay,
            npec=npec,
            check_factures=check_factures,
            files=files,
            tracing=tracing,
        )
        self.pauses = PauseWatch(
            ledger,
            self.clock,
            metrics=metrics if isinstance(metrics, PauseMetrics) else None,
            wake_relay=wake_relay,
        )
        self._running: dict[asyncio.Task[str], str] = {}  # handler -> its command's OPCO
        self._by_opco: Counter[str] = Counter()  # handlers running per OPCO

    # ------------------------------------------------------------------ loop

    def notify(self) -> None:
        """New work may be due (ingest accepted a command in this process): claim now."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def in_flight_by_opco(self) -> dict[str, int]:
        return {opco: n for opco, n in self._by_opco.items() if n > 0}

    async def run_once(self) -> int:
        """Claim what is due now and handle it all; the number of commands handled (tests)."""
        await self._check_pauses()
        commands = await self._claim(self.options.inflight_limit)
        if commands:
            async with asyncio.TaskGroup() as tg:
                for command in commands:
                    tg.create_task(self.handle(command))
        return len(commands)

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and handle commands until ``stop`` is set, then drain the running ones."""
        log.info("dispatch.started", worker=self.worker_id, limit=self.options.inflight_limit)
        stopper = asyncio.create_task(self._forward(stop))
        idle = self.options.idle_min
        try:
            while not stop.is_set():
                self._wake.clear()
                await self._check_pauses()
                free = self.options.inflight_limit - len(self._running)
                cap = self.options.opco_cap
                asked = free if cap is None else min(free, cap)
                claimed, more = 0, False
                if asked > 0:
                    try:
                        commands, more = await self._claim_share(asked)
                    except (RelaisError, OSError) as exc:
                        log.warning("dispatch.claim_failed", error=str(exc))
                        commands = []
                        idle = self.options.idle_max
                    for command in commands:
                        self._spawn(command)
                    claimed = len(commands)
                if claimed:
                    idle = self.options.idle_min
                    if more:
                        continue  # maybe more is due: claim again at once
                if self._wake.is_set():
                    continue
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle.total_seconds())
                    if self._running and not stop.is_set():
                        # Let a few more handlers finish: one claim for several free slots.
                        await asyncio.sleep(self.options.coalesce.total_seconds())
                    continue
                idle = min(idle * 2, self.options.idle_max)
        finally:
            stopper.cancel()
            await self._drain()
            log.info("dispatch.stopped", worker=self.worker_id)

    async def _check_pauses(self) -> None:
        """Pauses reported and held commands noted (``pauses.PauseWatch``); the hold itself is
        the ledger's claim, so a failed check holds nothing back."""
        try:
            await self.pauses.check()
        except (RelaisError, OSError) as exc:
            log.warning("dispatch.pause_check_failed", error=str(exc))

    async def _forward(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _claim(self, limit: int) -> list[Command]:
        return await self.ledger.claim(self.worker_id, limit, self.clock.now(), self.options.lease)

    async def _claim_share(self, limit: int) -> tuple[list[Command], bool]:
        """Claim up to ``limit`` (at most the per-OPCO cap), no OPCO beyond its share of the
        slots; also whether more may be due (every claim got all it asked for).

        A handler holds its slot for as long as its OPCO takes to answer (or while it waits on
        the client's per-OPCO concurrency limit), so without a share a slow OPCO ends up holding
        most slots and the others' throughput falls. An OPCO whose share is full is left out of
        the claims; its commands wait in the ledger (FIFO per dossier unchanged) until one of its
        handlers ends, which wakes the loop. An OPCO with less room left than ``limit`` ("tight")
        is left out of the first claim too, which could hand it more than its room; if that
        claim does not fill ``limit``, a second one asks for no more than the smallest room.
        """
        cap = self.options.opco_cap
        if cap is None:
            commands = await self._claim(limit)
            return commands, len(commands) == limit
        room = {opco: cap - n for opco, n in self._by_opco.items()}
        full = [opco for opco, left in room.items() if left <= 0]
        tight = {opco: left for opco, left in room.items() if 0 < left < limit}
        commands = await self._claim_without(limit, [*full, *tight])
        if len(commands) == limit or not tight:
            return commands, len(commands) == limit
        second = min(min(tight.values()), limit - len(commands))
        # Within the smallest room: no OPCO can get past its cap whatever this claim returns.
        more = await self._claim_without(second, full)
        return commands + more, len(more) == second

    async def _claim_without(self, limit: int, opcos: Sequence[str]) -> list[Command]:
        now = self.clock.now()
        lease = self.options.lease
        return await self.ledger.claim(self.worker_id, limit, now, lease, exclude_opcos=opcos)

    def _spawn(self, command: Command) -> None:
        task = asyncio.create_task(self.handle(command), name=f"dispatch-{command.id}")
        self._running[task] = command.opco
        self._by_opco[command.opco] += 1
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[str]) -> None:
        opco = self._running.pop(task, None)
        if opco is not None:
            self._by_opco[opco] -= 1
            if self._by_opco[opco] <= 0:
                del self._by_opco[opco]
        self._wake.set()  # a slot is free, and the dossier's next command may be due now
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("dispatch.handler_crashed", error=repr(exc), exc_info=exc)

    async def _drain(self) -> None:
        if not self._running:
            return
        pending = set(self._running)
        _, still = await asyncio.wait(pending, timeout=self.options.drain.total_seconds())
        for task in still:
            task.cancel()  # handed back as ambiguous (see _interrupted): looked up first
        if still:
            await asyncio.wait(still)
            log.warning("dispatch.drain_cancelled", commands=len(still))

    async def handle(self, command: Command) -> str:
        """Handle one claimed command (``CommandHandler.handle``); returns its outcome."""
        return await self._handler.handle(command)
