"""``relais keys check``: each CFA key at each OPCO (configured expiry + the OPCO's key info)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import json_option, namespace, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args


@click.group("keys", help="Check the validity of each CFA key at each OPCO.")
def command() -> None:
    pass


@command.command("check")
@click.option("--offline", is_flag=True, help="Configured expiries only; do not ask the OPCO.")
@click.option(
    "--warn-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Report a key as expiring below N days.",
)
@json_option()
@target_options
def check(**kwargs: Any) -> int:
    """Every (CFA, OPCO) key, soonest expiry first. Exit 1 when a key is unusable."""
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.adapters.credentials import load_credentials
    from relais.operator.keys import check_keys

    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    try:
        settings = resolve_args(args, need_kafka=False).settings
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
        return fail("keys", exc)
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
