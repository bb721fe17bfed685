"""``relais opco pause|resume|status``: pause an OPCO for its maintenance window (in the ledger);
``relais opco probe``: a configured OPCO endpoint against its profile (read-only calls)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from relais.entrypoints.exits import fail
from relais.entrypoints.options import file_path, json_option, namespace, opco_choice

STATE_FILE_HELP = "Demo state file (default: .relais/demo.json)."


class UntilParam(click.ParamType[datetime]):
    """``--until``: an ISO 8601 date-time (Paris time without an offset) or a duration (2h)."""

    name = "WHEN"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        from relais.errors import InputError
        from relais.operator.opco import parse_until

        try:
            return parse_until(str(value), datetime.now(UTC))
        except InputError as exc:
            self.fail(str(exc).removeprefix("--until "), param, ctx)


def _ledger_options(func: Any) -> Any:
    func = click.option("--no-demo", is_flag=True, help="Ignore a running demo's state file.")(func)
    return click.option(
        "--state-file", type=file_path(dir_okay=False), default=None, help=STATE_FILE_HELP
    )(func)


@click.group(
    "opco",
    help="Pause or resume an OPCO (its maintenance window): its commands wait in the ledger, "
    "no attempt spent, in order, on every replica. Probe an OPCO endpoint against its profile.",
)
def command() -> None:
    pass


@command.command("pause")
@click.argument("opco", type=opco_choice())
@click.option(
    "--until",
    type=UntilParam(),
    default=None,
    help="When the pause ends by itself: an ISO 8601 date-time (Paris time without an offset) "
    "or a duration from now (90m, 2h, 1h30m, 1d). Default: until `relais opco resume`.",
)
@click.option("--reason", default=None, help="A note for the operators (not sent to the CFAs).")
@_ledger_options
def pause(**kwargs: Any) -> int:
    """Hold every command of OPCO until it is resumed (or --until passes)."""
    return handle(namespace(action="pause", **kwargs))


@command.command("resume")
@click.argument("opco", type=opco_choice())
@_ledger_options
def resume(**kwargs: Any) -> int:
    """Release OPCO's commands (in order, no attempt spent)."""
    return handle(namespace(action="resume", **kwargs))


@command.command("status")
@json_option()
@_ledger_options
def status(**kwargs: Any) -> int:
    """Which OPCOs are paused, since when, until when and why."""
    return handle(namespace(action="status", **kwargs))


@command.command("probe")
@click.option("--opco", "opco", type=opco_choice(), required=True, help="The OPCO to probe.")
@click.option("--cfa", default=None, metavar="SIRET", help="Call as this CFA (default: the first).")
@click.option("--base-url", default=None, help="The OPCO's root (default: the configured one).")
@json_option()
def probe(**kwargs: Any) -> int:
    """Token, status, cfakeyinfo and one etats page (read-only): which auth worked, which shapes
    came back, what differs from the profile. Exit 1 when something differs."""
    return handle_probe(namespace(**kwargs))


def handle_probe(args: argparse.Namespace) -> int:
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


def handle(args: argparse.Namespace) -> int:
    from relais.errors import RelaisError
    from relais.operator import opco
    from relais.operator.target import resolve

    try:
        target = resolve(state_file=args.state_file, use_demo=not args.no_demo, need_kafka=False)
        url = opco.ledger_url(target.settings, demo=target.demo is not None)
        if args.action == "pause":
            reason = opco.check_reason(args.reason)
            paused = asyncio.run(opco.pause(url, args.opco, until=args.until, reason=reason))
            line = opco.PauseLine.of(paused, datetime.now(UTC))
            print(f"{args.opco} paused until {opco.until_text(line.until)}")
        elif args.action == "resume":
            if not asyncio.run(opco.resume(url, args.opco)):
                print(f"relais opco: {args.opco} was not paused", file=sys.stderr)
                return 1
            print(f"{args.opco} resumed: its commands go out again, in order")
        else:
            now = datetime.now(UTC)
            lines = [opco.PauseLine.of(p, now) for p in asyncio.run(opco.pauses(url))]
            if args.json:
                print(json.dumps([line.as_dict() for line in lines], ensure_ascii=False))
            else:
                print(opco.render(lines))
    except RelaisError as exc:
        return fail("opco", exc)
    return 0
