"""``relais``: the command line. Each sub-command lives in ``relais.entrypoints.commands.<name>``.

A command module exposes ``register(subparsers)``, which adds its parser and sets ``handler`` to a
function ``(args) -> int`` (the exit code). Modules are imported only when their command runs, so
``relais validate`` never pays for Kafka or HTTP imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "validate": "Validate a cerfa / request body / CFA event against the control rules",
    "rules": "Print the rule catalogue and its conformance to the state's CERFA form",
    "route": "Print the competent OPCO for an IDCC",
    "schemas": "Write or check the generated JSON Schema / AsyncAPI / OpenAPI documents",
    "simulator": "Run the convergence-API simulator for the 11 OPCO",
    "migrate": "Apply the ledger migrations",
    "run": "Run relais (all roles, or one with --role)",
    "demo": "Run everything locally on embedded defaults, with sample CFA events",
    "send": "Publish a CFA event file (CloudEvents structured JSON) to the input topic",
    "watch": "Follow status events",
    "dossier": "Look a dossier up: its timeline of events, OPCO calls and statuses",
    "dlq": "List or replay dead letters",
    "keys": "Check the validity of each CFA key at each OPCO",
    "config": "Validate settings, credentials and profiles without starting anything",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relais", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(f"relais.entrypoints.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    only = first if first in COMMANDS else None
    if only is None:
        build_parser(only="").print_help()
        raise SystemExit(0 if not args_list or args_list[0] in ("-h", "--help") else 2)
    parser = build_parser(only=only)
    args = parser.parse_args(args_list)
    raise SystemExit(args.handler(args))


if __name__ == "__main__":
    main()
