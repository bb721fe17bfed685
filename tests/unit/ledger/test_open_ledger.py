"""open_ledger: the engine and options come from the URL; nothing connects before the first call."""

from __future__ import annotations

from pathlib import Path

import pytest

from relais.adapters.ledger import open_ledger, sqlite_path
from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.sqlite import SqliteLedger
from relais.errors import ConfigurationError, LedgerError


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///.relais/ledger.db", ".relais/ledger.db"),
        ("sqlite:////var/lib/relais/ledger.db", "/var/lib/relais/ledger.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///ledger.db?synchronous=normal", "ledger.db"),
    ],
)
def test_sqlite_urls_name_a_file(url: str, path: str) -> None:
    assert sqlite_path(url) == path
    ledger = open_ledger(url)
    assert isinstance(ledger, SqliteLedger)
    assert ledger.path == path


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:5432/relais", "postgres://u:secret@db/relais"]
)
def test_postgres_urls_open_a_pool_lazily(url: str) -> None:
    ledger = open_ledger(url, min_size=1, max_size=3)
    assert isinstance(ledger, PostgresLedger)
    assert ledger.url == url


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "sqlite://relative.db", "sqlite:///", "ledger.db", ""]
)
def test_unsupported_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_ledger(url)


def test_sqlite_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="synchronous"):
        open_ledger("sqlite:///:memory:?synchronous=sometimes")


async def test_a_database_error_leaves_the_adapter_as_a_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    ledger = open_ledger(f"sqlite:///{blocker}/ledger.db")
    try:
        with pytest.raises(LedgerError, match="ledger migrate failed"):
            await ledger.migrate()
    finally:
        await ledger.close()


async def test_an_in_memory_ledger_works_without_a_file() -> None:
    ledger = open_ledger("sqlite:///:memory:")
    try:
        await ledger.migrate()
        await ledger.ping()
        assert (await ledger.counts())["pending"] == 0
    finally:
        await ledger.close()
