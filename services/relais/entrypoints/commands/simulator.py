"""`relais simulator`: run the convergence-API simulator for the 11 OPCO (one HTTP server).

Thin: parse the flags, build a ``SimulatorConfig``, run uvicorn. Prints one handshake line on
stdout once listening (``relais-simulator listening on http://HOST:PORT``) and, when the admin
token was not given, the generated one on stderr.

The admin token is best given by the ``RELAIS_SIMULATOR_ADMIN_TOKEN`` environment variable or a
file (``--admin-token-file``): a command-line argument is visible to every user of the machine
(``ps``, ``/proc/PID/cmdline``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import click

from relais.entrypoints.options import file_path, namespace


def admin_token(args: argparse.Namespace) -> str | None:
    """The admin token: ``--admin-token``, else ``--admin-token-file``, else the environment."""
    if args.admin_token:
        return str(args.admin_token)
    if args.admin_token_file is not None:
        return args.admin_token_file.read_text(encoding="utf-8").strip() or None
    from relais_simulator.config import ADMIN_TOKEN_ENV

    return os.environ.get(ADMIN_TOKEN_ENV) or None


def _days(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        return _day_range(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(
    "simulator",
    help=(
        "Run the convergence-API simulator for the 11 OPCO (one HTTP server).\n\n"
        "Prints 'relais-simulator listening on http://HOST:PORT' on stdout once listening and, "
        "when no admin token was given, the generated one on stderr. Give the admin token by "
        "$RELAIS_SIMULATOR_ADMIN_TOKEN or --admin-token-file: a command-line argument is "
        "visible to every user of the machine."
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8765, show_default=True, help="0 = a free port.")
@click.option("--keys", type=file_path(), help="CSV siret,opco,key,expiry of the CFA API keys.")
@click.option(
    "--oauth-clients", type=file_path(), help="CSV opco,client_id,client_secret (AKTO OAuth2)."
)
@click.option("--faults", type=file_path(), help='JSON {"AKTO": {...FaultSpec}, "*": {...}}.')
@click.option(
    "--day-seconds",
    type=float,
    default=0.0,
    show_default=True,
    help="Real seconds per simulated day (0 = time moves only through the admin API).",
)
@click.option(
    "--admin-token",
    help="Bearer token of /_admin (visible in ps: prefer the environment or a file).",
)
@click.option("--admin-token-file", type=file_path(), help="A file holding the /_admin token.")
@click.option(
    "--start-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Simulated first day."
)
@click.option("--refusal-rate", type=click.FloatRange(0, 1), help="Share of dossiers refused.")
@click.option(
    "--instruction-days",
    type=float,
    default=1.0,
    show_default=True,
    help="Days before a dossier (or facture) goes EN_COURS_INSTRUCTION.",
)
@click.option(
    "--decision-days",
    default="2:3",
    show_default=True,
    callback=_days,
    metavar="MIN[:MAX]",
    help="Days from submission to the OPCO's decision (per dossier, within the range).",
)
@click.option(
    "--payment-days",
    type=float,
    default=2.0,
    show_default=True,
    help="Days from instruction to payment.",
)
@click.option(
    "--facture-refusal-rate", type=click.FloatRange(0, 1), help="Share of factures refused."
)
@click.option(
    "--token-ttl", type=float, default=3600.0, show_default=True, help="OAuth2 token lifetime (s)."
)
@click.option("--no-rate-limit", is_flag=True, help="Ignore the profiles' rate limits.")
@click.option(
    "--structural-only",
    is_flag=True,
    help="Skip relais's control rules; check only the structure of dossiers.",
)
@click.option(
    "--followup-rules",
    is_flag=True,
    help="Also apply relais's control rules to conventions, factures, certificats, ruptures.",
)
@click.option("--profiles", type=file_path(), help="OPCO profiles JSON (default: schemas/).")
@click.option("--npec", type=file_path(), help="NPEC referential CSV (default: synthetic).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--max-records",
    type=int,
    default=1_000_000,
    show_default=True,
    help="Request records kept for /_admin/records (oldest dropped first).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug", "trace"]),
    default="warning",
    show_default=True,
    help="uvicorn's log level.",
)
def command(**kwargs: Any) -> int:
    if kwargs["start_date"] is not None:
        kwargs["start_date"] = kwargs["start_date"].date()
    return handle(namespace(**kwargs))


def _day_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise ValueError("expected MIN or MIN:MAX (whole days)") from None
    if lo < 0 or hi < lo:
        raise ValueError("expected 0 <= MIN <= MAX")
    return lo, hi


def handle(args: argparse.Namespace) -> int:
    from relais_simulator.config import SimulatorConfig
    from relais_simulator.server import run

    kwargs: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "day_seconds": args.day_seconds,
        "token_ttl_s": args.token_ttl,
        "rate_limit": not args.no_rate_limit,
        "use_rules": not args.structural_only,
        "followup_rules": args.followup_rules,
        "seed": args.seed,
        "max_records": args.max_records,
    }
    try:
        token = admin_token(args)
    except OSError as exc:
        print(f"relais simulator: admin token file: {exc.strerror}", file=sys.stderr)
        return 2
    if token:
        kwargs["admin_token"] = token
    if args.start_date:
        kwargs["start_date"] = args.start_date
    if args.profiles:
        kwargs["profiles_path"] = args.profiles
    if args.npec:
        kwargs["npec_path"] = args.npec
    try:
        config = SimulatorConfig.from_files(
            keys_file=args.keys, oauth_file=args.oauth_clients, faults_file=args.faults, **kwargs
        )
    except (OSError, ValueError) as exc:
        print(f"relais simulator: {exc}", file=sys.stderr)
        return 2
    if args.refusal_rate is not None:
        config.instruction.refusal_rate = args.refusal_rate
    ins = config.instruction
    ins.days_to_instruction = ins.facture_days_to_instruction = args.instruction_days
    ins.days_to_decision_min, ins.days_to_decision_max = args.decision_days
    ins.facture_days_to_payment = args.payment_days
    if args.facture_refusal_rate is not None:
        config.instruction.facture_refusal_rate = args.facture_refusal_rate
    config.instruction.seed = args.seed
    if not token:
        print(f"relais simulator: admin token {config.admin_token}", file=sys.stderr, flush=True)
    return run(config, log_level=args.log_level)
