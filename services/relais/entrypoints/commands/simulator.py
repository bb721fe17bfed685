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
from datetime import date
from pathlib import Path
from typing import Any


def admin_token(args: argparse.Namespace) -> str | None:
    """The admin token: ``--admin-token``, else ``--admin-token-file``, else the environment."""
    if args.admin_token:
        return str(args.admin_token)
    if args.admin_token_file is not None:
        return args.admin_token_file.read_text(encoding="utf-8").strip() or None
    from relais_simulator.config import ADMIN_TOKEN_ENV

    return os.environ.get(ADMIN_TOKEN_ENV) or None


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "simulator", help="Run the convergence-API simulator for the 11 OPCO"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 = a free port (see handshake)")
    parser.add_argument("--keys", type=Path, help="CSV siret,opco,key,expiry of CFA API keys")
    parser.add_argument(
        "--oauth-clients", type=Path, help="CSV opco,client_id,client_secret (AKTO OAuth2)"
    )
    parser.add_argument("--faults", type=Path, help='JSON {"AKTO": {...FaultSpec}, "*": {...}}')
    parser.add_argument(
        "--day-seconds",
        type=float,
        default=0.0,
        help="real seconds per simulated day (0 = time moves only through the admin API)",
    )
    parser.add_argument(
        "--admin-token",
        help="bearer token of /_admin (visible in ps: prefer $RELAIS_SIMULATOR_ADMIN_TOKEN or "
        "--admin-token-file; generated if none is given)",
    )
    parser.add_argument(
        "--admin-token-file", type=Path, help="a file holding the bearer token of /_admin"
    )
    parser.add_argument("--start-date", type=date.fromisoformat, help="simulated first day")
    parser.add_argument("--refusal-rate", type=float, help="share of dossiers refused (0-1)")
    parser.add_argument(
        "--instruction-days",
        type=float,
        default=1.0,
        help="days before a dossier (or facture) goes EN_COURS_INSTRUCTION",
    )
    parser.add_argument(
        "--decision-days",
        type=_day_range,
        default=(2, 3),
        metavar="MIN[:MAX]",
        help="days from submission to the OPCO's decision (per dossier, within the range)",
    )
    parser.add_argument(
        "--payment-days", type=float, default=2.0, help="days from instruction to payment"
    )
    parser.add_argument(
        "--facture-refusal-rate", type=float, help="share of factures refused (0-1)"
    )
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="OAuth2 token lifetime (s)")
    parser.add_argument("--no-rate-limit", action="store_true", help="ignore profile rate limits")
    parser.add_argument(
        "--structural-only",
        action="store_true",
        help="skip relais's control rules, check only the structure of dossiers",
    )
    parser.add_argument(
        "--followup-rules",
        action="store_true",
        help="also apply relais's control rules to conventions, factures, certificats, ruptures",
    )
    parser.add_argument("--profiles", type=Path, help="OPCO profiles JSON (default: schemas/)")
    parser.add_argument("--npec", type=Path, help="NPEC referential CSV (default: synthetic)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-records",
        type=int,
        default=1_000_000,
        help="request records kept for /_admin/records (oldest dropped first)",
    )
    parser.add_argument("--log-level", default="warning")
    parser.set_defaults(handler=handle)


def _day_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError("expected MIN or MIN:MAX (whole days)") from None
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError("expected 0 <= MIN <= MAX")
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
