"""``relais migrate``: creates or updates the ledger named by --ledger or the settings."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from relais.entrypoints.cli import main
from relais.entrypoints.commands.migrate import describe


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code or 0)


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migrate_creates_the_ledger_then_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sub" / "ledger.db"
    assert run(["migrate", "--ledger", f"sqlite:///{db}"]) == 0
    assert {"inbox", "commands", "outbox", "schema_migrations"} <= tables(db)
    assert run(["migrate", "--ledger", f"sqlite:///{db}"]) == 0
    assert "ledger up to date" in capsys.readouterr().out


def test_migrate_reads_the_url_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "from-env.db"
    monkeypatch.setenv("RELAIS_LEDGER__URL", f"sqlite:///{db}")
    monkeypatch.setenv("RELAIS_SECRETS_DIR", str(tmp_path / "no-secrets"))
    assert run(["migrate"]) == 0
    assert "commands" in tables(db)


def test_a_bad_url_is_a_configuration_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["migrate", "--ledger", "oracle://db"]) == 78  # EX_CONFIG
    assert "unsupported ledger URL" in capsys.readouterr().err


def test_the_printed_url_carries_no_password() -> None:
    assert describe("postgresql://relais:s3cret@db.internal:5432/relais") == (
        "postgresql://db.internal:5432/relais"
    )
    assert describe("sqlite:///x.db?synchronous=normal") == "sqlite:///x.db"


def test_check_reports_pending_migrations_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ledger.db"
    url = f"sqlite:///{db}"
    assert run(["migrate", "--ledger", url, "--check"]) == 3
    out = capsys.readouterr().out
    assert "schema version 0" in out
    assert "pending  0001_init" in out
    assert "commands" not in tables(db)

    assert run(["migrate", "--ledger", url]) == 0
    assert run(["migrate", "--ledger", url, "--check"]) == 0
    assert "  pending  " not in capsys.readouterr().out.split("ledger up to date")[-1]


def test_check_refuses_an_edited_migration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ledger.db"
    url = f"sqlite:///{db}"
    assert run(["migrate", "--ledger", url]) == 0
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    assert run(["migrate", "--ledger", url, "--check"]) == 78
    assert "CHANGED  0001_init" in capsys.readouterr().out
    assert run(["migrate", "--ledger", url]) == 78
