"""``relais completion SHELL``: the shell completion script, printed for the operator to source."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class


@click.command(
    "completion",
    help=(
        "Print the shell completion script for SHELL (bash, zsh or fish).\n\n"
        'Load it in the current shell with, for bash: eval "$(relais completion bash)"; or '
        "save it once: relais completion bash > /etc/bash_completion.d/relais. Commands, "
        "options and their choices (OPCO codes, roles) complete."
    ),
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def command(shell: str) -> int:
    from relais.entrypoints.cli import cli

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice above lists the supported shells
        raise click.BadParameter(f"no completion for {shell}")
    script = cls(cli, {}, "relais", "_RELAIS_COMPLETE").source()
    click.echo(script)
    return 0
