"""Configuration errors: one line naming the variable, never the value, exit 78 (EX_CONFIG);
operator commands without a target say so instead of guessing a broker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relais.entrypoints.cli import main

SECRET = "k3y-Do-Not-Print-4242"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("RELAIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RELAIS_SECRETS_DIR", str(tmp_path / "no-secrets"))
    monkeypatch.chdir(tmp_path)  # no .relais/demo.json from another run


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code or 0)


BAD_SETTINGS = [
    ("RELAIS_CREDENTIALS__KEYS", f'["{SECRET}"]', "valid dictionary"),
    ("RELAIS_CREDENTIALS__KEYS", f'{{"AKTO": {{"12345678900011": ["{SECRET}"]}}}}', "string"),
    ("RELAIS_CREDENTIALS__KEYS", f'{{"AKTO": {{"12345678900011": "{SECRET}"', "not valid JSON"),
    ("RELAIS_KAFKA__TOPIC_SOURCES", "{bad" + SECRET, "not valid JSON"),
    ("RELAIS_CFA__HMAC_SECRETS", f"[{SECRET}", "not valid JSON"),
    ("RELAIS_DISPATCH__INFLIGHT_LIMIT", SECRET, "valid integer"),
    ("RELAIS_DISPATCH__CONCURRENCY", SECRET, "unknown setting"),
]


@pytest.mark.parametrize(("variable", "value", "what"), BAD_SETTINGS)
@pytest.mark.parametrize(
    "argv",
    [["run"], ["config", "check", "--no-demo"], ["migrate"], ["watch", "--no-demo"]],
    ids=lambda a: a[0],
)
def test_a_bad_setting_is_one_line_naming_the_variable_never_the_value(
    variable: str,
    value: str,
    what: str,
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert run(argv) == 78
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert SECRET not in output
    assert "Traceback" not in output and "input_value" not in output
    problem = [line for line in output.splitlines() if variable in line]
    assert len(problem) == 1, output
    assert what in problem[0], problem[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["watch", "--no-follow"],
        ["send", "events.json"],
        ["dlq", "list"],
        ["dossier", "show", "D-1"],
    ],
)
def test_an_operator_command_without_a_target_says_so(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "events.json").write_text("{}")
    assert run(argv) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "no Kafka to talk to" in err and "--bootstrap" in err
    assert "RELAIS_KAFKA__BOOTSTRAP_SERVERS" in err


def test_a_dead_demo_is_not_a_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from relais.operator.target import DemoState

    dead = DemoState(
        bootstrap="127.0.0.1:1", ledger_url="sqlite:///x.db", simulator_url="", admin_token="t"
    )
    dead = DemoState(**{**dead.__dict__, "pid": 2**22 + 17})  # no such process
    dead.write(tmp_path / ".relais" / "demo.json")
    assert run(["watch", "--no-follow"]) == 78
    assert "no running demo" in capsys.readouterr().err
