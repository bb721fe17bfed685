"""The CLI's habits: --version, help texts, unknown commands, checked choices, completion, and
lazy loading (``relais --help`` imports no Kafka, HTTP or database library)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from relais.entrypoints.cli import COMMANDS, cli, main

HEAVY = ("faststream", "aiokafka", "httpx", "asyncpg", "aiosqlite", "uvicorn", "starlette", "rich")


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return int(exc.value.code or 0)


def group_actions(name: str) -> list[str]:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    return sorted(getattr(command, "commands", {}))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_clean_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    helps = [[name, "--help"]] + [[name, action, "--help"] for action in group_actions(name)]
    for argv in helps:
        assert run(argv) == 0, argv
        out = capsys.readouterr().out
        assert f"relais {' '.join(argv[:-1])}" in out, argv
        assert "``" not in out and ":class:" not in out and ":func:" not in out, argv
        assert "Show this message and exit." in out


def test_bare_relais_prints_its_help_and_a_group_without_action_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run([]) == 0
    assert "Commands:" in capsys.readouterr().out
    assert run(["dlq"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "missing command" in captured.err and "replay" in captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("relais ") and out.split()[1][0].isdigit()


def test_unknown_command_says_so_on_stderr_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(["wacth"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown command 'wacth'" in captured.err
    assert "Did you mean 'watch'?" in captured.err
    assert run(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'no-such-command'" in err and "Did you mean" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["watch", "--opco", "FOO"],
        ["route", "--opco", "NOPE", "--idcc", "1486"],
        ["run", "--role", "ingest,bogus"],
        ["keys", "check", "--warn-days", "-3"],
        ["watch", "--limit", "0"],
    ],
)
def test_choices_are_checked_before_anything_runs(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Invalid value" in captured.err, captured.err


def test_opco_codes_are_accepted_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["route", "--opco", "akto", "--idcc", "1486"]) == 0
    assert capsys.readouterr().out.strip() == "AKTO"


def _complete(words: str) -> list[str]:
    env = {**os.environ, "_RELAIS_COMPLETE": "bash_complete", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    code = "from relais.entrypoints.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_completion_script_and_completions() -> None:
    assert run(["completion", "bash"]) == 0
    assert _complete("relais wat") == ["watch"]
    assert "AKTO" in _complete("relais watch --opco AK")
    assert "dispatch" in _complete("relais run --role dis")


def test_completion_prints_a_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["completion", "zsh"]) == 0
    assert "_RELAIS_COMPLETE" in capsys.readouterr().out


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        "from relais.entrypoints.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["watch", "--help"], ["wacth"]])
def test_help_stays_lazy(argv: list[str]) -> None:
    loaded = _imported_after(argv)
    assert "click" in loaded  # the probe works
    heavy = {m for m in loaded if m.split(".")[0] in HEAVY}
    assert heavy == set(), sorted(heavy)[:10]


def _all_commands() -> list[tuple[str, object]]:
    import click

    out: list[tuple[str, object]] = []
    for name in COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        out.append((name, command))
        for sub_name, sub in sorted(getattr(command, "commands", {}).items()):
            out.append((f"{name} {sub_name}", sub))
    assert all(isinstance(c, click.Command) for _, c in out)
    return out


def test_every_option_and_command_has_a_help_text() -> None:
    import click

    for name, command in _all_commands():
        assert isinstance(command, click.Command)
        assert (command.help or command.short_help or "").strip(), name
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), (name, param.name)
                assert "``" not in (param.help or ""), (name, param.name)
