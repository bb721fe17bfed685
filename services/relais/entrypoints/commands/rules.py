"""``relais rules [--markdown]``: the rule catalogue with each rule's reference and comparison.

JSON by default (one object per finding code: code, severity, section, summary, reference,
verdict, why); ``--markdown`` prints the conformance table (``schemas/conformance.md``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "rules",
        help="Print the rule catalogue and its conformance to the state's CERFA form",
        description=__doc__,
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the conformance table as Markdown"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.markdown:
        from relais.conformance_doc import markdown

        print(markdown(), end="")
        return 0
    from relais.domain.rules.conformance import rows

    print(json.dumps(rows(), ensure_ascii=False, indent=2))
    return 0
