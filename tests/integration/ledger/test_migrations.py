"""Migrations: they build the committed schema, are idempotent, safe concurrently, never edited."""

from __future__ import annotations

import asyncio
import difflib
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from relais.adapters.ledger import open_ledger, sqlite_path
from relais.adapters.ledger.migrations import Engine, load
from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.schema import dump_snapshot, load_snapshot
from relais.adapters.ledger.schema.describe import describe as describe_schema
from relais.adapters.ledger.sqlite import SqliteLedger
from relais.errors import ConfigurationError
from relais.services.ledger_port import Accept, CommandKind, NewCommand, Reject
from tests.fixtures.postgres import PgDatabases, sqlite_url
from tests.payloads import payload_of

pytestmark = pytest.mark.integration

REGENERATE = (
    "python -m relais.adapters.ledger.schema --postgres postgresql://postgres@127.0.0.1/test"
)


def assert_schema(engine: Engine, actual: Any) -> None:
    expected = load_snapshot(engine)
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                dump_snapshot(expected).splitlines(),
                dump_snapshot(actual).splitlines(),
                "committed snapshot",
                "schema after migrations",
                lineterm="",
            )
        )
        pytest.fail(
            f"the {engine} migrations and the committed schema differ (a deliberate change? "
            f"regenerate with `{REGENERATE}`):\n{diff}"
        )


async def describe(url: str) -> Any:
    """Migrate the database at ``url``, then read its schema back (the tooling's own connection)."""
    ledger = open_ledger(url)
    try:
        await ledger.migrate()
    finally:
        await ledger.close()
    return await describe_schema(url)


async def test_sqlite_migrations_build_the_committed_schema(tmp_path: Path) -> None:
    assert_schema("sqlite", await describe(sqlite_url(tmp_path)))


async def test_postgres_migrations_build_the_committed_schema(pg_databases: PgDatabases) -> None:
    assert_schema("postgres", await describe(pg_databases.create()))


async def test_migrate_again_changes_nothing(ledger_url: str) -> None:
    engine: Engine = "sqlite" if ledger_url.startswith("sqlite") else "postgres"
    before = await describe(ledger_url)  # the fixture migrated it already: this is the 2nd time
    after = await describe(ledger_url)
    assert before == after
    assert_schema(engine, after)
    assert await applied_versions(ledger_url) == [m.version for m in load(engine)]


async def test_concurrent_migrations_on_a_fresh_postgres_database(
    pg_databases: PgDatabases,
) -> None:
    url = pg_databases.create()
    ledgers = [open_ledger(url) for _ in range(4)]
    try:
        await asyncio.gather(*(ledger.migrate() for ledger in ledgers))
    finally:
        await asyncio.gather(*(ledger.close() for ledger in ledgers))
    assert await applied_versions(url) == [m.version for m in load("postgres")]
    assert_schema("postgres", await describe(url))


async def test_concurrent_migrations_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    ledgers = [open_ledger(url) for _ in range(3)]  # three connections to one file
    try:
        await asyncio.gather(*(ledger.migrate() for ledger in ledgers))
    finally:
        await asyncio.gather(*(ledger.close() for ledger in ledgers))
    assert await applied_versions(url) == [m.version for m in load("sqlite")]
    assert_schema("sqlite", await describe(url))


async def test_an_edited_migration_is_refused(ledger_url: str) -> None:
    first = load("sqlite" if ledger_url.startswith("sqlite") else "postgres")[0]
    await set_first_checksum(ledger_url, "edited")
    ledger = open_ledger(ledger_url)
    try:
        with pytest.raises(ConfigurationError, match="changed after it was applied"):
            await ledger.migrate()
    finally:
        await ledger.close()
        await set_first_checksum(ledger_url, first.checksum)  # the PostgreSQL db is shared


async def applied_versions(url: str) -> list[int]:
    query = "SELECT version FROM schema_migrations ORDER BY version"
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            return [row[0] for row in conn.execute(query)]
    conn = await asyncpg.connect(url)
    try:
        return [row["version"] for row in await conn.fetch(query)]
    finally:
        await conn.close()


async def set_first_checksum(url: str, checksum: str) -> None:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            with conn:
                conn.execute(
                    "UPDATE schema_migrations SET checksum = ? WHERE version = 1", (checksum,)
                )
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(url)
    try:
        await pg.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", checksum)
    finally:
        await pg.close()


