"""The thread that owns the SQLite connection, with group commit.

Every ledger method is a job: a function of the connection. The thread takes the jobs in submission
order and runs those waiting together in ONE transaction, each inside its own savepoint, then
commits once. So with ``synchronous=FULL`` a burst of accepts/completes costs one fsync, not one
each, and every job is still atomic (its savepoint rolls back alone when it raises) and still
durable before its caller hears back (a job's future is settled only after the COMMIT).

Jobs of one batch see each other's writes, exactly as if they ran one after the other: the result
is the serial execution in submission order. If SQLite aborts the whole transaction (disk full,
I/O error), every job of the batch not yet committed gets that error: none of them was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_BATCH = 256


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]  # settled on its loop's thread, once per batch (one wake-up)


class GroupCommitWorker:
    """Runs jobs on one connection in one thread; ``submit`` is thread-safe."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str) -> None:
        self._connect = connect
        self._conn: sqlite3.Connection | None = None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Queue ``fn``; the future (of the running loop) settles after its commit."""
        job = _Job(fn, asyncio.get_running_loop().create_future())
        self._jobs.put(job)
        return job.future

    def stop(self) -> None:
        """Finish the queued jobs, close the connection, end the thread (blocks until then)."""
        self._jobs.put(None)
        self._thread.join()

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            # a cancelled caller no longer waits for its job: skip it (nothing written)
            runnable = [job for job in batch if not job.future.cancelled()]
            outcomes: list[tuple[_Job, bool, Any]] = []
            try:
                self._run_batch(runnable, outcomes)
            except BaseException as exc:  # a bug here must not leave callers waiting forever
                settled = {id(job) for job, _, _ in outcomes}
                outcomes += [(job, False, exc) for job in runnable if id(job) not in settled]
                raise
            finally:
                _settle(outcomes)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run_batch(self, batch: list[_Job], outcomes: list[tuple[_Job, bool, Any]]) -> None:
        """Run ``batch`` in one transaction; append each job's (ok, result or error)."""
        if not batch:
            return
        try:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # noqa: BLE001 - cannot even start: every caller gets it
            outcomes += [(job, False, exc) for job in batch]
            return
        done: list[tuple[_Job, bool, Any]] = []  # run, not yet committed
        try:
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    value = job.fn(conn)
                except Exception as exc:  # noqa: BLE001 - the job's caller gets it
                    if conn.in_transaction:
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        done.append((job, False, exc))
                        continue
                    # SQLite rolled back the whole transaction: nothing before is written either
                    outcomes += _aborted(done, exc)
                    outcomes.append((job, False, exc))
                    done = []
                    conn.execute("BEGIN IMMEDIATE")
                    continue
                conn.execute("RELEASE job")
                done.append((job, True, value))
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - every uncommitted caller gets it
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # the error reported is the first one
                    conn.execute("ROLLBACK")
            outcomes += _aborted(done, exc)
            settled = {id(job) for job, _, _ in outcomes}
            outcomes += [(job, False, exc) for job in batch if id(job) not in settled]
            return
        outcomes += done


def _aborted(done: list[tuple[_Job, bool, Any]], exc: Exception) -> list[tuple[_Job, bool, Any]]:
    """The jobs of an aborted transaction: their own error, or the abort's."""
    return [(job, False, exc if ok else value) for job, ok, value in done]


def _settle(outcomes: list[tuple[_Job, bool, Any]]) -> None:
    """Hand the outcomes to their loops: one wake-up per loop, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, bool, Any]]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].future.get_loop(), []).append(outcome)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_set_all, items)


def _set_all(items: list[tuple[_Job, bool, Any]]) -> None:
    for job, ok, value in items:
        if job.future.done():  # cancelled meanwhile
            continue
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
