"""``relais opco pause|resume|status``: what --until and --reason accept, the OPCO code checked,
and the three commands against a SQLite ledger (the engines' queries are tested on both engines
in tests/integration/ledger/test_pauses.py)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relais.adapters.ledger import open_ledger
from relais.entrypoints.cli import main
from relais.errors import InputError
from relais.operator.opco import check_reason, parse_until

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 09:00 in Paris (winter time)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", NOW + timedelta(hours=2)),
        ("90m", NOW + timedelta(minutes=90)),
        ("1h30m", NOW + timedelta(hours=1, minutes=30)),
        ("1d", NOW + timedelta(days=1)),
        ("45s", NOW + timedelta(seconds=45)),
        (" 2H ", NOW + timedelta(hours=2)),
        ("2026-11-27T12:00:00+00:00", datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
        ("2026-11-27T12:00:00Z", datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
        ("2026-11-27T12:00", datetime(2026, 11, 27, 11, 0, tzinfo=UTC)),  # Paris time
        ("2026-11-28", datetime(2026, 11, 27, 23, 0, tzinfo=UTC)),  # midnight in Paris
    ],
)
def test_until_is_a_duration_or_an_instant(text: str, expected: datetime) -> None:
    assert parse_until(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "neither"),
        ("tomorrow", "neither"),
        ("2x", "neither"),
        ("h", "neither"),
        ("-2h", "neither"),
        ("0m", "not in the future"),
        ("2026-11-27T09:00", "not in the future"),  # 08:00 UTC: now
        ("2026-11-27T07:59:00Z", "not in the future"),
        ("32d", "more than 31 days"),
        ("2027-01-15T00:00:00Z", "more than 31 days"),
    ],
)
def test_a_bad_until_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse_until(text, NOW)


def test_the_reason_is_one_bounded_line() -> None:
    assert check_reason("  fenêtre de maintenance AKTO ") == "fenêtre de maintenance AKTO"
    assert check_reason(None) is None and check_reason("  ") is None
    with pytest.raises(InputError):
        check_reason("x" * 201)
    with pytest.raises(InputError):
        check_reason("two\nlines")


@pytest.fixture
def ledger_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for name in list(os.environ):
        if name.upper().startswith("RELAIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RELAIS_SECRETS_DIR", str(tmp_path / "no-secrets"))
    monkeypatch.chdir(tmp_path)  # no .relais/demo.json from another run
    url = f"sqlite:///{tmp_path / 'ledger.db'}"

    async def migrate() -> None:
        ledger = open_ledger(url)
        try:
            await ledger.migrate()
        finally:
            await ledger.close()

    asyncio.run(migrate())
    return url


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code or 0)


def test_pause_status_resume(
    ledger_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELAIS_LEDGER__URL", ledger_env)
    assert run(["opco", "pause", "akto", "--until", "2h", "--reason", "maintenance"]) == 0
    assert capsys.readouterr().out.startswith("AKTO paused until 20")

    assert run(["opco", "status", "--json"]) == 0
    [line] = json.loads(capsys.readouterr().out)
    assert (line["opco"], line["state"], line["reason"]) == ("AKTO", "paused", "maintenance")
    until = datetime.fromisoformat(line["until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=2)

    assert run(["opco", "status"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("1 OPCO paused\nOPCO") and "AKTO  paused" in text

    assert run(["opco", "resume", "AKTO"]) == 0
    assert "AKTO resumed" in capsys.readouterr().out
    assert run(["opco", "resume", "AKTO"]) == 1
    assert "AKTO was not paused" in capsys.readouterr().err
    assert run(["opco", "status"]) == 0
    assert capsys.readouterr().out.startswith("no OPCO paused\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["opco", "pause", "FOO"], "'FOO' is not an OPCO code"),
        (["opco", "pause", "AKTO", "--until", "yesterday"], "neither an ISO 8601"),
        (["opco", "pause", "AKTO", "--until", "2020-01-01T00:00Z"], "not in the future"),
        (["opco", "resume"], "Missing argument 'OPCO'"),
    ],
)
def test_usage_errors_exit_2_on_stderr(
    ledger_env: str,
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RELAIS_LEDGER__URL", ledger_env)
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_a_reason_too_long_is_refused(
    ledger_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELAIS_LEDGER__URL", ledger_env)
    assert run(["opco", "pause", "AKTO", "--reason", "x" * 500]) == 2
    assert "at most 200 characters" in capsys.readouterr().err
    assert run(["opco", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing paused


def test_without_a_ledger_it_says_so(ledger_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["opco", "status", "--no-demo"]) == 78
    assert "RELAIS_LEDGER__URL is not set" in capsys.readouterr().err
