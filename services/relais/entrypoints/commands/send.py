"""``relais send FILE``: publish CFA events (CloudEvents structured JSON) to the input topic."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from relais.errors import RelaisError
from relais.operator.target import add_target_arguments, resolve_args


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "send", help="Publish a CFA event file (CloudEvents structured JSON) to the input topic"
    )
    parser.add_argument("file", type=Path, help="a JSON event, a JSON array of events, or JSONL")
    parser.add_argument("--topic", default=None, help="topic (default: kafka.input_topic)")
    parser.add_argument(
        "--no-check", action="store_true", help="send as is, without checking the events"
    )
    add_target_arguments(parser)
    parser.set_defaults(handler=handle)


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
        print(f"relais send: {exc}", file=sys.stderr)
        return 2
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
