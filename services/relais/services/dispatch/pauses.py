"""What dispatch does about OPCOs paused by the operators (``relais opco pause``).

The hold itself is the ledger's: its ``claim`` hands out no command of a paused OPCO, on every
replica, until the pause is resumed or its ``until`` passes. This watcher, run by the dispatcher's
loop at most every ``every``, does the rest:

- the gauge ``relais_opco_paused{opco}`` (1 while paused, 0 once it no longer is) and one log line
  when an OPCO's pause starts or ends, as this process sees it;
- one ``waiting`` note per held command and pause (reason ``opco_paused``, a French message, the
  pause's ``until`` as ``nextAttemptAt``): the ledger's ``note_held`` is a compare-and-set, so a
  command gets it once whatever the number of dispatchers, and again only for a later pause.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent
from relais.logging import get_logger
from relais.services.clock import Clock
from relais.services.dispatch.outcomes import trigger_of
from relais.services.ledger_port import HeldCommand, Ledger
from relais.services.statuses import to_outbox

log = get_logger("relais.services.dispatch")

NOTES_PER_CHECK = 200  # held commands noted per check at most (the rest at the next one)


@runtime_checkable
class PauseMetrics(Protocol):
    """``relais.metrics.Metrics`` satisfies it."""

    def opco_pause(self, opco: str, *, paused: bool) -> None: ...


class PauseWatch:
    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        *,
        metrics: PauseMetrics | None = None,
        every: timedelta = timedelta(seconds=5),
        wake_relay: asyncio.Event | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._metrics = metrics
        self._every = every
        self._wake_relay = wake_relay
        self._next: datetime | None = None
        self._paused: set[str] = set()  # the OPCOs this process last saw paused

    @property
    def paused(self) -> frozenset[str]:
        return frozenset(self._paused)

    async def check(self, *, force: bool = False) -> int:
        """Read the pauses (when ``every`` has passed, or ``force``), report them and note the
        held commands; the number of notes written."""
        now = self._clock.now()
        if not force and self._next is not None and now < self._next:
            return 0
        self._next = now + self._every
        pauses = await self._ledger.opco_pauses()
        active = {p.opco for p in pauses if p.active(now)}
        for opco in sorted(active - self._paused):
            log.info("dispatch.opco_paused", opco=opco)
        for opco in sorted(self._paused - active):
            log.info("dispatch.opco_resumed", opco=opco)
        if self._metrics is not None:
            for opco in sorted(active | self._paused | {p.opco for p in pauses}):
                self._metrics.opco_pause(opco, paused=opco in active)
        self._paused = active
        if not active:
            return 0
        written = 0
        for held in await self._ledger.held_commands(now, NOTES_PER_CHECK):
            written += await self._note(held, now)
        if written:
            log.info("dispatch.held_noted", commands=written, opcos=sorted(active))
            if self._wake_relay is not None:
                self._wake_relay.set()
        return written

    async def _note(self, held: HeldCommand, now: datetime) -> int:
        command = held.command
        try:
            opco = OpcoCode(command.opco)
        except ValueError:
            return 0  # not one of the 11: such a command never reaches a claim anyway
        status = StatusEvent.waiting(
            trigger_of(command), opco=opco, pause=held.pause_id, until=held.until, occurred_at=now
        )
        noted = await self._ledger.note_held(command.id, held.pause_id, [to_outbox(status)])
        return 1 if noted else 0