async def test_a_later_migration_upgrades_a_ledger_with_data(
    pg_databases: PgDatabases, tmp_path: Path
) -> None:
    """0001 applied and used, then ``migrate()`` applies the rest: queued commands get blocked."""
    rows = [("e1", "D1"), ("e2", "D1"), ("e3", "D2"), ("e4", "D1")]
    for url in (sqlite_url(tmp_path), pg_databases.create()):
        engine: Engine = "sqlite" if url.startswith("sqlite") else "postgres"
        await apply_first_migration_only(url, engine, rows)

        ledger = open_ledger(url)
        try:
            await ledger.migrate()
            claimed = await ledger.claim("w", 10, datetime.now(UTC), timedelta(seconds=30))
        finally:
            await ledger.close()

        assert await applied_versions(url) == [m.version for m in load(engine)]
        assert sorted(c.event_id for c in claimed) == ["e1", "e3"]
        assert await blocked_events(url) == ["e2", "e4"]


async def apply_first_migration_only(url: str, engine: Engine, rows: list[tuple[str, str]]) -> None:
    first = load(engine)[0]
    insert = (
        "INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, state,"
        " next_attempt_at, created_at, updated_at) VALUES ({}, 'CFA', {}, 'AKTO', 'dossier',"
        " '{{}}', 'pending', {}, {}, {})"
    )
    if engine == "sqlite":
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            conn.executescript(first.sql)
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " checksum TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
            )
            conn.execute(
                "INSERT INTO schema_migrations VALUES (1, ?, ?, '2026-11-27T00:00:00.000000Z')",
                (first.name, first.checksum),
            )
            past = "'2026-01-01T00:00:00.000000Z'"
            for event_id, dossier_id in rows:
                conn.execute(insert.format("?", "?", past, past, past), (event_id, dossier_id))
            conn.commit()
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(first.sql)
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO schema_migrations VALUES (1, $1, $2, now())", first.name, first.checksum
        )
        for event_id, dossier_id in rows:
            await conn.execute(
                insert.format("$1", "$2", "now() - interval '1 day'", "now()", "now()"),
                event_id,
                dossier_id,
            )
    finally:
        await conn.close()


async def blocked_events(url: str) -> list[str]:
    query = "SELECT event_id FROM commands WHERE blocked {} ORDER BY id"
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            return [row[0] for row in conn.execute(query.format("= 1"))]
    conn = await asyncpg.connect(url)
    try:
        return [row["event_id"] for row in await conn.fetch(query.format(""))]
    finally:
        await conn.close()


async def test_migration_status_before_and_after(pg_databases: PgDatabases, tmp_path: Path) -> None:
    for url in (sqlite_url(tmp_path), pg_databases.create()):
        engine: Engine = "sqlite" if url.startswith("sqlite") else "postgres"
        ledger = open_ledger(url)
        assert isinstance(ledger, (SqliteLedger, PostgresLedger))
        try:
            before = await ledger.migration_status()
            await ledger.migrate()
            after = await ledger.migration_status()
        finally:
            await ledger.close()
        assert before.applied == ()
        assert [m.version for m in before.pending] == [m.version for m in load(engine)]
        assert not before.up_to_date
        assert after.up_to_date
        assert list(after.applied) == [m.version for m in load(engine)]


async def apply_migrations_before(url: str, engine: Engine, version: int) -> None:
    """The migrations older than ``version``, applied as ``migrate()`` would have."""
    older = [m for m in load(engine) if m.version < version]
    if engine == "sqlite":
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " checksum TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT"
            )
            for m in older:
                conn.executescript(m.sql)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, '2026-11-27T00:00:00.000000Z')",
                    (m.version, m.name, m.checksum),
                )
            conn.commit()
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL)"
        )
        for m in older:
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2, $3, now())",
                m.version,
                m.name,
                m.checksum,
            )
    finally:
        await conn.close()


IDENTITY_MIGRATION = 5
OLD_CFA, OTHER = "19750000000011", "19750000000029"


