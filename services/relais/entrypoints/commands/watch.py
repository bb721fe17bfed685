"""``relais watch``: follow status events (all, or one CFA / dossier / OPCO)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from typing import Any

from relais.errors import RelaisError
from relais.operator.target import add_target_arguments, resolve_args


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("watch", help="Follow status events")
    parser.add_argument("--cfa", default=None, help="only this CFA (SIRET)")
    parser.add_argument("--dossier", default=None, help="only this dossier (the CFA's id)")
    parser.add_argument("--opco", default=None, help="only this OPCO (code)")
    parser.add_argument("--event", default=None, help="only statuses of this CFA event id")
    parser.add_argument(
        "--from-beginning", action="store_true", help="replay the topic from its start"
    )
    parser.add_argument(
        "--no-follow", action="store_true", help="stop once the topic is read (idle 1 s)"
    )
    parser.add_argument("--timeout", type=float, default=None, help="stop after N seconds")
    parser.add_argument("--limit", type=int, default=None, help="stop after N status events")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--topic", default=None, help="status topic (default: kafka.status_topic)")
    add_target_arguments(parser)
    parser.set_defaults(handler=handle)


async def _watch(args: argparse.Namespace) -> int:
    from relais.operator.watch import StatusFilter, statuses

    target = resolve_args(args)
    keep = StatusFilter(cfa=args.cfa, dossier=args.dossier, opco=args.opco, event=args.event)
    kafka = target.settings.kafka
    if args.topic:
        kafka = kafka.model_copy(update={"status_topic": args.topic})
    count = 0
    lines = statuses(
        kafka,
        keep=keep,
        from_beginning=args.from_beginning or args.no_follow,
        follow=not args.no_follow,
        timeout_s=args.timeout,
    )
    async with contextlib.aclosing(lines) as stream:
        async for line in stream:
            print(json.dumps(line.as_json(), ensure_ascii=False) if args.json else line.text())
            sys.stdout.flush()
            count += 1
            if args.limit is not None and count >= args.limit:
                break
    return 0


def handle(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_watch(args))
    except RelaisError as exc:
        print(f"relais watch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # ``relais watch | head``
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit-time flush
        return 0
