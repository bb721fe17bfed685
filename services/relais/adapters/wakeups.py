"""Wake-ups between relais processes sharing a PostgreSQL ledger (LISTEN/NOTIFY).

Within one process the roles share ``asyncio.Event`` objects (``bootstrap.build``). When ingest,
dispatch and relay run in different processes, this bridge carries the same signals:

* a process whose ingest (or dispatch) commits work for a role it does not run sets a local event;
  ``PgWakeups.run`` sees it and sends ``NOTIFY relais_dispatch`` (or ``relais_relay``), coalescing
  every commit made meanwhile into one notification;
* a process running dispatch (or relay) LISTENs on its channel and sets the role's wake event on
  each notification.

Best effort only: the polls stay (``dispatch.idle_s``, ``kafka.relay_idle_s``). Its own connection,
never a pooled one; any failure (PostgreSQL restarted, connection killed) is logged and the bridge
reconnects after a pause; it never stops the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import asyncpg

from relais.logging import get_logger

log = get_logger("relais.wakeups")

DISPATCH_CHANNEL = "relais_dispatch"
RELAY_CHANNEL = "relais_relay"
_RETRY_START_S = 0.5
_RETRY_CAP_S = 30.0
_CHECK_EVERY_S = 5.0


class PgWakeups:
    """``notify``: channel -> local event to forward; ``listen``: channel -> event to set."""

    def __init__(
        self,
        url: str,
        *,
        notify: Mapping[str, asyncio.Event] | None = None,
        listen: Mapping[str, asyncio.Event] | None = None,
    ) -> None:
        self._url = url
        self._notify = dict(notify or {})
        self._listen = dict(listen or {})
        self.sent = 0
        self.received = 0
        self.connected = asyncio.Event()  # listening and ready to notify (tests, health)

    @property
    def needed(self) -> bool:
        return bool(self._notify or self._listen)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._session(stop)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - best effort: the polls remain
                failures += 1
                pause = min(_RETRY_CAP_S, _RETRY_START_S * 2**failures)
                log.warning("wakeups.failed", error=repr(exc), retry_in_s=pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)

    async def _session(self, stop: asyncio.Event) -> None:
        conn: Any = await asyncpg.connect(self._url)
        try:
            for channel, event in self._listen.items():
                await conn.add_listener(channel, self._setter(event))
            for event in self._notify.values():
                event.set()  # commits made while disconnected: one notification now
            self.connected.set()
            waiters = {
                channel: asyncio.ensure_future(event.wait())
                for channel, event in self._notify.items()
            }
            stopper = asyncio.ensure_future(stop.wait())
            try:
                while not stop.is_set():
                    done, _ = await asyncio.wait(
                        [stopper, *waiters.values()],
                        timeout=_CHECK_EVERY_S,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if not done:
                        await conn.fetchval("SELECT 1")  # a dead LISTEN connection says so
                        continue
                    for channel, waiter in list(waiters.items()):
                        if waiter.done():
                            self._notify[channel].clear()
                            await conn.execute(f"NOTIFY {channel}")
                            self.sent += 1
                            waiters[channel] = asyncio.ensure_future(self._notify[channel].wait())
            finally:
                stopper.cancel()
                for waiter in waiters.values():
                    waiter.cancel()
        finally:
            self.connected.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    def _setter(self, event: asyncio.Event) -> Any:
        def on_notification(*_: object) -> None:
            self.received += 1
            event.set()

        return on_notification
