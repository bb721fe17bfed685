"""Group commit: jobs batched into one transaction stay atomic, isolated and in order."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from relais.adapters.ledger.sqlite_worker import GroupCommitWorker


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (x TEXT PRIMARY KEY)")
    return conn


@pytest_asyncio.fixture(loop_scope="function")
async def worker() -> AsyncIterator[GroupCommitWorker]:
    w = GroupCommitWorker(connect, name="test-ledger")
    try:
        yield w
    finally:
        await asyncio.get_running_loop().run_in_executor(None, w.stop)


def insert(value: str, then: Callable[[sqlite3.Connection], Any] | None = None) -> Any:
    def job(conn: sqlite3.Connection) -> Any:
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        return then(conn) if then else value

    return job


def rows(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT x FROM t ORDER BY x")]


async def gated(worker: GroupCommitWorker) -> tuple[threading.Event, asyncio.Future[Any]]:
    """A job that holds the thread until released, so the next jobs queue up into one batch."""
    gate, started = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        started.set()
        gate.wait(10)

    future = worker.submit(hold)
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    return gate, future


def boom(conn: sqlite3.Connection) -> None:
    raise ValueError("boom")


async def test_a_failing_job_rolls_back_alone(worker: GroupCommitWorker) -> None:
    gate, held = await gated(worker)
    a = worker.submit(insert("a"))
    b = worker.submit(insert("b", then=boom))
    c = worker.submit(insert("c"))
    gate.set()

    assert await a == "a"
    with pytest.raises(ValueError, match="boom"):
        await b
    assert await c == "c"
    await held
    assert await worker.submit(rows) == ["a", "c"]


async def test_a_transaction_aborted_by_sqlite_fails_the_jobs_not_committed(
    worker: GroupCommitWorker,
) -> None:
    def abort(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK")  # what SQLite does itself on a full disk or an I/O error
        raise sqlite3.OperationalError("disk I/O error")

    gate, held = await gated(worker)
    a = worker.submit(insert("a"))
    b = worker.submit(insert("b", then=abort))
    c = worker.submit(insert("c"))
    gate.set()

    with pytest.raises(sqlite3.OperationalError):
        await a  # ran before the abort in the same transaction: not written
    with pytest.raises(sqlite3.OperationalError):
        await b
    assert await c == "c"  # after the abort: a new transaction
    await held  # its own batch, committed before
    assert await worker.submit(rows) == ["c"]


async def test_a_cancelled_caller_s_job_does_not_run(worker: GroupCommitWorker) -> None:
    gate, held = await gated(worker)
    a = worker.submit(insert("a"))
    a.cancel()
    b = worker.submit(insert("b"))
    gate.set()
    assert await b == "b"
    await held
    assert await worker.submit(rows) == ["b"]


async def test_jobs_run_in_submission_order_and_see_each_other(worker: GroupCommitWorker) -> None:
    gate, held = await gated(worker)
    futures = [worker.submit(insert(f"{i:03d}", then=rows)) for i in range(50)]
    gate.set()
    results = await asyncio.gather(*futures)
    await held
    assert [len(seen) for seen in results] == list(range(1, 51))


async def test_a_connection_that_cannot_open_fails_every_job() -> None:
    def broken() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    w = GroupCommitWorker(broken, name="test-broken")
    try:
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            await w.submit(rows)
    finally:
        await asyncio.get_running_loop().run_in_executor(None, w.stop)
