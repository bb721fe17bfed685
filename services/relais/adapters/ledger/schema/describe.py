"""Read the ledger schema back from a database (tooling, not the runtime adapter).

``describe(url)`` opens its own connection (never the ledger's pool or worker), reads the catalogs
(PostgreSQL) or ``sqlite_master`` (SQLite) and returns the description the committed snapshots
(``postgres.json``, ``sqlite.json``) hold. Used by the migrations-vs-schema test and by
``python -m relais.adapters.ledger.schema``.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from relais.adapters.ledger.engine import sqlite_path


async def describe(url: str) -> dict[str, Any]:
    """The schema of the database at ``url`` (a ``sqlite:///`` or ``postgresql://`` URL)."""
    if urlsplit(url).scheme == "sqlite":
        return describe_sqlite(sqlite_path(url))
    return await describe_postgres(url)


def describe_sqlite(path: str) -> dict[str, Any]:
    """Every object of ``sqlite_master`` but SQLite's own, its SQL on one line."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return {
        "engine": "sqlite",
        "objects": {f"{kind} {name}": " ".join(sql.split()) for kind, name, sql in rows},
    }


async def describe_postgres(url: str) -> dict[str, Any]:
    """Tables (columns in order, constraints), functions and indexes of the current schema."""
    conn = await asyncpg.connect(url)
    try:
        schema = await conn.fetchval("SELECT current_schema()")
        columns = await conn.fetch(
            "SELECT cl.relname AS table_name, a.attname AS column_name,"
            " format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,"
            " pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity::text AS identity"
            " FROM pg_attribute AS a JOIN pg_class AS cl ON cl.oid = a.attrelid"
            " JOIN pg_namespace AS ns ON ns.oid = cl.relnamespace"
            " LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE ns.nspname = $1 AND cl.relkind = 'r' AND a.attnum > 0"
            " AND NOT a.attisdropped ORDER BY cl.relname, a.attnum",
            schema,
        )
        constraints = await conn.fetch(
            "SELECT cl.relname AS table_name, co.conname, pg_get_constraintdef(co.oid) AS def"
            " FROM pg_constraint AS co JOIN pg_class AS cl ON cl.oid = co.conrelid"
            " JOIN pg_namespace AS ns ON ns.oid = cl.relnamespace"
            # PostgreSQL 18 lists NOT NULL as constraints too: the columns already say it
            " WHERE ns.nspname = $1 AND co.contype <> 'n' ORDER BY 1, 2",
            schema,
        )
        functions = await conn.fetch(
            "SELECT p.proname, pg_get_functiondef(p.oid) AS def FROM pg_proc AS p"
            " JOIN pg_namespace AS ns ON ns.oid = p.pronamespace"
            " WHERE ns.nspname = $1 ORDER BY 1",
            schema,
        )
        indexes = await conn.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = $1 ORDER BY 1, 2",
            schema,
        )
    finally:
        await conn.close()
    return {
        "engine": "postgres",
        "tables": _tables(columns, constraints),
        "functions": {
            fn["proname"]: fn["def"].replace(f" {schema}.", " ").strip().splitlines()
            for fn in functions
        },
        "indexes": {
            idx["indexname"]: idx["indexdef"].replace(f" ON {schema}.", " ON ") for idx in indexes
        },
    }


def _tables(columns: list[Any], constraints: list[Any]) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for col in columns:
        table = tables.setdefault(col["table_name"], {"columns": [], "constraints": {}})
        text = col["column_name"] + " " + col["type"] + (" NOT NULL" if col["not_null"] else "")
        if col["default"] is not None:
            text += f" DEFAULT {col['default']}"
        if col["identity"]:
            kind = {"a": "ALWAYS", "d": "BY DEFAULT"}[col["identity"]]
            text += f" GENERATED {kind} AS IDENTITY"
        table["columns"].append(text)  # a list: column order is part of the schema
    for con in constraints:
        tables[con["table_name"]]["constraints"][con["conname"]] = con["def"]
    return tables
