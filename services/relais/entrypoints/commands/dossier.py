"""``relais dossier show ID``: a dossier's timeline of commands and statuses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from relais.errors import RelaisError
from relais.operator.target import add_target_arguments, resolve_args


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "dossier", help="Look a dossier up: its timeline of events, OPCO calls and statuses"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="the timeline of one dossier (the CFA's own id)")
    show.add_argument("dossier_id", help="the CFA's dossier id (the Kafka key of its events)")
    show.add_argument("--cfa", default=None, help="the CFA's SIRET (found from statuses if absent)")
    show.add_argument("--json", action="store_true", help="one JSON document")
    add_target_arguments(show)
    show.set_defaults(handler=handle)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def handle(args: argparse.Namespace) -> int:
    from relais.operator.dossier import render_text, show

    try:
        target = resolve_args(args)
        view = asyncio.run(show(target.settings, args.dossier_id, cfa=args.cfa))
    except RelaisError as exc:
        print(f"relais dossier: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(view.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_text(view))
    if view.cfa is None or (not view.commands and not view.timeline):
        print(f"relais dossier: nothing known about {args.dossier_id}", file=sys.stderr)
        return 1
    return 0
