"""``relais opco probe``: a configured OPCO endpoint against its profile (read-only calls)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import json_option, namespace, opco_choice


@click.group("opco", help="Look at an OPCO endpoint as relais sees it.")
def command() -> None:
    pass


@command.command("probe")
@click.option("--opco", "opco", type=opco_choice(), required=True, help="The OPCO to probe.")
@click.option("--cfa", default=None, metavar="SIRET", help="Call as this CFA (default: the first).")
@click.option("--base-url", default=None, help="The OPCO's root (default: the configured one).")
@json_option()
def probe(**kwargs: Any) -> int:
    """Token, status, cfakeyinfo and one etats page (read-only): which auth worked, which shapes
    came back, what differs from the profile. Exit 1 when something differs."""
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.adapters.credentials import load_credentials
    from relais.config import load_settings
    from relais.domain.opco import OpcoCode
    from relais.errors import RelaisError
    from relais.operator.probe import probe as run_probe

    try:
        settings = load_settings()
        credentials = load_credentials(settings)
        report = asyncio.run(
            run_probe(
                settings, credentials, OpcoCode(args.opco), cfa=args.cfa, base_url=args.base_url
            )
        )
    except RelaisError as exc:
        return fail("opco probe", exc)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.text())
    return 1 if report.differs else 0
