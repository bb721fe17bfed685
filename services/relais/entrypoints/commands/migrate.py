"""``relais migrate [--ledger URL]``: bring the ledger schema up to date (idempotent).

The URL defaults to the settings' ``ledger.url`` (``RELAIS_LEDGER__URL``, default
``sqlite:///.relais/ledger.db``). Safe to run from several processes at once (the helm hook Job and
a starting pod): PostgreSQL serializes them with an advisory lock, SQLite with its write lock.
Exit codes: 0 done, 1 the ledger could not be reached or migrated, 2 bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from urllib.parse import urlsplit


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "migrate", help="Apply the ledger migrations", description=__doc__
    )
    parser.add_argument(
        "--ledger",
        metavar="URL",
        default=None,
        help="ledger URL (default: settings ledger.url, i.e. RELAIS_LEDGER__URL)",
    )
    parser.set_defaults(handler=handle)


def default_ledger_url() -> str:
    """The ledger URL relais runs with (from the settings)."""
    from relais.config import load_settings

    return load_settings().ledger.url.get_secret_value()


def describe(url: str) -> str:
    """The URL without credentials, fit for a terminal or a log."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url.split("?", 1)[0]
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from relais.errors import ConfigurationError, LedgerError

    try:
        url = args.ledger or default_ledger_url()
        asyncio.run(_migrate(url))
    except (ConfigurationError, ValidationError) as exc:
        print(f"relais migrate: {exc}", file=sys.stderr)
        return 2
    except LedgerError as exc:
        print(f"relais migrate: {exc}", file=sys.stderr)
        return 1
    print(f"ledger up to date: {describe(url)}")
    return 0


async def _migrate(url: str) -> None:
    from relais.adapters.ledger import open_ledger

    ledger = open_ledger(url)
    try:
        await ledger.migrate()
    finally:
        await ledger.close()
