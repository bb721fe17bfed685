"""``relais run [--role ingest|dispatch|relay|poll ...]``: run relais until SIGTERM/SIGINT.

All four roles in one process by default; ``--role`` (repeatable, or comma-separated) picks some.
Settings come from the environment (``RELAIS_*``, see ``relais.config``). The first SIGTERM/SIGINT
starts a graceful shutdown bounded by ``shutdown_grace_s``; a second one exits at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from relais.config import ALL_ROLES

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_CRASH = 1


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "run", help="Run relais (all roles, or some with --role)", description=__doc__
    )
    parser.add_argument(
        "--role",
        action="append",
        default=None,
        metavar="ROLE",
        help=f"a role to run: {', '.join(ALL_ROLES)} (repeatable or comma-separated; default: all)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from relais.bootstrap import build, parse_roles
    from relais.config import isolation_problem, load_settings
    from relais.domain.dates import paris_today
    from relais.errors import ConfigurationError
    from relais.logging import configure_logging, get_logger
    from relais.operator.referentials import watch_referentials

    try:
        settings = load_settings()
        roles = parse_roles(
            [r.strip() for value in (args.role or []) for r in value.split(",") if r.strip()]
        )
    except (ValidationError, ConfigurationError) as exc:
        print(f"relais run: invalid configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    unbound = isolation_problem(settings) if "ingest" in roles else None
    if unbound is not None:
        print(f"relais run: invalid configuration: {unbound}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log)
    log = get_logger("relais.run")
    try:
        app = build(settings, roles)
    except ConfigurationError as exc:
        log.error("relais.config_invalid", error=str(exc))
        return EXIT_CONFIG
    watch_referentials(app.metrics, settings.schemas_dir, paris_today(app.clock.now()))
    try:
        asyncio.run(_serve(app))
    except Exception as exc:
        log.exception("relais.crashed", error=repr(exc))
        return EXIT_CRASH
    return EXIT_OK


async def _serve(app: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            os._exit(128 + signum)  # second signal: the operator insists
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    await app.serve(stop)
