"""``relais validate [FILE|-] [--today YYYY-MM-DD]``: run the control rules on one input, offline.

The input is a ``cerfa`` object, a request body ``{"cerfa": {...}}``, or a whole CFA event in
CloudEvents structured JSON (``{"specversion", "id", "type", "source", "subject", "data"}``). A
follow-up event (convention, facture, certificat, rupture) is checked with the follow-up rules.
Prints one JSON object ``{"valid", "opco", "errors", "warnings"}``; exit 0 without errors
(warnings allowed), 1 with errors, 2 when the input is not a JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from relais.domain.dates import paris_today
from relais.domain.findings import error
from relais.domain.followups import FOLLOWUP_KINDS
from relais.domain.referentials import Referentials, load_referentials
from relais.domain.rules.catalogue import catalogue_json
from relais.domain.validation import ValidationReport, report, validate_cerfa, validate_followup

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2

HELP = """Run the standard's control rules on one input, offline.

Input: a cerfa object, a request body {"cerfa": {...}, "opco"?: "AKTO"}, or a CFA event in
CloudEvents structured JSON (dossier, convention, facture, certificat or rupture).
Output: one JSON object {"valid", "opco", "errors", "warnings"}; each finding has a code,
a severity, a path (relative to the cerfa or follow-up body) and a French message.
Exit: 0 no error (warnings allowed), 1 errors, 2 input not a JSON object.

Example: relais validate tests/examples/dossiers/initial-11.json --today 2026-11-27
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="Validate a cerfa / request body / CFA event against the control rules",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", default="-", help="JSON file, or - for stdin (default)")
    parser.add_argument(
        "--today",
        type=_iso_date,
        default=None,
        help="business day for the date rules, YYYY-MM-DD (default: today in Europe/Paris)",
    )
    parser.add_argument(
        "--schemas-dir",
        type=Path,
        default=None,
        help="folder holding referentials/ (default: the repository's schemas/)",
    )
    parser.add_argument(
        "--rules",
        action="store_true",
        help="print the catalogue of finding codes (code, severity, section, summary) and exit",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.rules:
        print(json.dumps(catalogue_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    try:
        text = _read(args.file)
        doc = json.loads(text)
    except OSError as exc:
        return _bad_input(f"cannot read {args.file}: {exc.strerror or exc}")
    except (UnicodeDecodeError, RecursionError):
        return _bad_input("input is not UTF-8 JSON")
    except ValueError as exc:
        return _bad_input(f"input is not JSON ({exc.__class__.__name__})")
    if not isinstance(doc, dict):
        return _bad_input("input must be a JSON object (a cerfa, {'cerfa': ...} or an event)")
    today: date = args.today or paris_today(datetime.now(UTC))
    try:
        referentials = load_referentials(args.schemas_dir)
    except (OSError, ValueError) as exc:
        print(f"relais validate: cannot load referentials: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = validate_document(doc, today=today, referentials=referentials)
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK if result.valid else EXIT_INVALID


def validate_document(
    doc: dict[str, Any], *, today: date, referentials: Referentials
) -> ValidationReport:
    """Dispatch on the input's shape: event (dossier or follow-up), request body, bare cerfa."""
    if "specversion" in doc or ("type" in doc and "data" in doc):
        event_type = doc.get("type")
        data = doc.get("data")
        kind = _kind_of(event_type)
        if kind is None:
            return report([error("EVENEMENT_TYPE_INCONNU", "type", "Type d'événement inconnu.")])
        if kind == "dossier":
            cerfa = data.get("cerfa") if isinstance(data, dict) else None
            opco = data.get("opco") if isinstance(data, dict) else None
            return validate_cerfa(
                cerfa,
                today=today,
                referentials=referentials,
                explicit_opco=opco if isinstance(opco, str) else None,
            )
        body = data.get(kind) if isinstance(data, dict) and kind in data else data
        return validate_followup(kind, body, today=today)
    if "cerfa" in doc:
        opco = doc.get("opco")
        return validate_cerfa(
            doc["cerfa"],
            today=today,
            referentials=referentials,
            explicit_opco=opco if isinstance(opco, str) else None,
        )
    return validate_cerfa(doc, today=today, referentials=referentials)


def _kind_of(event_type: object) -> str | None:
    """``fr.cfa.facture.submitted.v1`` -> ``facture``; ``...dossier...`` -> ``dossier``."""
    if not isinstance(event_type, str):
        return None
    parts = event_type.lower().split(".")
    for kind in ("dossier", *FOLLOWUP_KINDS):
        if kind in parts:
            return kind
    return None


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8-sig")
    return Path(name).read_bytes().decode("utf-8-sig")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DD") from None


def _bad_input(message: str) -> int:
    print(f"relais validate: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
