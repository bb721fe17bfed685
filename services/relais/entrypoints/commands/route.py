"""``relais route --idcc N [--opco CODE]``: print the competent OPCO for an employer's IDCC."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import click

from relais.domain.referentials import IDCC_FILE, referential
from relais.domain.routing import IdccTable, resolve_opco
from relais.entrypoints.options import file_path, namespace, opco_choice


@click.command(
    "route", help="Print the competent OPCO for an employer's IDCC (exit 1 when there is none)."
)
@click.option("--idcc", default=None, help="IDCC of the employer (1 to 4 digits).")
@click.option(
    "--opco", type=opco_choice(), default=None, help="Explicit OPCO (wins over the IDCC table)."
)
@click.option(
    "--schemas-dir",
    type=file_path(file_okay=False),
    default=None,
    help="Folder holding referentials/idcc-opco.csv (default: the bundled schemas/).",
)
def command(**kwargs: Any) -> int:
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    if args.idcc is None and args.opco is None:
        print("relais route: give --idcc N (and optionally --opco CODE)", file=sys.stderr)
        return 2
    try:
        table = IdccTable.load(referential(IDCC_FILE, args.schemas_dir))
    except (OSError, ValueError) as exc:
        print(f"relais route: cannot load the IDCC referential: {exc}", file=sys.stderr)
        return 2
    opco, findings = resolve_opco(args.idcc, table, args.opco)
    for finding in findings:
        print(f"relais route: {finding.severity}: {finding.message}", file=sys.stderr)
    if opco is None:
        if not findings:
            print("relais route: the IDCC must be 1 to 4 digits", file=sys.stderr)
        return 1
    print(opco.value)
    return 0
