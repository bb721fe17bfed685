"""``ingest_batch``, on both engines: a Kafka poll's records
in one transaction, with the result of ``accept``/``reject`` called one by one in record order."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from relais.adapters.ledger import open_ledger, postgres, sqlite_path
from relais.errors import LedgerError
from relais.services.ledger_port import (
    Accept,
    CommandKind,
    CommandState,
    Completion,
    Ledger,
    NewCommand,
    Reject,
)
from tests.fixtures.postgres import truncate_ledger
from tests.integration.ledger.conftest import CFA, OTHER_CFA, command, now, status
from tests.integration.ledger.test_concurrency import heads_blocked
from tests.ledger_entries import accept, reject
from tests.payloads import payload_of

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=30)


async def outbox_ids(ledger: Ledger) -> list[str]:
    return [record.message.event_id for record in await ledger.outbox_batch(10_000)]


async def claimed_ids(ledger: Ledger) -> list[str]:
    return [c.event_id for c in await ledger.claim("w", 100, now(), LEASE)]


async def raw(url: str, query: str) -> list[tuple[Any, ...]]:
    """Rows straight from the database (columns the port does not show, e.g. ``blocked``)."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            return [tuple(row) for row in conn.execute(query)]
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(query)]
    finally:
        await conn.close()


# -- the same as one by one -----------------------------------------------------------------------


def random_entries(rng: random.Random, tag: str, n: int) -> list[Accept | Reject]:
    """A poll as ingest sees it: accepts and rejects of a few dossiers, redeliveries of ids seen
    earlier in the poll or in an earlier poll (``tag-seen-*``), statuses repeated."""
    entries: list[Accept | Reject] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.15 and entries:
            earlier = rng.choice(entries)
            event_id = earlier.command.event_id if isinstance(earlier, Accept) else earlier.event_id
        elif roll < 0.25:
            event_id = f"{tag}-seen-{rng.randrange(4)}"
        else:
            event_id = f"{tag}-e{i}"
        dossier = f"{tag}-D{rng.randrange(5)}"
        statuses = [status(f"{tag}-s{i}-{k}", dossier) for k in range(rng.randrange(3))]
        if rng.random() < 0.3:
            statuses.append(status(f"{tag}-s{rng.randrange(i + 1)}-0", dossier))  # seen already
        if rng.random() < 0.25:
            # a refusal of the CFA's event, or of a record whose CFA is not established (None)
            entries.append(Reject(event_id, statuses, cfa=rng.choice([CFA, OTHER_CFA, None])))
        else:
            cfa = rng.choice([CFA, CFA, OTHER_CFA])
            kind = rng.choice(list(CommandKind))
            deps = tuple(f"{tag}-D{rng.randrange(5)}" for _ in range(rng.randrange(3)))
            new = command(event_id, dossier, cfa=cfa, kind=kind, depends_on=deps)
            entries.append(Accept(new, statuses))
    return entries


async def one_by_one(ledger: Ledger, entries: list[Accept | Reject]) -> list[bool]:
    return [
        await (
            accept(ledger, entry.command, entry.statuses)
            if isinstance(entry, Accept)
            else reject(ledger, entry.event_id, entry.statuses, entry.cfa)
        )
        for entry in entries
    ]


async def snapshot(url: str, tag: str) -> dict[str, list[str]]:
    """The rows of one tag's events, in id/seq order, printed without the tag."""
    like = f"'{tag}-%'"
    tables = {
        "commands": "SELECT event_id, cfa, dossier_id, kind, payload, depends_on, state, blocked"
        f" FROM commands WHERE event_id LIKE {like} ORDER BY id",
        "inbox": f"SELECT event_id, cfa, outcome FROM inbox WHERE event_id LIKE {like}"
        " ORDER BY 1, 2",
        "outbox": f"SELECT event_id, key, headers, value FROM outbox WHERE event_id LIKE {like}"
        " ORDER BY seq",
    }
    return {
        name: [repr(row).replace(f"{tag}-", "") for row in await raw(url, query)]
        for name, query in tables.items()
    }


async def check_same_as_one_by_one(ledger: Ledger, url: str, seed: int) -> None:
    results = {}
    for tag, batched in (("single", False), ("batch", True)):
        rng = random.Random(seed)  # the same entries for both, under their own tag
        # before: some ids seen already, some dossiers with an open command
        earlier: list[Accept | Reject] = [
            Accept(command(f"{tag}-seen-{i}", f"{tag}-D{i}"), [status(f"{tag}-seen-s{i}")])
            for i in range(3)
        ]
        await one_by_one(ledger, [*earlier, Reject(f"{tag}-seen-3")])
        entries = random_entries(rng, tag, 60)
        if batched:
            results[tag] = await ledger.ingest_batch(entries)
        else:
            results[tag] = await one_by_one(ledger, entries)
    assert results["batch"] == results["single"]
    assert True in results["batch"] and False in results["batch"]
    single, batch = await snapshot(url, "single"), await snapshot(url, "batch")
    assert batch == single
    blocked = await raw(url, "SELECT count(*) FROM commands WHERE blocked")
    assert blocked[0][0] > 0, "some commands wait for their dossier"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_batch_writes_what_the_calls_one_by_one_write(
    ledger: Ledger, ledger_url: str, seed: int
) -> None:
    await check_same_as_one_by_one(ledger, ledger_url, seed)


