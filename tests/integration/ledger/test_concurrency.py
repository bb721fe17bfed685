"""The ledger under concurrency: several dispatchers, racing pollers (promises 2, 3, 4).

On PostgreSQL every worker has its own pool (separate sessions, as separate processes would), and
one test runs dispatchers in separate OS processes. On SQLite the workers share the file through
separate connections, which is more than relais does (one process) and must hold all the same.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from datetime import timedelta
from itertools import pairwise
from multiprocessing import get_context

import asyncpg
import pytest

from relais.adapters.ledger import open_ledger, sqlite_path
from relais.services.ledger_port import CommandState, Completion, Ledger
from tests.integration.ledger.conftest import CFA, command, now, status
from tests.ledger_entries import accept

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=60)
Key = tuple[str, str]


async def test_concurrent_dispatchers_never_share_a_dossier_and_keep_its_order(
    ledger_url: str,
) -> None:
    dossiers, per_dossier, workers = 24, 6, 5
    total = dossiers * per_dossier
    rng = random.Random(7)
    ingest = open_ledger(ledger_url)
    ledgers = [open_ledger(ledger_url) for _ in range(workers)]
    holding: dict[Key, int] = {}
    claims: list[int] = []
    completed: dict[Key, list[int]] = defaultdict(list)
    violations: list[str] = []
    accepted = 0

    async def accept_all() -> None:
        # what ingest does: per dossier in publication order, dossiers interleaved
        nonlocal accepted
        for n in range(per_dossier):
            for d in range(dossiers):
                await accept(ingest, command(f"e{d}-{n}", f"D{d}"), [status(f"s{d}-{n}", f"D{d}")])
                accepted += 1

    async def dispatcher(name: str, ledger: Ledger) -> None:
        retried: set[int] = set()
        while sum(len(ids) for ids in completed.values()) < total:
            batch = await ledger.claim(name, 4, now(), LEASE)
            if not batch:
                await asyncio.sleep(0.002)
                continue
            for c in batch:
                key = (c.cfa, c.dossier_id)
                if key in holding:
                    violations.append(f"{key}: {c.id} claimed while {holding[key]} in flight")
                holding[key] = c.id
                claims.append(c.id)
            await asyncio.sleep(rng.random() / 500)  # the OPCO call
            for c in batch:
                key = (c.cfa, c.dossier_id)
                holding.pop(key, None)
                if c.id not in retried and rng.random() < 0.2:
                    retried.add(c.id)  # a 503: back in the queue, its dossier waits for it
                    retry_at = now() + timedelta(milliseconds=5)
                    assert await ledger.reschedule(c.id, name, retry_at, "503", ambiguous=False)
                    continue
                completed[key].append(c.id)
                assert await ledger.complete(c.id, name, Completion(CommandState.DONE, []))

    try:
        await asyncio.wait_for(
            asyncio.gather(
                accept_all(),
                *(dispatcher(f"w{i}", ledger) for i, ledger in enumerate(ledgers)),
            ),
            timeout=60,
        )
        counts = await ingest.counts()
    finally:
        await asyncio.gather(ingest.close(), *(ledger.close() for ledger in ledgers))

    assert violations == []
    assert accepted == total
    done = [i for ids in completed.values() for i in ids]
    assert len(done) == len(set(done)) == total
    for key, ids in completed.items():
        assert ids == sorted(ids), f"dossier {key} completed out of order"
    assert (counts["done"], counts["pending"], counts["in_flight"]) == (total, 0, 0)


def _dispatch_process(
    url: str, name: str, total: int, start: threading.Barrier
) -> list[tuple[str, int, float, float]]:
    """One dispatcher process: claims and completes until ``total`` commands are done."""

    async def main() -> list[tuple[str, int, float, float]]:
        ledger = open_ledger(url, max_size=2)
        spans: list[tuple[str, int, float, float]] = []
        try:
            await ledger.counts()  # connected: the start line is not a race against connecting
            # All processes start together, however long the spawned interpreters took to import
            # (a fixed head start was too short on a loaded machine)...
            await asyncio.to_thread(start.wait, 120)
            first = True
            while True:
                batch = await ledger.claim(name, 3, now(), LEASE)
                claimed_at = time.monotonic()
                if first:
                    # ...and each holds its first claim until all do (20 heads, at most 9 taken):
                    # the work is really split, whichever process a busy machine runs first.
                    assert batch, f"{name}: no head left to claim"
                    await asyncio.to_thread(start.wait, 120)
                    first = False
                if not batch:
                    if (await ledger.counts())["done"] >= total:
                        break
                    await asyncio.sleep(0.002)
                    continue
                await asyncio.sleep(0.001)
                for c in batch:
                    spans.append((c.dossier_id, c.id, claimed_at, time.monotonic()))
                    assert await ledger.complete(c.id, name, Completion(CommandState.DONE, []))
        finally:
            await ledger.close()
        return spans

    return asyncio.run(main())


async def test_dispatcher_processes_split_the_work_safely(pg_ledger_url: str) -> None:
    from tests.fixtures.postgres import truncate_ledger

    truncate_ledger(pg_ledger_url)
    dossiers, per_dossier, processes = 20, 5, 3
    total = dossiers * per_dossier
    ledger = open_ledger(pg_ledger_url)
    context = get_context("spawn")
    try:
        for n in range(per_dossier):
            for d in range(dossiers):
                await accept(ledger, command(f"e{d}-{n}", f"D{d}"), [])
        loop = asyncio.get_running_loop()
        with (
            context.Manager() as manager,
            ProcessPoolExecutor(processes, mp_context=context) as pool,
        ):
            start = manager.Barrier(processes)
            results = await asyncio.gather(
                *(
                    loop.run_in_executor(
                        pool, _dispatch_process, pg_ledger_url, f"p{i}", total, start
                    )
                    for i in range(processes)
                )
            )
        counts = await ledger.counts()
    finally:
        await ledger.close()

    spans = [span for result in results for span in result]
    ids = [span[1] for span in spans]
    assert len(ids) == len(set(ids)) == total  # each command handled once
    assert all(results)  # the work was really split
    by_dossier: dict[str, list[tuple[str, int, float, float]]] = defaultdict(list)
    for span in spans:
        by_dossier[span[0]].append(span)
    for dossier, its in by_dossier.items():
        its.sort(key=lambda s: s[2])  # by claim time
        assert [s[1] for s in its] == sorted(s[1] for s in its), f"{dossier} out of order"
        for before, after in pairwise(its):
            assert after[2] >= before[3], f"{dossier}: two commands in flight at once"
    assert counts["done"] == total


async def test_racing_pollers_publish_a_change_once(ledger_url: str) -> None:
    pollers = [open_ledger(ledger_url) for _ in range(4)]
    try:
        for round_, etat in enumerate(["TRANSMIS", "EN_INSTRUCTION", "ENGAGE"]):
            results = await asyncio.gather(
                *(
                    poller.record_etat(
                        cfa=CFA,
                        opco="AKTO",
                        numero_interne="N1",
                        kind="dossier",
                        etat=etat,
                        statuses=[status(f"etat-{round_}-{etat}")],
                    )
                    for poller in pollers
                    for _ in range(3)
                )
            )
            assert sum(results) == 1, f"{etat}: {results}"
        published = [r.message.event_id for r in await pollers[0].outbox_batch(100)]
    finally:
        await asyncio.gather(*(poller.close() for poller in pollers))
    assert published == ["etat-0-TRANSMIS", "etat-1-EN_INSTRUCTION", "etat-2-ENGAGE"]


async def test_a_redelivered_event_racing_itself_is_accepted_once(ledger_url: str) -> None:
    consumers = [open_ledger(ledger_url) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(
                accept(c, command("dup"), [status("dup-status")])
                for c in consumers
                for _ in range(3)
            )
        )
        commands = await consumers[0].commands_for(CFA, "D1")
        outbox = await consumers[0].outbox_batch(10)
    finally:
        await asyncio.gather(*(c.close() for c in consumers))
    assert sum(results) == 1
    assert len(commands) == 1
    assert [r.message.event_id for r in outbox] == ["dup-status"]


async def heads_blocked(url: str) -> list[tuple[str, str]]:
    """Dossiers whose oldest open command is still marked blocked (a stranded dossier)."""
    query = """
        SELECT c.cfa, c.dossier_id FROM commands AS c
        WHERE c.state IN ('pending', 'in_flight') AND c.blocked {true}
          AND NOT EXISTS (SELECT 1 FROM commands AS o
                          WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
                            AND o.state IN ('pending', 'in_flight'))
    """
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            return [tuple(row) for row in conn.execute(query.format(true="= 1"))]
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(query.format(true=""))]
    finally:
        await conn.close()


async def test_accepts_racing_completions_never_strand_a_dossier(ledger_url: str) -> None:
    """A command accepted while its dossier's head completes is unblocked by one or the other."""
    dossiers, rounds = 12, 8
    ingest, dispatch = open_ledger(ledger_url), open_ledger(ledger_url)
    try:
        for d in range(dossiers):
            await accept(ingest, command(f"e{d}-0", f"D{d}"), [])
        for n in range(1, rounds + 1):
            heads = await dispatch.claim("w", dossiers, now(), LEASE)
            assert len(heads) == dossiers  # every dossier has its head due, none stranded
            done = Completion(CommandState.DONE, [])
            await asyncio.gather(
                *(accept(ingest, command(f"e{d}-{n}", f"D{d}"), []) for d in range(dossiers)),
                *(dispatch.complete(head.id, "w", done) for head in heads),
            )
            assert await heads_blocked(ledger_url) == []
    finally:
        await asyncio.gather(ingest.close(), dispatch.close())
