"""``relais route --idcc N [--opco CODE]``: print the competent OPCO for an employer's IDCC."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relais.domain.referentials import IDCC_FILE, referential
from relais.domain.routing import IdccTable, resolve_opco


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "route",
        help="Print the competent OPCO for an IDCC",
        description="Print the competent OPCO for an employer's IDCC (exit 1 when none).",
    )
    parser.add_argument("--idcc", default=None, help="IDCC of the employer (1-4 digits)")
    parser.add_argument("--opco", default=None, help="explicit OPCO (wins over the IDCC table)")
    parser.add_argument(
        "--schemas-dir",
        type=Path,
        default=None,
        help="folder holding referentials/idcc-opco.csv (default: the repository's schemas/)",
    )
    parser.set_defaults(handler=handle)


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
