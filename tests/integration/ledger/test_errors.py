"""Database failures leave the ledger as ``LedgerError``, and the ledger recovers afterwards."""

from __future__ import annotations

import asyncpg
import pytest

from relais.adapters.ledger import open_ledger
from relais.errors import LedgerError
from tests.fixtures.postgres import truncate_ledger
from tests.integration.ledger.conftest import command
from tests.ledger_entries import accept

pytestmark = pytest.mark.integration


async def test_an_unreachable_postgres_is_a_ledger_error() -> None:
    ledger = open_ledger("postgresql://postgres@127.0.0.1:1/relais")
    try:
        with pytest.raises(LedgerError, match="ledger ping failed"):
            await ledger.ping()
    finally:
        await ledger.close()


async def test_a_missing_database_is_a_ledger_error(pg_ledger_url: str) -> None:
    ledger = open_ledger(pg_ledger_url.rsplit("/", 1)[0] + "/relais_no_such_database")
    try:
        with pytest.raises(LedgerError, match="does not exist"):
            await accept(ledger, command("e1"), [])
    finally:
        await ledger.close()


async def test_the_ledger_survives_its_connections_being_killed(pg_ledger_url: str) -> None:
    truncate_ledger(pg_ledger_url)
    ledger_url = pg_ledger_url
    ledger = open_ledger(ledger_url, max_size=2)
    try:
        assert await accept(ledger, command("e1"), [])
        admin = await asyncpg.connect(ledger_url)
        try:
            pids = await admin.fetchval(
                "SELECT array_agg(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            # wait=10 s: return once they are gone (termination is asynchronous otherwise, and a
            # call could still succeed on a connection that dies right after)
            killed = await admin.fetchval(
                "SELECT count(*) FROM unnest($1::int[]) AS pid"
                " WHERE pg_terminate_backend(pid, 10000)",
                pids,
            )
        finally:
            await admin.close()
        assert killed >= 1
        errors: list[LedgerError] = []
        for event_id in ("e2", "e3", "e4"):
            try:
                assert await accept(ledger, command(event_id), [])
                break
            except LedgerError as exc:  # a call meeting a dead pooled connection, at most 2
                errors.append(exc)
        assert len(errors) <= 2
        assert len(await ledger.commands_for("19750000000011", "D1")) == 2  # e1 + the success
    finally:
        await ledger.close()
