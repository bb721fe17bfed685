"""``relais config check``: settings, credentials and profiles, checked, nothing started."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from relais.entrypoints.exits import EX_CONFIG
from relais.entrypoints.options import file_path, json_option, namespace


@click.group(
    "config", help="Validate settings, credentials and profiles without starting anything."
)
def command() -> None:
    pass


@command.command("check")
@json_option()
@click.option(
    "--state-file",
    type=file_path(dir_okay=False),
    default=None,
    help="Demo state file (default: .relais/demo.json).",
)
@click.option("--no-demo", is_flag=True, help="Ignore a running demo's state file.")
def check(**kwargs: Any) -> int:
    """Check the settings relais would run with: every finding on one line, then a count.

    Exit 0 without errors (warnings allowed), 78 when the configuration has errors.
    """
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.operator.config_check import check_environment
    from relais.operator.target import DEFAULT_STATE_FILE, DemoState

    demo = None if args.no_demo else DemoState.read(args.state_file or DEFAULT_STATE_FILE)
    if demo is not None and not demo.alive:
        demo = None
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    report = check_environment(today=today, demo=demo)
    if args.json:
        doc = {
            "ok": report.errors == 0,
            "errors": report.errors,
            "warnings": report.warnings,
            "findings": [f.as_dict() for f in report.findings],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for f in report.findings:
            print(f"{f.level:<8}{f.area:<12}{f.message}")
        print(f"{report.errors} error(s), {report.warnings} warning(s)", file=sys.stderr)
    return 0 if report.errors == 0 else EX_CONFIG
