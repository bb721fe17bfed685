import argparse

import pytest

from relais.entrypoints.cli import COMMANDS, build_parser, main


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise AssertionError("no sub-commands")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_registers_a_handler_and_help(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_parser(only=name)
    assert callable(_subparser(parser, name).get_default("handler")), name
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([name, "--help"])
    assert exc.value.code == 0
    assert name in capsys.readouterr().out


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "validate" in capsys.readouterr().out
