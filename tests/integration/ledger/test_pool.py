"""The PostgreSQL pool does not reset a released connection (no round trip): this holds only while
no ledger call leaves session state behind. These tests run every ledger call on a one-connection
pool and look for what a later user of that connection would inherit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from relais.adapters.ledger.postgres import PostgresLedger
from relais.services.ledger_port import Accept, CommandState, Completion, FactureRecord, Reject
from tests.fixtures.postgres import truncate_ledger
from tests.integration.ledger.conftest import CFA, command, now, status
from tests.ledger_entries import accept, reject

pytestmark = pytest.mark.integration

LEASE = timedelta(seconds=30)

# What a session can carry from one pool user to the next, and how to see it.
SESSION_STATE = {
    "advisory locks": "SELECT count(*) FROM pg_locks"
    " WHERE pid = pg_backend_pid() AND locktype = 'advisory'",
    # asyncpg's type introspection sets jit off and back to its value: not a change
    "settings changed by SET": "SELECT count(*) FROM pg_settings"
    " WHERE source = 'session' AND setting IS DISTINCT FROM reset_val",
    "LISTEN channels": "SELECT count(*) FROM pg_listening_channels()",
    "open cursors": "SELECT count(*) FROM pg_cursors WHERE name <> ''",  # '': this query
    "temporary tables": "SELECT count(*) FROM pg_class WHERE relpersistence = 't'",
}


async def session_state(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        state = {name: await conn.fetchval(query) for name, query in SESSION_STATE.items()}
        state["in transaction"] = conn.is_in_transaction()
    return state


CLEAN = {name: 0 for name in SESSION_STATE} | {"in transaction": False}


async def test_no_ledger_call_leaves_session_state_on_a_pooled_connection(
    pg_ledger_url: str,
) -> None:
    truncate_ledger(pg_ledger_url)
    ledger = PostgresLedger(pg_ledger_url, min_size=1, max_size=1)  # every call: one connection
    try:
        pool = await ledger._get_pool()
        assert await session_state(pool) == CLEAN
        await ledger.migrate()
        await ledger.migration_status()
        await ledger.ping()
        await accept(ledger, command("e1", "D1"), [status("s1")])
        await reject(ledger, "r1", [status("r1")])
        await ledger.ingest_batch([Accept(command("e2", "D2")), Reject("r2")])
        await ledger.ingest_batch([Accept(command("e3", "D3"))])
        await ledger.ingest_batch([Reject("r3")])
        first, second, third = await ledger.claim("w", 10, now(), LEASE)
        done = Completion(
            CommandState.DONE,
            [status("s2")],
            dossier_ids={"numeroInterne": "N1"},
            dossier_etat="TRANSMIS",
            facture=FactureRecord(CFA, "F1", "AKTO", "NF1", "RECUE"),
        )
        assert await ledger.complete(first.id, "w", done)
        assert await ledger.reschedule(second.id, "w", now(), "503", ambiguous=True)
        assert await ledger.release("w") == 1
        await ledger.dossier(CFA, "D1")
        await ledger.dossier_by_numero("AKTO", "N1")
        await ledger.has_open_command(CFA, "D2")
        await ledger.facture(CFA, "F1")
        await ledger.commands_for(CFA, "D1")
        assert await ledger.record_etat(
            cfa=CFA,
            opco="AKTO",
            numero_interne="N1",
            kind="dossier",
            etat="ENGAGE",
            statuses=[status("s3")],
        )
        records = await ledger.outbox_batch(100)
        await ledger.mark_published([r.seq for r in records])
        await ledger.counts()
        assert third.event_id == "e3"

        assert await session_state(pool) == CLEAN
    finally:
        await ledger.close()


async def test_the_probe_sees_what_a_previous_pool_user_left(pg_ledger_url: str) -> None:
    """The pool really does not reset (the round trip is gone), and the probe above would see a
    ledger call that leaves a lock or a setting on its connection."""
    ledger = PostgresLedger(pg_ledger_url, min_size=1, max_size=1)
    try:
        pool = await ledger._get_pool()
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 1234")
            await conn.execute("SELECT pg_advisory_lock(42)")
            await conn.execute("LISTEN relais_probe")
        state = await session_state(pool)
        assert state["advisory locks"] == 1
        assert state["settings changed by SET"] == 1
        assert state["LISTEN channels"] == 1
    finally:
        await ledger.close()


async def test_each_ledger_call_is_one_statement(pg_ledger_url: str) -> None:
    """One round trip per call once statements are prepared: no reset, no second query."""
    truncate_ledger(pg_ledger_url)
    ledger = PostgresLedger(pg_ledger_url, min_size=1, max_size=1)
    queries: list[str] = []
    try:
        pool = await ledger._get_pool()
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: queries.append(record.query))

        async def calls(tag: str) -> dict[str, int]:
            """Run the hot ledger calls once; how many queries each sent."""
            counts: dict[str, int] = {}

            async def count(name: str, call: Any) -> Any:
                before = len(queries)
                result = await call
                counts[name] = len(queries) - before
                return result

            await count(
                "accept", accept(ledger, command(f"{tag}a", f"{tag}D1"), [status(f"{tag}s")])
            )
            await count("reject", reject(ledger, f"{tag}r", [status(f"{tag}rs")]))
            batch = [Accept(command(f"{tag}b{i}", f"{tag}D{i % 2}")) for i in range(3)]
            await count("ingest_batch", ledger.ingest_batch([*batch, Reject(f"{tag}r2")]))
            first, second = await count("claim", ledger.claim("w", 10, now(), LEASE))
            await count(
                "complete", ledger.complete(first.id, "w", Completion(CommandState.DONE, []))
            )
            await count(
                "reschedule", ledger.reschedule(second.id, "w", now(), "x", ambiguous=False)
            )
            records = await count("outbox_batch", ledger.outbox_batch(100))
            await count("mark_published", ledger.mark_published([r.seq for r in records]))
            await count("counts", ledger.counts())
            return counts

        await calls("warm-")  # statements prepared, types introspected
        truncate_ledger(pg_ledger_url)
        assert set((await calls("hot-")).values()) == {1}
    finally:
        await ledger.close()
