"""``relais migrate [--ledger URL] [--check]``: bring the ledger schema up to date (idempotent).

The URL defaults to the settings' ``ledger.url`` (``RELAIS_LEDGER__URL``, default
``sqlite:///.relais/ledger.db``). Safe to run from several processes at once (the helm hook Job and
a starting pod): PostgreSQL serializes them with an advisory lock, SQLite with its write lock.
``--check`` changes nothing and says whether migrations are pending (for a probe or a CI step).

Exit codes: 0 up to date (or migrated), 3 ``--check`` found migrations to apply, 69 the ledger
could not be reached or migrated, 78 bad configuration (URL, settings, a shipped migration edited
after it was applied).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any
from urllib.parse import urlsplit

import click

from relais.entrypoints.options import namespace

EXIT_PENDING = 3
EX_CONFIG = 78


@click.command(
    "migrate",
    help=(
        "Apply the ledger migrations (idempotent; safe from several processes at once).\n\n"
        "Exit codes: 0 up to date (or migrated), 3 --check found migrations to apply, "
        "69 the ledger cannot be reached, 78 bad configuration (URL, settings, a shipped "
        "migration edited after it was applied)."
    ),
)
@click.option(
    "--ledger",
    metavar="URL",
    default=None,
    help="Ledger URL (default: RELAIS_LEDGER__URL, else sqlite:///.relais/ledger.db).",
)
@click.option("--check", is_flag=True, help="Apply nothing; exit 3 if migrations are pending.")
def command(**kwargs: Any) -> int:
    return handle(namespace(**kwargs))


def default_ledger_url() -> str:
    """The ledger URL relais runs with (from the settings)."""
    from relais.config_errors import load_settings_or_fail

    return load_settings_or_fail().ledger.url.get_secret_value()


def describe(url: str) -> str:
    """The URL without credentials, fit for a terminal or a log."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url.split("?", 1)[0]
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def handle(args: argparse.Namespace) -> int:
    from relais.entrypoints.exits import fail
    from relais.errors import ConfigurationError, LedgerError

    try:
        url = args.ledger or default_ledger_url()
        return asyncio.run(_check(url) if args.check else _migrate(url))
    except (ConfigurationError, LedgerError) as exc:
        return fail("migrate", exc)


async def _migrate(url: str) -> int:
    from relais.adapters.ledger import open_ledger

    ledger = open_ledger(url)
    try:
        await ledger.migrate()
    finally:
        await ledger.close()
    print(f"ledger up to date: {describe(url)}")
    return 0


async def _check(url: str) -> int:
    from relais.adapters.ledger import open_ledger
    from relais.adapters.ledger.postgres import PostgresLedger
    from relais.adapters.ledger.sqlite import SqliteLedger

    ledger = open_ledger(url)
    if not isinstance(ledger, (PostgresLedger, SqliteLedger)):  # pragma: no cover - both engines
        raise TypeError(f"no migration status for {type(ledger).__name__}")
    try:
        status = await ledger.migration_status()
    finally:
        await ledger.close()
    version = max(status.applied, default=0)
    print(f"ledger {describe(url)}: schema version {version}")
    for migration in status.pending:
        print(f"  pending  {migration.version:04d}_{migration.name}")
    for migration in status.changed:
        print(f"  CHANGED  {migration.version:04d}_{migration.name} (edited after it was applied)")
    if status.changed:
        return EX_CONFIG
    return EXIT_PENDING if status.pending else 0
