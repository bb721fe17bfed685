"""The ledger adapter: ``relais.services.ledger_port.Ledger`` on PostgreSQL or SQLite.

    engine.py        the URL read once: ``open_ledger(url)``, ``open_engine(url)`` (ledger +
                     relay leadership + wake-ups, for a relais process)
    postgres.py      the PostgreSQL engine (asyncpg pool, one statement per call)
    sqlite.py        the SQLite engine (one connection on a group-commit worker thread:
                     sqlite_connection.py, sqlite_worker.py)
    common.py        what both share: checks, payload and row codecs, the reads, counts, the
                     migration plan, error translation
    pauses.py        the OPCO pauses (pause, resume, held commands and their notes), once
                     for both engines
    queries/         each engine's SQL, named queries in one ``.sql`` file, loaded once
    migrations/      each engine's schema migrations, applied in version order
    schema/          the committed schema per engine and the tooling that reads it back

Nothing connects before the first call; ``migrate()`` brings the schema up to date.
"""

from __future__ import annotations

from relais.adapters.ledger.engine import LedgerEngine, open_engine, open_ledger, sqlite_path

__all__ = ["LedgerEngine", "open_engine", "open_ledger", "sqlite_path"]
