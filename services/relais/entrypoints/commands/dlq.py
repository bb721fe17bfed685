"""``relais dlq list|replay``: dead letters (records that could not be read as events)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import click

from relais.entrypoints.exits import EX_USAGE, fail
from relais.entrypoints.options import json_option, namespace, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args


@click.group("dlq", help="List or replay dead letters (records that could not be read as events).")
def command() -> None:
    pass


@command.command("list")
@json_option("One JSON object per line.")
@target_options
def listing(**kwargs: Any) -> int:
    """The dead letters, oldest first (their values hidden)."""
    return handle_list(namespace(**kwargs))


@command.command("replay")
@click.argument("offsets", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every dead letter.")
@click.option("--reason", default=None, help="Only dead letters with this dlq_reason.")
@click.option("--to-topic", default=None, help="Another topic than the original one.")
@click.option(
    "--new-id",
    is_flag=True,
    help="A fresh ce_id (the original kept in ce_replayof): ingest skips ids it already answered.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be replayed, send nothing.")
@target_options
def again(**kwargs: Any) -> int:
    """Send dead letters (by their DLQ OFFSETS, --reason or --all) back to their original topic."""
    kwargs["all"] = kwargs.pop("every")
    kwargs["offsets"] = list(kwargs["offsets"])
    return handle_replay(namespace(**kwargs))


def handle_list(args: argparse.Namespace) -> int:
    from relais.operator.dlq import list_dead_letters

    try:
        letters = asyncio.run(list_dead_letters(resolve_args(args).settings.kafka))
    except RelaisError as exc:
        return fail("dlq", exc)
    for letter in letters:
        print(json.dumps(letter.as_dict(), ensure_ascii=False) if args.json else letter.text())
    print(f"{len(letters)} dead letter(s)", file=sys.stderr)
    return 0


def handle_replay(args: argparse.Namespace) -> int:
    from relais.operator.dlq import list_dead_letters, replay, select, unreplayable

    if not args.offsets and not args.all and args.reason is None:
        print("relais dlq replay: give offsets, --reason or --all", file=sys.stderr)
        return EX_USAGE
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
        return fail("dlq", exc)
    for letter, topic, partition, offset in sent:
        print(f"replayed DLQ offset {letter.offset} -> {topic}:{partition}:{offset}")
    if not sent:
        print("relais dlq replay: nothing matched", file=sys.stderr)
        return 1
    return 0
