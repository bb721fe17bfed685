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

import click

from relais.config import ALL_ROLES
from relais.entrypoints.options import namespace

EXIT_OK = 0
EXIT_CONFIG = 78  # sysexits EX_CONFIG; 69 (EX_UNAVAILABLE) for a dependency down
EXIT_CRASH = 1


def _roles(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    roles = [r.strip() for item in value for r in item.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        raise click.BadParameter(
            f"unknown role(s) {', '.join(unknown)}; choose among {', '.join(ALL_ROLES)}"
        )
    return roles


@click.command(
    "run",
    help=(
        "Run relais until SIGTERM or SIGINT: all four roles in one process by default.\n\n"
        "Settings come from RELAIS_* environment variables. The first signal starts a graceful "
        "shutdown bounded by RELAIS_SHUTDOWN_GRACE_S; a second one exits at once. Exit codes: "
        "78 configuration, 69 the ledger or the broker unreachable at start, 1 a crash."
    ),
)
@click.option(
    "--role",
    multiple=True,
    callback=_roles,
    metavar="ROLE",
    shell_complete=lambda _c, _p, incomplete: [r for r in ALL_ROLES if r.startswith(incomplete)],
    help=f"A role to run: {', '.join(ALL_ROLES)} (repeatable or comma-separated; default: all).",
)
def command(**kwargs: Any) -> int:
    return handle(namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    from relais.bootstrap import build, parse_roles
    from relais.config import isolation_problem
    from relais.config_errors import load_settings_or_fail
    from relais.domain.dates import paris_today
    from relais.errors import ConfigurationError
    from relais.logging import configure_logging, get_logger
    from relais.operator.referentials import watch_referentials
    from relais.startup import start_failure

    try:
        settings = load_settings_or_fail()
        roles = parse_roles(list(args.role or []))
    except ConfigurationError as exc:
        print(f"relais run: {exc} (check with `relais config check`)", file=sys.stderr)
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
        log.error("relais.config_invalid", error=str(exc), hint=start_failure(exc).hint)
        return EXIT_CONFIG
    watch_referentials(app.metrics, settings.schemas_dir, paris_today(app.clock.now()))
    try:
        asyncio.run(_serve(app))
    except Exception as exc:
        why = start_failure(exc)
        if why.expected:  # already logged with its hint by App.serve: no traceback
            log.error("relais.exited", reason=why.reason, exit_code=why.code)
        else:
            log.exception("relais.crashed", error=why.reason)
        return why.code
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
