"""``relais config check``: settings, credentials and profiles, checked, nothing started."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "config", help="Validate settings, credentials and profiles without starting anything"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser("check", help="check the settings relais would run with")
    check.add_argument("--json", action="store_true", help="one JSON document on stdout")
    check.add_argument(
        "--state-file", type=Path, default=None, help="demo state file (default .relais/demo.json)"
    )
    check.add_argument("--no-demo", action="store_true", help="ignore a running demo")
    check.set_defaults(handler=handle)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


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
    return 0 if report.errors == 0 else 1
