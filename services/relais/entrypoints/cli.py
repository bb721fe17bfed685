"""``relais``: the command line (Click). Each sub-command lives in ``relais.entrypoints.commands``.

A command module exposes ``command``, a ``click.Command`` (or group) whose callback returns the exit
code. Modules are imported only when their command runs (or its help is asked for), so
``relais validate`` and ``relais --help`` never pay for Kafka or HTTP imports.

Exit codes (``relais.entrypoints.exits``): 0 success, 1 the command's own "no" (invalid input,
nothing found), 2 usage, 69 a dependency unreachable, 78 configuration.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from relais.entrypoints.exits import EX_USAGE, exit_code_for

COMMANDS: dict[str, str] = {
    "validate": "Validate a cerfa, request body or CFA event against the control rules.",
    "rules": "Print the rule catalogue and its conformance to the state's CERFA form.",
    "route": "Print the competent OPCO for an IDCC.",
    "schemas": "Write or check the generated JSON Schema, AsyncAPI and OpenAPI documents.",
    "simulator": "Run the convergence-API simulator for the 11 OPCO.",
    "migrate": "Apply the ledger migrations.",
    "run": "Run relais (all roles, or some with --role).",
    "demo": "Run everything locally on embedded defaults, with sample CFA events.",
    "send": "Publish a CFA event file (CloudEvents structured JSON) to the input topic.",
    "watch": "Follow status events.",
    "dossier": "Look a dossier up: its timeline of events, OPCO calls and statuses.",
    "dlq": "List or replay dead letters.",
    "keys": "Check the validity of each CFA key at each OPCO.",
    "config": "Validate settings, credentials and profiles without starting anything.",
    "opco": "Pause, resume or probe an OPCO; show the pauses.",
    "completion": "Print the shell completion script (bash, zsh or fish).",
}

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"relais.entrypoints.commands.{cmd_name}")
        command: click.Command = module.command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0])
        if name not in COMMANDS and not name.startswith("-"):
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"unknown command '{name}'.{hint} See 'relais --help'.")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from ``COMMANDS`` (no module imported to print it)."""
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relais")
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"relais {_version()}")
        ctx.exit(0)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print relais's version and exit.",
)
def cli() -> None:
    """relais: the bridge between a CFA network's Kafka bus and the OPCO convergence API.

    Settings come from RELAIS_* environment variables (see the README's configuration
    reference). Run 'relais COMMAND --help' for a command's options.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; always ends with ``SystemExit`` carrying the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    raise SystemExit(run_cli(args))


def run_cli(args: list[str]) -> int:
    from relais.errors import RelaisError

    try:
        result: Any = cli.main(args=args, prog_name="relais", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        if not args:  # a bare `relais`: the help is the answer
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            return 0
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=True)  # `relais dlq`: which action?
        click.echo("\nError: missing command.", err=True)
        return EX_USAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except RelaisError as exc:  # a command let one through: still one line, the right code
        click.echo(f"relais: {exc}", err=True)
        return exit_code_for(exc)
    if result is None:
        return 0
    return int(result)


if __name__ == "__main__":
    main()