async def write_rows_before_identity(url: str, engine: Engine) -> None:
    """What a ledger held before (CFA, event id) identity: an accepted event (its command), a
    rejected one of an established CFA (its status names the CFA), a refusal keyed by a Kafka
    position whose status claims the accepted event's id but names no CFA."""
    past = "2026-01-01T00:00:00.000000Z"
    inbox = [("e-accepted", "accepted"), ("e-rejected", "rejected"), ("kafka:t:0:7", "rejected")]
    outbox = [
        ("st-accepted", "D1", {"ce_correlationid": "e-accepted", "ce_cfa": OLD_CFA}),
        ("st-rejected", "D2", {"ce_correlationid": "e-rejected", "ce_cfa": OTHER}),
        ("st-position", "D1", {"ce_correlationid": "e-accepted"}),
    ]
    command = (
        "INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, state,"
        " next_attempt_at, created_at, updated_at) VALUES ('e-accepted', '{}', 'D1', 'AKTO',"
        " 'dossier', '{{}}', 'done', {}, {}, {})"
    )
    if engine == "sqlite":
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            conn.executemany(
                "INSERT INTO inbox (event_id, outcome, received_at) VALUES (?, ?, ?)",
                [(e, o, past) for e, o in inbox],
            )
            conn.execute(command.format(OLD_CFA, f"'{past}'", f"'{past}'", f"'{past}'"))
            conn.executemany(
                "INSERT INTO outbox (event_id, key, headers, value, created_at, published_at)"
                " VALUES (?, ?, ?, x'7b7d', ?, ?)",
                [(i, k, json.dumps({"ce_id": i, **h}), past, past) for i, k, h in outbox],
            )
            conn.commit()
        return
    conn = await asyncpg.connect(url)
    try:
        for event_id, outcome in inbox:
            await conn.execute(
                "INSERT INTO inbox (event_id, outcome, received_at) VALUES ($1, $2, now())",
                event_id,
                outcome,
            )
        await conn.execute(command.format(OLD_CFA, "now()", "now()", "now()"))
        for event_id, key, headers in outbox:
            await conn.execute(
                "INSERT INTO outbox (event_id, key, headers, value, created_at, published_at)"
                " VALUES ($1, $2, $3::jsonb, '\\x7b7d', now(), now())",
                event_id,
                key,
                json.dumps({"ce_id": event_id, **headers}),
            )
    finally:
        await conn.close()


async def test_the_identity_migration_keeps_old_rows_and_their_status_ids(
    pg_databases: PgDatabases, tmp_path: Path
) -> None:
    """After 0005 the inbox is keyed by (CFA, event id): a redelivery of an event seen before the
    migration is still a duplicate (accepted: the CFA of its command; rejected: the CFA its status
    names; a position-keyed refusal: no CFA), the same id from another CFA is a new event, the
    stored status rows keep their ids and command ids go on from the old counter."""
    for url in (sqlite_url(tmp_path), pg_databases.create()):
        engine: Engine = "sqlite" if url.startswith("sqlite") else "postgres"
        await apply_migrations_before(url, engine, IDENTITY_MIGRATION)
        await write_rows_before_identity(url, engine)

        ledger = open_ledger(url)
        try:
            await ledger.migrate()
            again = await ledger.ingest_batch(
                [
                    Accept(command_of("e-accepted", OLD_CFA), []),
                    Reject("e-rejected", [], cfa=OTHER),
                    Reject("kafka:t:0:7", []),
                ]
            )
            fresh = await ledger.ingest_batch(
                [
                    Accept(command_of("e-accepted", OTHER), []),
                    Accept(command_of("e-rejected", OLD_CFA), []),
                ]
            )
            outbox = [r.message.event_id for r in await ledger.outbox_batch(100)]
            new_ids = [c.id for c in await ledger.commands_for(OTHER, "D1")]
        finally:
            await ledger.close()

        assert again == [False, False, False], engine
        assert fresh == [True, True], engine
        assert await applied_versions(url) == [m.version for m in load(engine)]
        assert outbox == []  # the old rows were published: nothing new was enqueued
        assert await stored_status_ids(url) == ["st-accepted", "st-rejected", "st-position"]
        assert new_ids == [2], engine  # the old command was id 1


def command_of(event_id: str, cfa: str) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id="D1",
        opco="AKTO",
        kind=CommandKind.DOSSIER,
        payload=payload_of({}),
    )


async def stored_status_ids(url: str) -> list[str]:
    query = "SELECT event_id FROM outbox ORDER BY seq"
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_path(url))) as conn:
            return [row[0] for row in conn.execute(query)]
    conn = await asyncpg.connect(url)
    try:
        return [row["event_id"] for row in await conn.fetch(query)]
    finally:
        await conn.close()
