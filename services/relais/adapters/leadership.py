"""Who is the single active relay (``relais.services.relay.Leadership``).

PostgreSQL: a session-level advisory lock held on a dedicated connection. The lock lives as long
as that connection: if the process dies or the connection drops, PostgreSQL releases it and another
replica takes over; the holder checks its connection on every turn and steps down when it is gone.

SQLite (one machine): an exclusive ``flock`` on a file beside the database, released by the kernel
when the process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO, Any

import asyncpg

from relais.logging import get_logger

log = get_logger("relais.relay")

# An arbitrary, fixed 64-bit key shared by every relais relay (distinct from the ledger's
# migration lock).
RELAY_LOCK_KEY = 0x72656C6179_01  # "relay" + 1

_CHECK_TIMEOUT_S = 5.0


class PostgresLeadership:
    def __init__(self, url: str, key: int = RELAY_LOCK_KEY) -> None:
        self._url = url
        self._key = key
        self._conn: Any = None
        self._held = False

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._held = False
            self._conn = await asyncpg.connect(self._url, timeout=_CHECK_TIMEOUT_S)
        return self._conn

    async def acquire(self) -> bool:
        try:
            conn = await self._connection()
            if self._held:
                # Still ours as long as the session answers.
                await asyncio.wait_for(conn.fetchval("SELECT 1"), _CHECK_TIMEOUT_S)
                return True
            got = await asyncio.wait_for(
                conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key), _CHECK_TIMEOUT_S
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            if self._held:
                log.warning("relay.leadership_lost", error=type(exc).__name__)
            await self._drop()
            return False
        if got:
            log.info("relay.leadership_acquired")
        self._held = bool(got)
        return self._held

    async def _drop(self) -> None:
        self._held = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1)

    async def release(self) -> None:
        if self._held and self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.fetchval("SELECT pg_advisory_unlock($1)", self._key)
        await self._drop()


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fh: IO[str] | None = None

    async def acquire(self) -> bool:
        return self._fh is not None or self._try_lock()

    def _try_lock(self) -> bool:
        """Non-blocking (LOCK_NB): safe to call from the event loop."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self._path, "a+")  # noqa: SIM115 - held open while leader
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        log.info("relay.leadership_acquired")
        return True

    async def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            with contextlib.suppress(OSError):
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()
