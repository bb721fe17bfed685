"""``relais dlq list|replay``: dead letters (records that could not be read as events)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from relais.errors import RelaisError
from relais.operator.target import add_target_arguments, resolve_args


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("dlq", help="List or replay dead letters")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="the dead letters, oldest first (values hidden)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    add_target_arguments(listing)
    listing.set_defaults(handler=handle_list)
    again = actions.add_parser("replay", help="send dead letters back to their original topic")
    again.add_argument("offsets", nargs="*", type=int, help="DLQ offsets to replay")
    again.add_argument("--all", action="store_true", help="every dead letter")
    again.add_argument("--reason", default=None, help="only dead letters with this dlq_reason")
    again.add_argument("--to-topic", default=None, help="another topic than the original one")
    again.add_argument(
        "--new-id",
        action="store_true",
        help="fresh ce_id (original kept in ce_replayof): ingest skips ids it already answered",
    )
    again.add_argument("--dry-run", action="store_true", help="show what would be replayed")
    add_target_arguments(again)
    again.set_defaults(handler=handle_replay)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def handle_list(args: argparse.Namespace) -> int:
    from relais.operator.dlq import list_dead_letters

    try:
        letters = asyncio.run(list_dead_letters(resolve_args(args).settings.kafka))
    except RelaisError as exc:
        print(f"relais dlq: {exc}", file=sys.stderr)
        return 2
    for letter in letters:
        print(json.dumps(letter.as_dict(), ensure_ascii=False) if args.json else letter.text())
    print(f"{len(letters)} dead letter(s)", file=sys.stderr)
    return 0


def handle_replay(args: argparse.Namespace) -> int:
    from relais.operator.dlq import list_dead_letters, replay, select, unreplayable

    if not args.offsets and not args.all and args.reason is None:
        print("relais dlq replay: give offsets, --reason or --all", file=sys.stderr)
        return 2
    try:
        kafka = resolve_args(args).settings.kafka
        letters = asyncio.run(list_dead_letters(kafka))
        chosen = select(
            letters, offsets=args.offsets, reason=args.reason, every=args.all or not args.offsets
        )
        if args.dry_run:
            for letter in chosen:
                print(f"would replay {letter.text()}")
            return 0
        for letter in unreplayable(chosen):
            print(
                f"relais dlq replay: offset {letter.offset} has no value in the DLQ; the original "
                f"is at {letter.origin}",
                file=sys.stderr,
            )
        sent = asyncio.run(replay(kafka, chosen, topic=args.to_topic, new_id=args.new_id))
    except RelaisError as exc:
        print(f"relais dlq: {exc}", file=sys.stderr)
        return 2
    for letter, topic, partition, offset in sent:
        print(f"replayed DLQ offset {letter.offset} -> {topic}:{partition}:{offset}")
    if not sent:
        print("relais dlq replay: nothing matched", file=sys.stderr)
        return 1
    return 0
