"""``relais simulator``: flags, and configuration errors that stop it before it listens."""

from __future__ import annotations

import argparse
from pathlib import Path

import click
import pytest

from relais.entrypoints.commands.simulator import command, handle


def parse(*argv: str) -> argparse.Namespace:
    ctx = command.make_context("simulator", list(argv))
    params = dict(ctx.params)
    if params["start_date"] is not None:
        params["start_date"] = params["start_date"].date()
    return argparse.Namespace(**params)


def test_flags_have_sandbox_defaults() -> None:
    args = parse()
    assert args.port == 8765 and args.host == "127.0.0.1"
    assert args.day_seconds == 0.0
    assert not args.structural_only and not args.no_rate_limit
    assert args.decision_days == (2, 3)
    assert parse("--decision-days", "4").decision_days == (4, 4)
    assert parse("--decision-days", "1:5").decision_days == (1, 5)
    with pytest.raises(click.BadParameter):
        parse("--decision-days", "5:1")


@pytest.mark.parametrize(
    ("flag", "content"),
    [
        ("--keys", "siret,opco,key,expiry\n1,NOT_AN_OPCO,k,2027-01-01\n"),
        ("--oauth-clients", "opco,client_id\nAKTO,x\n"),
        ("--faults", '{"AKTO": {"error_rate": 7}}'),
    ],
)
def test_bad_files_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, content: str
) -> None:
    path = tmp_path / "file"
    path.write_text(content, encoding="utf-8")
    args = parse(flag, str(path))
    assert handle(args) == 2
    assert "relais simulator:" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("--keys", str(tmp_path / "absent.csv"))
    assert handle(args) == 2
    assert "absent.csv" in capsys.readouterr().err
