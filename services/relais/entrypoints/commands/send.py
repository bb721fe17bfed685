"""``relais send FILE``: publish CFA events (CloudEvents structured JSON) to the input topic.
``relais send --attach FILE --type-fichier T --dossier ID --cfa SIRET``: store a file where the
CFA's file grants allow (``RELAIS_FILES__*``) and publish its ``fr.cfa.document.submitted.v1``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import click

from relais.entrypoints.exits import EX_USAGE, fail
from relais.entrypoints.options import file_path, namespace, target_options
from relais.errors import RelaisError
from relais.operator.target import resolve_args

TYPES_FICHIER = (  # relais.domain.document_event.TYPES_FICHIER (a test keeps them the same)
    "CONVENTION_FORMATION",
    "CONVENTION_REDUCTION_DUREE",
    "CONVENTION_MOBILITE",
    "FACTURE",
    "CERTIFICAT_REALISATION",
)


@click.command(
    "send", help="Publish a CFA event file (CloudEvents structured JSON) to the input topic."
)
@click.argument("file", type=file_path(dir_okay=False), required=False)
@click.option("--topic", default=None, help="Topic (default: RELAIS_KAFKA__INPUT_TOPIC).")
@click.option("--no-check", is_flag=True, help="Send as is, without checking the events.")
@click.option(
    "--attach",
    type=file_path(dir_okay=False, exists=True),
    default=None,
    help="A file (pdf, png, jpg) to store where the CFA's file grants allow, then publish as a "
    "document event (instead of FILE).",
)
@click.option("--type-fichier", type=click.Choice(TYPES_FICHIER), help="With --attach.")
@click.option("--dossier", default=None, help="With --attach: the CFA's dossier id.")
@click.option("--cfa", default=None, help="With --attach: the CFA's SIRET.")
@click.option("--facture", default=None, help="With --attach: the CFA's invoice number.")
@target_options
def command(**kwargs: Any) -> int:
    """Publish FILE: a JSON event, a JSON array of events, or JSON Lines."""
    args = namespace(**kwargs)
    if args.attach is not None:
        return handle_attach(args)
    if args.file is None:
        print("relais send: give FILE, or --attach FILE (see --help)", file=sys.stderr)
        return EX_USAGE
    return handle(args)


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


def handle_attach(args: argparse.Namespace) -> int:
    from relais.operator.attach import attach_with_settings

    missing = [
        f"--{n}"
        for n in ("type-fichier", "dossier", "cfa")
        if not getattr(args, n.replace("-", "_"))
    ]
    if missing or args.file is not None:
        problem = f"missing {', '.join(missing)}" if missing else "FILE and --attach together"
        print(f"relais send --attach: {problem}", file=sys.stderr)
        return EX_USAGE
    try:
        target = resolve_args(args)
        event, sent = asyncio.run(attach_with_settings(target.settings, args))
    except (RelaisError, OSError) as exc:
        return fail("send", exc)
    fichier = event["data"]["fichier"]
    shown = {"id": sent.event_id, "subject": sent.subject, "partition": sent.partition}
    shown |= {"offset": sent.offset, "fileName": fichier["fileName"], "sha256": fichier["sha256"]}
    shown |= {"size": fichier["size"], "scheme": fichier["location"].split(":", 1)[0]}
    print(json.dumps(shown))
    return 0
