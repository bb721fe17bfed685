"""``relais schemas [write|check]``: the generated contract documents under ``schemas/``.

``check`` (the default) exits 1 when a committed document differs from what the code generates
(CI runs it); ``write`` regenerates them. The documents come from ``relais.contracts.SOURCES``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "schemas", help="Write or check the generated JSON Schema / AsyncAPI / OpenAPI documents"
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=("check", "write"),
        default="check",
        help="check (default): fail when the committed documents drift; write: regenerate them",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="the schemas/ folder (default: the repository's)"
    )
    parser.add_argument(
        "--only", action="append", default=None, help="restrict to these sources (repeatable)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from relais import contracts

    sources = contracts.SOURCES
    if args.only:
        unknown = set(args.only) - {s.name for s in sources}
        if unknown:
            print(f"relais schemas: unknown source(s) {sorted(unknown)}", file=sys.stderr)
            return 2
        sources = tuple(s for s in sources if s.name in args.only)
    if args.action == "write":
        changed = contracts.write(args.dir, sources)
        for line in changed:
            print(line)
        print(f"relais schemas: {len(changed)} file(s) updated")
        return 0
    drifts = contracts.check(args.dir, sources)
    for drift in drifts:
        print(f"{drift.problem}: {drift.path}", file=sys.stderr)
    if drifts:
        print("relais schemas: out of date; run `relais schemas write`", file=sys.stderr)
        return 1
    print("relais schemas: up to date")
    return 0