async def test_a_large_batch_in_several_statements_writes_the_same(
    pg_ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL splits a batch of large records into statements of one transaction."""
    truncate_ledger(pg_ledger_url)
    monkeypatch.setattr(postgres, "BATCH_STATEMENT_BYTES", 1500)
    encoded = [postgres._encode(e) for e in random_entries(random.Random(4), "x", 60)]
    assert len(postgres._statement_chunks(encoded)) > 5
    ledger = open_ledger(pg_ledger_url)
    try:
        await check_same_as_one_by_one(ledger, pg_ledger_url, 4)
        # all or nothing across the statements: a failure in the last one undoes the first ones
        big = {"blob": "z" * 2000}
        entries: list[Accept | Reject] = [Accept(command(f"big{i}", payload=big)) for i in range(3)]
        entries.append(Accept(replace(command("broken"), cfa=None)))  # type: ignore[arg-type]
        with pytest.raises(LedgerError):
            await ledger.ingest_batch(entries)
        assert await raw(
            pg_ledger_url, "SELECT count(*) FROM inbox WHERE event_id LIKE 'big%'"
        ) == [(0,)]
    finally:
        await ledger.close()


# -- the promises, one by one ---------------------------------------------------------------------


async def test_an_event_id_counts_once_in_a_batch_and_across_batches(ledger: Ledger) -> None:
    assert await accept(ledger, command("e0"), [status("s0")]) is True

    results = await ledger.ingest_batch(
        [
            Accept(command("e0", payload={"again": 0}), [status("s0-again")]),  # seen before
            Accept(command("e1"), [status("s1")]),
            Accept(command("e1", payload={"again": 1}), [status("s1-again")]),  # earlier here
            Reject("e1", [status("r1")], cfa=CFA),
            Reject("e2", [status("r2")], cfa=CFA),
            Accept(command("e2"), [status("s2")]),
        ]
    )

    assert results == [False, True, False, False, True, False]
    stored = await ledger.commands_for(CFA, "D1")
    assert [(c.event_id, c.payload) for c in stored] == [
        ("e0", payload_of({"event": "e0"})),
        ("e1", payload_of({"event": "e1"})),
    ]
    assert await outbox_ids(ledger) == ["s0", "s1", "r2"]
    assert await ledger.ingest_batch([Reject("e2", [], cfa=CFA), Accept(command("e1"), [])]) == [
        False,
        False,
    ]


async def test_statuses_are_enqueued_in_entry_order_each_once(ledger: Ledger) -> None:
    results = await ledger.ingest_batch(
        [
            Reject("r1", [status("a"), status("b")]),
            Accept(command("e1", "D1"), [status("c"), status("a"), status("c")]),
            Accept(command("e2", "D2"), []),
            Reject("r2", [status("d")]),
            Accept(command("e3", "D3"), [status("e"), status("b")]),
        ]
    )

    assert results == [True, True, True, True, True]
    assert await outbox_ids(ledger) == ["a", "b", "c", "d", "e"]


async def test_a_batch_keeps_fifo_per_dossier(ledger: Ledger) -> None:
    await accept(ledger, command("x0", "D9"), [])  # D9 has an open command before the batch
    results = await ledger.ingest_batch(
        [
            Accept(command("a0", "D1"), []),
            Accept(command("b0", "D2"), []),
            Accept(command("a1", "D1"), []),
            Accept(command("c0", "D1", cfa=OTHER_CFA), []),  # another CFA: another dossier
            Accept(command("x1", "D9"), []),
            Accept(command("a2", "D1"), []),
        ]
    )
    assert all(results)

    order: list[str] = []
    while batch := await ledger.claim("w", 100, now(), LEASE):
        dossiers = [(c.cfa, c.dossier_id) for c in batch]
        assert len(dossiers) == len(set(dossiers)), "two commands of one dossier in flight"
        for claimed in batch:
            order.append(claimed.event_id)
            assert await ledger.complete(claimed.id, "w", Completion(CommandState.DONE, []))

    assert sorted(order[:4]) == ["a0", "b0", "c0", "x0"]
    assert [e for e in order if e.startswith("a")] == ["a0", "a1", "a2"]
    assert [e for e in order if e.startswith("x")] == ["x0", "x1"]


async def test_a_command_queued_behind_a_done_one_is_due(ledger: Ledger) -> None:
    await accept(ledger, command("a0"), [])
    [head] = await ledger.claim("w", 10, now(), LEASE)
    assert await ledger.complete(head.id, "w", Completion(CommandState.DONE, []))

    assert await ledger.ingest_batch([Accept(command("a1"), [])]) == [True]
    assert await claimed_ids(ledger) == ["a1"]


async def test_a_failing_entry_writes_nothing_of_the_batch(ledger: Ledger) -> None:
    broken = NewCommand(
        event_id="e2",
        cfa=None,  # type: ignore[arg-type]  # NOT NULL in the ledger: the database refuses it
        dossier_id="D1",
        opco="AKTO",
        kind=CommandKind.DOSSIER,
        payload=payload_of({}),
    )
    with pytest.raises(LedgerError):
        await ledger.ingest_batch(
            [Accept(command("e1"), [status("s1")]), Reject("r1", [status("r")]), Accept(broken)]
        )

    assert await ledger.commands_for(CFA, "D1") == []
    assert await outbox_ids(ledger) == []
    # nothing of it is in the inbox either: the redelivered batch is new
    assert await ledger.ingest_batch([Accept(command("e1"), [status("s1")]), Reject("r1")]) == [
        True,
        True,
    ]


async def test_an_empty_batch_is_nothing(ledger: Ledger) -> None:
    assert await ledger.ingest_batch([]) == []
    assert (await ledger.counts())["outbox"] == 0


async def test_accepts_then_rejects_in_separate_batches(ledger: Ledger) -> None:
    new = command("e1", payload={"n": 1}, kind=CommandKind.FACTURE, depends_on=("D7", "D8"))
    assert await ledger.ingest_batch([Accept(new, [status("s1")]), Accept(command("e1"))]) == [
        True,
        False,
    ]
    assert await ledger.ingest_batch(
        [Reject("r1", [status("r1")]), Reject("e1", [status("x")], cfa=CFA)]
    ) == [
        True,
        False,
    ]

    [stored] = await ledger.commands_for(CFA, "D1")
    assert (stored.kind, stored.payload, stored.depends_on) == (
        CommandKind.FACTURE,
        payload_of({"n": 1}),
        ("D7", "D8"),
    )
    assert stored.state is CommandState.PENDING
    assert stored.next_attempt_at == stored.created_at
    assert await outbox_ids(ledger) == ["s1", "r1"]


# -- under concurrency ----------------------------------------------------------------------------


async def test_batches_racing_completions_never_strand_a_dossier(ledger_url: str) -> None:
    """A batch accepted while its dossiers' heads complete: every new head is due afterwards."""
    dossiers, rounds = 12, 6
    ingest, dispatch = open_ledger(ledger_url), open_ledger(ledger_url)
    try:
        await ingest.ingest_batch([Accept(command(f"e{d}-0", f"D{d}")) for d in range(dossiers)])
        for n in range(1, rounds + 1):
            heads = await dispatch.claim("w", dossiers, now(), LEASE)
            assert len(heads) == dossiers  # every dossier has its head due, none stranded
            batch = [Accept(command(f"e{d}-{n}", f"D{d}")) for d in range(dossiers)]
            done = Completion(CommandState.DONE, [])
            await asyncio.gather(
                ingest.ingest_batch(batch[: dossiers // 2]),
                *(dispatch.complete(head.id, "w", done) for head in heads),
                ingest.ingest_batch(batch[dossiers // 2 :]),
            )
            assert await heads_blocked(ledger_url) == []
    finally:
        await asyncio.gather(ingest.close(), dispatch.close())


async def test_a_redelivered_batch_racing_itself_is_accepted_once(ledger_url: str) -> None:
    consumers = [open_ledger(ledger_url) for _ in range(3)]
    batch: list[Accept | Reject] = [
        Accept(command(f"e{i}", f"D{i % 3}"), [status(f"s{i}", f"D{i % 3}")]) for i in range(10)
    ]
    batch.append(Reject("r", [status("r")]))
    try:
        results = await asyncio.gather(*(c.ingest_batch(batch) for c in consumers))
        outbox = await outbox_ids(consumers[0])
        commands = [
            c.event_id for d in range(3) for c in await consumers[0].commands_for(CFA, f"D{d}")
        ]
    finally:
        await asyncio.gather(*(c.close() for c in consumers))
    assert [sum(column) for column in zip(*results, strict=True)] == [1] * len(batch)
    assert sorted(commands) == sorted(f"e{i}" for i in range(10))
    assert sorted(outbox) == sorted([*(f"s{i}" for i in range(10)), "r"])
