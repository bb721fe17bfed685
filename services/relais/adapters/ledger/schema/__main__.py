"""Regenerate the schema snapshots: ``python -m relais.adapters.ledger.schema [--postgres URL]``."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from relais.adapters.ledger.migrations import Engine
from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.schema import dump_snapshot, snapshot_path
from relais.adapters.ledger.schema.describe import describe_postgres, describe_sqlite
from relais.adapters.ledger.sqlite import SqliteLedger


async def _describe_sqlite() -> Any:
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "ledger.db")
        ledger = SqliteLedger(path)
        try:
            await ledger.migrate()
        finally:
            await ledger.close()
        return describe_sqlite(path)


async def _describe_postgres(server_url: str) -> Any:
    name = f"relais_schema_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(server_url)
        ledger = PostgresLedger(urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")))
        try:
            await ledger.migrate()
        finally:
            await ledger.close()
        return await describe_postgres(ledger.url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _write(engine: Engine, description: Any) -> None:
    path = snapshot_path(engine)
    path.write_text(dump_snapshot(description), encoding="utf-8")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", metavar="URL", help="a server URL (a scratch db is made)")
    args = parser.parse_args()
    _write("sqlite", asyncio.run(_describe_sqlite()))
    if args.postgres:
        _write("postgres", asyncio.run(_describe_postgres(args.postgres)))


if __name__ == "__main__":
    main()
