import pytest

from relais.entrypoints.cli import COMMANDS, build_parser, main


def test_every_command_registers_a_handler() -> None:
    for name in COMMANDS:
        parser = build_parser(only=name)
        args = parser.parse_args([name])
        assert callable(args.handler), name


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
