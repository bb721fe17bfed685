"""``relais demo``: everything locally on embedded defaults, sample CFA events, a live view."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import click

from relais.entrypoints.options import file_path, namespace


@click.command(
    "demo",
    help=(
        "Run everything locally on embedded defaults, with sample CFA events.\n\n"
        "Starts an embedded Kafka-protocol broker, a SQLite ledger, the OPCO simulator and relais, "
        "publishes a realistic stream of CFA events and shows what happens. With --exit, stops "
        "once every event has its terminal status and every dossier settled, and prints one JSON "
        "summary (counts, latency, invariant checks) on stdout."
    ),
)
@click.option("--events", type=int, default=200, show_default=True, help="CFA events to publish.")
@click.option(
    "--exit", "exit_", is_flag=True, help="Stop when everything settled; JSON summary on stdout."
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Sample data seed.")
@click.option(
    "--day-seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="Real seconds per simulated OPCO day.",
)
@click.option(
    "--rate", type=float, default=80.0, show_default=True, help="Events published per second."
)
@click.option(
    "--timeout", type=float, default=600.0, show_default=True, help="Give up after N seconds."
)
@click.option("--no-faults", is_flag=True, help="No OPCO down, no 503s.")
@click.option("--no-live", is_flag=True, help="Progress lines, no live table.")
@click.option(
    "--workdir",
    type=file_path(file_okay=False),
    default=Path(".relais") / "demo",
    show_default=True,
    help="Where the demo writes.",
)
def command(**kwargs: Any) -> int:
    kwargs["exit"] = kwargs.pop("exit_")
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.adapters.embedded_broker import BrokerStartError, tansu_binary
    from relais.demo.runner import DemoOptions, run_demo

    try:
        tansu_binary()  # an optional extra: say how to get it before starting anything
    except BrokerStartError as exc:
        print(f"relais demo: {exc}", file=sys.stderr)
        return 2
    if args.events < 1:
        print("relais demo: --events must be at least 1", file=sys.stderr)
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
