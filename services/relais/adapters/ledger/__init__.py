"""The ledger adapter: ``relais.services.ledger_port.Ledger`` on PostgreSQL or SQLite.

``open_ledger(url)`` picks the engine from the URL:

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite:///:memory:`` (one
  process; query options ``synchronous=full|normal``, ``busy_timeout_ms=N``);
- ``postgresql://user@host:port/db`` (or ``postgres://``): several processes, an asyncpg pool
  (options ``min_size``, ``max_size`` as keyword arguments).

Nothing connects before the first call; ``migrate()`` brings the schema up to date.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from relais.errors import ConfigurationError
from relais.services.ledger_port import Ledger

__all__ = ["open_ledger", "sqlite_path"]


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL (``:memory:`` for an in-memory database)."""
    if not url.startswith("sqlite:///"):
        raise ConfigurationError("a SQLite ledger URL starts with sqlite:///")
    rest = url[len("sqlite:///") :].split("?", 1)[0]
    if not rest:
        raise ConfigurationError("a SQLite ledger URL needs a path: sqlite:///path/to/ledger.db")
    return rest


def open_ledger(url: str, **opts: Any) -> Ledger:
    """A ledger for ``url``; ``opts`` go to the engine (e.g. ``clock``, ``max_size``)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from relais.adapters.ledger.sqlite import SqliteLedger

        query = dict(parse_qsl(url.split("?", 1)[1])) if "?" in url else {}
        options: dict[str, Any] = {}
        if "synchronous" in query:
            options["synchronous"] = query["synchronous"]
        if "busy_timeout_ms" in query:
            options["busy_timeout_ms"] = int(query["busy_timeout_ms"])
        options.update(opts)
        return SqliteLedger(sqlite_path(url), **options)
    if scheme in ("postgresql", "postgres"):
        from relais.adapters.ledger.postgres import PostgresLedger

        return PostgresLedger(url, **opts)
    raise ConfigurationError(
        f"unsupported ledger URL scheme {scheme!r}: use sqlite:///path.db or postgresql://..."
    )
