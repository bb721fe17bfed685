"""The migration files: numbered, the same steps on both engines, split into whole statements."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from relais.adapters.ledger.migrations import load
from relais.adapters.ledger.migrations import sqlite_statements as _statements
from relais.adapters.ledger.sqlite import ts


def test_both_engines_have_the_same_migrations() -> None:
    postgres, sqlite = load("postgres"), load("sqlite")
    assert [(m.version, m.name) for m in postgres] == [(m.version, m.name) for m in sqlite]
    assert [m.version for m in postgres] == list(range(1, len(postgres) + 1))


_DDL = re.compile(
    r"CREATE (TABLE|INDEX) (\w+)(?:\s+ON (\w+))?|DROP (TABLE|INDEX) (\w+)"
    r"|ALTER TABLE (\w+) RENAME TO (\w+)"
)


def _objects_after(sql: str, tables: set[str], indexes: dict[str, str]) -> None:
    """Apply a migration's CREATE/DROP/RENAME of tables and indexes to ``tables``/``indexes``
    (index -> its table)."""
    for m in _DDL.finditer(sql):
        created, name, on, dropped, gone, old, new = m.groups()
        if created == "TABLE":
            tables.add(name)
        elif created == "INDEX":
            indexes[name] = on
        elif dropped == "TABLE":
            tables.discard(gone)
            for index in [i for i, t in indexes.items() if t == gone]:
                del indexes[index]
        elif dropped == "INDEX":
            indexes.pop(gone, None)
        elif old is not None:
            tables.discard(old)
            tables.add(new)
            for index, table in list(indexes.items()):
                if table == old:
                    indexes[index] = new


def test_both_engines_create_the_same_tables_and_indexes() -> None:
    """After each migration both engines have the same tables and indexes (SQLite rebuilds a table
    where PostgreSQL alters it: what exists is compared, not what each file creates)."""
    pg_tables: set[str] = set()
    pg_indexes: dict[str, str] = {}
    lite_tables: set[str] = set()
    lite_indexes: dict[str, str] = {}
    for pg, lite in zip(load("postgres"), load("sqlite"), strict=True):
        _objects_after(pg.sql, pg_tables, pg_indexes)
        _objects_after(lite.sql, lite_tables, lite_indexes)
        assert (pg_tables, pg_indexes) == (lite_tables, lite_indexes), pg.name
    assert {"inbox", "commands", "outbox"} <= pg_tables and "commands_due" in pg_indexes


def test_sqlite_scripts_split_into_whole_statements() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT ';');
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'y;';
    END;
    -- trailing comment
    """
    statements = _statements(script)
    assert len(statements) == 2
    assert statements[0].endswith("CREATE TABLE a (x TEXT DEFAULT ';');")
    assert statements[1].rstrip().endswith("END;")
    assert len(_statements(load("sqlite")[0].sql)) == load("sqlite")[0].sql.count("CREATE ")


def test_sqlite_timestamps_sort_as_text_in_time_order() -> None:
    base = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    moments = [
        base,
        base + timedelta(microseconds=1),
        base.astimezone(timezone(timedelta(hours=1))) + timedelta(seconds=1),
        base + timedelta(days=400),
        datetime(2026, 11, 27, 4, 59, 59),  # naive: taken as UTC
    ]
    assert sorted(moments, key=lambda m: m.replace(tzinfo=m.tzinfo or UTC)) == sorted(
        moments, key=ts
    )
    assert ts(base) == "2026-11-27T05:00:00.000000Z"
