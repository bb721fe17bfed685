"""``relais watch``: follow status events (all, or one CFA / dossier / OPCO)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from typing import Any

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import json_option, namespace, opco_choice, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args


@click.command("watch", help="Follow status events (all, or one CFA, dossier, OPCO or event).")
@click.option("--cfa", default=None, help="Only this CFA (SIRET).")
@click.option("--dossier", default=None, help="Only this dossier (the CFA's id).")
@click.option("--opco", type=opco_choice(), default=None, help="Only this OPCO.")
@click.option("--event", default=None, help="Only the statuses of this CFA event id.")
@click.option("--from-beginning", is_flag=True, help="Replay the topic from its start.")
@click.option("--no-follow", is_flag=True, help="Stop once the topic is read (idle 1 s).")
@click.option("--timeout", type=float, default=None, help="Stop after N seconds.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after N statuses.")
@json_option("One JSON object per line.")
@click.option("--topic", default=None, help="Status topic (default: RELAIS_KAFKA__STATUS_TOPIC).")
@target_options
def command(**kwargs: Any) -> int:
    return handle(namespace(**kwargs))


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
        return fail("watch", exc)
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # ``relais watch | head``
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the exit-time flush
        return 0
