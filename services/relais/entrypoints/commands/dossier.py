"""``relais dossier show ID``: a dossier's timeline of commands and statuses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import json_option, namespace, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args


@click.group("dossier", help="Look a dossier up: its timeline of events, OPCO calls and statuses.")
def command() -> None:
    pass


@command.command("show")
@click.argument("dossier_id")
@click.option("--cfa", default=None, help="The CFA's SIRET (found from the statuses if absent).")
@json_option()
@target_options
def show(**kwargs: Any) -> int:
    """The timeline of one dossier, by DOSSIER_ID (the CFA's id, the Kafka key of its events)."""
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.operator.dossier import render_text, show

    try:
        target = resolve_args(args)
        view = asyncio.run(show(target.settings, args.dossier_id, cfa=args.cfa))
    except RelaisError as exc:
        return fail("dossier", exc)
    if args.json:
        print(json.dumps(view.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_text(view))
    if view.cfa is None or (not view.commands and not view.timeline):
        print(f"relais dossier: nothing known about {args.dossier_id}", file=sys.stderr)
        return 1
    return 0
