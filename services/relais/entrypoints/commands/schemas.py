"""``relais schemas [write|check|register]``: the generated contract documents under ``schemas/``.

``check`` (the default) exits 1 when a committed document differs from what the code generates
(CI runs it); ``write`` regenerates them. The documents come from ``relais.contracts.SOURCES``.
``register --registry URL`` puts the event types' data schemas into a Confluent-compatible
schema registry (``relais.operator.registry``), one subject ``<topic>-<ce_type>`` per topic.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import click

from relais.entrypoints.options import file_path, namespace


@click.command(
    "schemas",
    help=(
        "Write or check the generated JSON Schema, AsyncAPI and OpenAPI documents.\n\n"
        "check (the default) exits 1 when a committed document differs from what the code "
        "generates; write regenerates them; register puts the event schemas into a "
        "Confluent-compatible schema registry (subjects <topic>-<ce_type>)."
    ),
)
@click.argument("action", type=click.Choice(["check", "write", "register"]), default="check")
@click.option(
    "--registry",
    default=None,
    help="register: the registry's Confluent-compatible API (e.g. "
    "http://localhost:8080/apis/ccompat/v7).",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    default=("cfa.events.v1",),
    show_default=True,
    help="register: a topic whose subjects to register (repeatable).",
)
@click.option(
    "--dir",
    type=file_path(file_okay=False),
    default=None,
    help="The schemas/ folder (default: the repository's).",
)
@click.option("--only", multiple=True, help="Restrict to these sources (repeatable).")
def command(**kwargs: Any) -> int:
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais import contracts

    sources = contracts.SOURCES
    if args.only:
        unknown = set(args.only) - {s.name for s in sources}
        if unknown:
            print(f"relais schemas: unknown source(s) {sorted(unknown)}", file=sys.stderr)
            return 2
        sources = tuple(s for s in sources if s.name in args.only)
    if args.action == "register":
        return _register(args)
    if args.action == "write":
        changed = contracts.write(args.dir, sources)
        for line in changed:
            print(line)
        print(f"relais schemas: {len(changed)} file(s) updated")
        return 0
    drifts = contracts.check(args.dir, sources)
    for drift in drifts:
        print(f"{drift.problem}: {drift.path}", file=sys.stderr)
    if drifts:
        print("relais schemas: out of date; run `relais schemas write`", file=sys.stderr)
        return 1
    print("relais schemas: up to date")
    return 0


def _register(args: argparse.Namespace) -> int:
    import asyncio

    from relais.errors import RelaisError
    from relais.operator.registry import register_schemas

    if not args.registry:
        print("relais schemas register: --registry URL is required", file=sys.stderr)
        return 2
    try:
        done = asyncio.run(register_schemas(args.registry, args.topics, args.dir))
    except RelaisError as exc:
        print(f"relais schemas register: {exc}", file=sys.stderr)
        return 69
    for subject, schema_id in done:
        print(f"{subject}: id {schema_id}")
    print(f"relais schemas: {len(done)} schema(s) registered")
    return 0
