"""``relais keys check``: each CFA key at each OPCO (configured expiry + the OPCO's key info)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from relais.errors import RelaisError
from relais.operator.target import add_target_arguments, resolve_args


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "keys", help="Check the validity of each CFA key at each OPCO"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser("check", help="every (CFA, OPCO) key, soonest expiry first")
    check.add_argument("--offline", action="store_true", help="configured expiries only")
    check.add_argument("--warn-days", type=int, default=30, help="'expiring' below N days")
    check.add_argument("--json", action="store_true", help="one JSON document")
    add_target_arguments(check)
    check.set_defaults(handler=handle)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def handle(args: argparse.Namespace) -> int:
    from relais.adapters.credentials import load_credentials
    from relais.operator.keys import check_keys

    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    try:
        settings = resolve_args(args).settings
        credentials = load_credentials(settings)
        rows = asyncio.run(
            check_keys(
                settings,
                credentials,
                today=today,
                ask_opco=not args.offline,
                warn_days=args.warn_days,
            )
        )
    except RelaisError as exc:
        print(f"relais keys: {exc}", file=sys.stderr)
        return 2
    for problem in credentials.problems:
        print(f"credentials: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(row.text())
    if not rows:
        print("relais keys: no key configured", file=sys.stderr)
        return 1
    bad = sum(1 for r in rows if r.state in ("invalid", "expired", "error"))
    soon = sum(1 for r in rows if r.state == "expiring")
    print(f"{len(rows)} key(s): {bad} unusable, {soon} expiring soon", file=sys.stderr)
    return 1 if bad else 0
