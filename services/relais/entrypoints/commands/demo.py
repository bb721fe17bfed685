"""``relais demo``: everything locally on embedded defaults, sample CFA events, a live view."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="Run everything locally on embedded defaults, with sample CFA events",
        description=(
            "Starts an embedded Kafka-protocol broker, a SQLite ledger, the OPCO simulator and "
            "relais, publishes a realistic stream of CFA events and shows what happens. With "
            "--exit, stops once every event has its terminal status and every dossier settled, "
            "and prints one JSON summary (counts, latency, invariant checks) on stdout."
        ),
    )
    parser.add_argument("--events", type=int, default=200, help="CFA events to publish")
    parser.add_argument(
        "--exit", action="store_true", help="stop when everything settled; JSON summary on stdout"
    )
    parser.add_argument("--seed", type=int, default=2026, help="sample data seed")
    parser.add_argument(
        "--day-seconds", type=float, default=1.0, help="real seconds per simulated OPCO day"
    )
    parser.add_argument("--rate", type=float, default=80.0, help="events published per second")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after N seconds")
    parser.add_argument("--no-faults", action="store_true", help="no OPCO down, no 503s")
    parser.add_argument("--no-live", action="store_true", help="progress lines, no live table")
    parser.add_argument(
        "--workdir", type=Path, default=Path(".relais") / "demo", help="where the demo writes"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from relais.adapters.embedded_broker import BrokerStartError, tansu_binary
    from relais.demo.runner import DemoOptions, run_demo

    try:
        tansu_binary()  # an optional extra: say how to get it before starting anything
    except BrokerStartError as exc:
        print(f"relais demo: {exc}", file=sys.stderr)
        return 2
    if args.events < 1:
        print("relais demo: --events must be at least 1")
        return 2
    opts = DemoOptions(
        events=args.events,
        exit_when_done=args.exit,
        seed=args.seed,
        day_seconds=args.day_seconds,
        rate_per_s=args.rate,
        timeout_s=args.timeout,
        workdir=args.workdir,
        live=False if args.no_live else None,
    )
    if args.no_faults:
        opts.down_opco = None
        opts.flaky_opco = None
    return run_demo(opts)
