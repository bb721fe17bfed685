"""``relais send FILE``: publish CFA events (CloudEvents structured JSON) to the input topic."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import file_path, namespace, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args


@click.command(
    "send", help="Publish a CFA event file (CloudEvents structured JSON) to the input topic."
)
@click.argument("file", type=file_path(dir_okay=False))
@click.option("--topic", default=None, help="Topic (default: RELAIS_KAFKA__INPUT_TOPIC).")
@click.option("--no-check", is_flag=True, help="Send as is, without checking the events.")
@target_options
def command(**kwargs: Any) -> int:
    """Publish FILE: a JSON event, a JSON array of events, or JSON Lines."""
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.domain.events import EventError
    from relais.operator.send import load_events, send

    try:
        target = resolve_args(args)
        events = load_events(args.file)
        sent = asyncio.run(
            send(target.settings.kafka, events, topic=args.topic, check=not args.no_check)
        )
    except EventError as exc:
        for err in exc.errors:
            print(f"{err.severity} {err.code} {err.path}: {err.message}", file=sys.stderr)
        return 1
    except (RelaisError, OSError) as exc:
        return fail("send", exc)
    for item in sent:
        print(
            json.dumps(
                {
                    "id": item.event_id,
                    "subject": item.subject,
                    "partition": item.partition,
                    "offset": item.offset,
                }
            )
        )
    return 0
