"""From a ledger URL to what a process needs of it, the URL read once.

``open_ledger(url)`` gives the ledger alone (the CLI's ``migrate``, ``dossier``); ``open_engine``
gives the bundle a relais process runs on: the ledger, who is the single active relay, and how its
roles wake each other across processes. Nothing connects here.

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite:///:memory:`` (one
  process; query options ``synchronous=full|normal``, ``busy_timeout_ms=N``): relay leadership is
  a ``flock`` on ``<path>.relay.lock`` (always the leader in memory); no wake-ups between
  processes (there is one).
- ``postgresql://user@host:port/db`` (or ``postgres://``): several processes, an asyncpg pool
  (``min_size``, ``max_size``); leadership is an advisory lock, wake-ups LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from relais.adapters.leadership import FileLeadership, PostgresLeadership
from relais.adapters.ledger.migrations import Engine
from relais.adapters.wakeups import PgWakeups
from relais.errors import ConfigurationError
from relais.services.ledger_port import Ledger
from relais.services.relay import AlwaysLeader, Leadership


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL (``:memory:`` for an in-memory database)."""
    if not url.startswith("sqlite:///"):
        raise ConfigurationError("a SQLite ledger URL starts with sqlite:///")
    rest = url[len("sqlite:///") :].split("?", 1)[0]
    if not rest:
        raise ConfigurationError("a SQLite ledger URL needs a path: sqlite:///path/to/ledger.db")
    return rest


@dataclass(frozen=True)
class LedgerUrl:
    """A ledger URL read once: its engine, and the options it carries."""

    url: str
    engine: Engine
    path: str = ""  # SQLite: the file (or ``:memory:``)
    options: Mapping[str, Any] = field(default_factory=dict)  # SQLite: from the query string

    @classmethod
    def parse(cls, url: str) -> LedgerUrl:
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            query = dict(parse_qsl(url.split("?", 1)[1])) if "?" in url else {}
            options: dict[str, Any] = {}
            if "synchronous" in query:
                options["synchronous"] = query["synchronous"]
            if "busy_timeout_ms" in query:
                options["busy_timeout_ms"] = int(query["busy_timeout_ms"])
            return cls(url, "sqlite", sqlite_path(url), options)
        if scheme in ("postgresql", "postgres"):
            return cls(url, "postgres")
        raise ConfigurationError(
            f"unsupported ledger URL scheme {scheme!r}: use sqlite:///path.db or postgresql://..."
        )

    def open(self, **opts: Any) -> Ledger:
        """The ledger; ``opts`` go to the engine (e.g. ``clock``, ``max_size``)."""
        if self.engine == "sqlite":
            from relais.adapters.ledger.sqlite import SqliteLedger

            return SqliteLedger(self.path, **{**self.options, **opts})
        from relais.adapters.ledger.postgres import PostgresLedger

        return PostgresLedger(self.url, **opts)


def open_ledger(url: str, **opts: Any) -> Ledger:
    """A ledger for ``url``; ``opts`` go to the engine (e.g. ``clock``, ``max_size``)."""
    return LedgerUrl.parse(url).open(**opts)


class WakeupsFactory(Protocol):
    """A LISTEN/NOTIFY bridge for the given channels (``relais.adapters.wakeups``)."""

    def __call__(
        self,
        *,
        notify: Mapping[str, asyncio.Event] | None = None,
        listen: Mapping[str, asyncio.Event] | None = None,
    ) -> PgWakeups: ...


@dataclass(frozen=True)
class LedgerEngine:
    """What one ledger URL gives a process."""

    ledger: Ledger
    leadership: Leadership  # who is the single active relay (nothing held before ``acquire``)
    wakeups: WakeupsFactory | None  # None: one process per ledger (SQLite), no bridge needed


def open_engine(
    url: str, *, pool_min: int, pool_max: int, ledger: Ledger | None = None
) -> LedgerEngine:
    """The ledger of ``url`` (or ``ledger``, e.g. a test's wrapped one), its relay leadership and
    its wake-ups. A SQLite file's folder is created now (the relay's lock file lives beside it)."""
    parsed = LedgerUrl.parse(url)
    if parsed.engine == "postgres":
        return LedgerEngine(
            ledger=ledger
            if ledger is not None
            else parsed.open(min_size=pool_min, max_size=pool_max),
            leadership=PostgresLeadership(url),
            wakeups=partial(PgWakeups, url),
        )
    if parsed.path == ":memory:":
        leadership: Leadership = AlwaysLeader()
    else:
        Path(parsed.path).parent.mkdir(parents=True, exist_ok=True)
        leadership = FileLeadership(Path(parsed.path + ".relay.lock"))
    return LedgerEngine(
        ledger=ledger if ledger is not None else parsed.open(),
        leadership=leadership,
        wakeups=None,
    )
