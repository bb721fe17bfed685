"""open_engine: one read of the ledger URL gives the ledger, the relay's leadership and the
wake-ups between processes; nothing connects."""

from __future__ import annotations

import asyncio
from pathlib import Path

from relais.adapters.leadership import FileLeadership, PostgresLeadership
from relais.adapters.ledger import open_engine, open_ledger
from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.sqlite import SqliteLedger
from relais.adapters.wakeups import PgWakeups
from relais.services.relay import AlwaysLeader

POOL = {"pool_min": 2, "pool_max": 7}


async def test_a_sqlite_file_gives_a_file_lock_beside_it_and_no_bridge(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "ledger.db"
    engine = open_engine(f"sqlite:///{path}?busy_timeout_ms=1234", **POOL)
    assert isinstance(engine.ledger, SqliteLedger) and engine.ledger.path == str(path)
    assert engine.ledger._busy_timeout_ms == 1234
    assert isinstance(engine.leadership, FileLeadership)
    assert engine.leadership._path == Path(f"{path}.relay.lock")
    assert path.parent.is_dir()  # the folder of the file and of its lock
    assert engine.wakeups is None  # one process per SQLite ledger
    await engine.ledger.close()


async def test_an_in_memory_sqlite_ledger_is_always_the_leader() -> None:
    engine = open_engine("sqlite:///:memory:", **POOL)
    assert isinstance(engine.leadership, AlwaysLeader) and engine.wakeups is None
    await engine.ledger.close()


def test_postgres_gives_a_pool_an_advisory_lock_and_listen_notify() -> None:
    url = "postgresql://relais:secret@db:5432/relais"
    engine = open_engine(url, **POOL)
    assert isinstance(engine.ledger, PostgresLedger) and engine.ledger.url == url
    assert (engine.ledger._min_size, engine.ledger._max_size) == (2, 7)
    assert isinstance(engine.leadership, PostgresLeadership) and engine.leadership._url == url
    assert engine.wakeups is not None
    woken = asyncio.Event()
    bridge = engine.wakeups(listen={"relais_relay": woken})
    assert isinstance(bridge, PgWakeups) and bridge._url == url and bridge.needed


async def test_a_given_ledger_is_used_as_is(tmp_path: Path) -> None:
    mine = open_ledger("sqlite:///:memory:")
    engine = open_engine(f"sqlite:///{tmp_path}/ledger.db", ledger=mine, **POOL)
    assert engine.ledger is mine
    assert isinstance(engine.leadership, FileLeadership)
    await mine.close()
