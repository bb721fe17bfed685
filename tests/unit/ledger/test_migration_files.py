"""The migration files: numbered, the same steps on both engines, split into whole statements."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from relais.adapters.ledger.migrations import load
from relais.adapters.ledger.sqlite import _statements, ts


def test_both_engines_have_the_same_migrations() -> None:
    postgres, sqlite = load("postgres"), load("sqlite")
    assert [(m.version, m.name) for m in postgres] == [(m.version, m.name) for m in sqlite]
    assert [m.version for m in postgres] == list(range(1, len(postgres) + 1))


def test_both_engines_create_the_same_tables_and_indexes() -> None:
    def objects(sql: str) -> list[str]:
        return sorted(re.findall(r"CREATE (?:TABLE|INDEX) (\w+)", sql))

    for pg, lite in zip(load("postgres"), load("sqlite"), strict=True):
        assert objects(pg.sql) == objects(lite.sql)


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
