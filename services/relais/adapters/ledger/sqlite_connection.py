"""The SQLite ledger's one connection: a private file, WAL, the chosen durability.

Journal: WAL (readers never block the writer). ``synchronous`` FULL by default (see ``sqlite.py``).
The file holds NIRs and IBANs: it is created readable by its owner only.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path


def connect(path: str, *, synchronous: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """The connection (autocommit: the worker opens the transactions), rows as ``sqlite3.Row``."""
    if path != ":memory:":
        _private_files(Path(path))
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=256)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    _enable_wal(conn, busy_timeout_ms)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def _enable_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Switching a fresh file to WAL needs a moment alone with it, and SQLite answers "locked"
    at once (busy_timeout does not apply) when another connection opens it at the same time:
    retry within the busy timeout."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _private_files(path: Path) -> None:
    """The ledger file (NIRs, IBANs inside) readable by its owner only: created 0600 before SQLite
    opens it (SQLite gives its -wal and -shm files the database file's mode), and an existing
    looser file, or companion, tightened."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except FileNotFoundError:
            continue
