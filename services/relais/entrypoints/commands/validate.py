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
import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from relais.domain.dates import paris_today
from relais.domain.events import (
    DATA_MODELS,
    MAX_ID,
    Envelope,
    EventType,
    envelope_error_code,
    schema_error_code,
)
from relais.domain.findings import Finding, error
from relais.domain.followups import FOLLOWUP_KINDS
from relais.domain.referentials import Referentials, load_referentials
from relais.domain.rules.catalogue import catalogue_json
from relais.domain.validation import ValidationReport, report, validate_cerfa, validate_followup

EXIT_OK, EXIT_INVALID, EXIT_BAD_INPUT = 0, 1, 2

HELP = """Run the standard's control rules on one input (FILE, or - for stdin), offline.

\b
Input: a cerfa object, a request body {"cerfa": {...}, "opco"?: "AKTO"}, or a CFA event in
CloudEvents structured JSON (dossier, convention, facture, certificat or rupture).
Output: one JSON object {"valid", "opco", "errors", "warnings"}; each finding has a code,
a severity, a path (relative to the cerfa or follow-up body; an event's own attributes such as
source or time, checked as relais's ingest reads them, by their name) and a French message.
Exit: 0 no error (warnings allowed), 1 errors, 2 input not a JSON object.

\b
Example: relais validate tests/examples/dossiers/initial-11.json --today 2026-11-27
"""


@click.command("validate", help=HELP)
@click.argument("file", default="-")
@click.option(
    "--today",
    callback=lambda _c, _p, v: _iso_date(v) if v is not None else None,
    default=None,
    metavar="YYYY-MM-DD",
    help="Business day for the date rules (default: today in Europe/Paris).",
)
@click.option(
    "--schemas-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder holding referentials/ (default: the bundled schemas/).",
)
@click.option(
    "--rules",
    is_flag=True,
    help="Print the catalogue of finding codes (code, severity, section, summary) and exit.",
)
def command(**kwargs: Any) -> int:
    return handle(argparse.Namespace(**kwargs))


def handle(args: argparse.Namespace) -> int:
    if args.rules:
        print(json.dumps(catalogue_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    try:
        text = _read(args.file)
        doc = json.loads(text, parse_constant=_reject_constant)
    except OSError as exc:
        return _bad_input(f"cannot read {args.file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return _bad_input("input is not UTF-8 JSON")
    except RecursionError:
        return _bad_input("input is not usable JSON (nested too deeply)")
    except json.JSONDecodeError as exc:
        return _bad_input(f"input is not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})")
    except ValueError as exc:
        return _bad_input(f"input is not JSON ({exc})")
    if not isinstance(doc, dict):
        return _bad_input("input must be a JSON object (a cerfa, {'cerfa': ...} or an event)")
    today: date = args.today or paris_today(datetime.now(UTC))
    try:
        referentials = load_referentials(args.schemas_dir)
    except (OSError, ValueError) as exc:
        print(f"relais validate: cannot load referentials: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = validate_document(doc, today=today, referentials=referentials)
    _emit(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return EXIT_OK if result.valid else EXIT_INVALID


def _emit(text: str) -> None:
    """Print the report; a reader that went away (``| head``) is not an error worth a traceback."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are Python's JSON extensions, not JSON."""
    raise ValueError(f"{name} is not JSON")


def validate_document(
    doc: dict[str, Any], *, today: date, referentials: Referentials
) -> ValidationReport:
    """Dispatch on the input's shape: event (dossier or follow-up), request body, bare cerfa."""
    if "specversion" in doc or ("type" in doc and "data" in doc):
        event_type = doc.get("type")
        data = doc.get("data")
        kind = _kind_of(event_type)
        if kind is None:
            code = envelope_error_code("type", "missing" if event_type is None else "enum")
            return report([error(code, "type", "Type d'événement inconnu.")])
        envelope = envelope_findings(doc)
        if kind == "dossier":
            cerfa = data.get("cerfa") if isinstance(data, dict) else None
            opco = data.get("opco") if isinstance(data, dict) else None
            result = validate_cerfa(
                cerfa,
                today=today,
                referentials=referentials,
                explicit_opco=opco if isinstance(opco, str) else None,
            )
        else:
            body = data.get(kind) if isinstance(data, dict) and kind in data else data
            result = validate_followup(kind, body, today=today)
        if not envelope:
            return result
        return report([*envelope, *result.findings], opco=result.opco)
    if "cerfa" in doc:
        opco = doc.get("opco")
        return validate_cerfa(
            doc["cerfa"],
            today=today,
            referentials=referentials,
            explicit_opco=opco if isinstance(opco, str) else None,
        )
    return validate_cerfa(doc, today=today, referentials=referentials)


_ENVELOPE_EXPECTED = {
    "specversion": "« 1.0 »",
    "id": f"l'identifiant unique de l'événement (1 à {MAX_ID} caractères)",
    "type": "un type d'événement CFA (fr.cfa.<objet>.<action>.v1)",
    "source": "le SIRET du CFA (urn:siret:<14 chiffres>) ou son UAI",
    "subject": f"l'identifiant du dossier chez le CFA (1 à {MAX_ID} caractères)",
    "time": "une date-heure RFC 3339 avec son fuseau",
    "datacontenttype": "« application/json »",
    "signature": "une signature HMAC hexadécimale",
}


def envelope_findings(doc: dict[str, Any]) -> list[Finding]:
    """What relais's ingest would reject in a structured event besides its cerfa or body.

    The CloudEvents attributes (``Envelope``, as ingest reads them) and, for a known type, the
    keys of ``data`` next to the body (the data models forbid any other). Paths name the event's
    own attributes (``source``, ``data.autre``), outside the cerfa.
    """
    findings: list[Finding] = []
    try:
        Envelope.model_validate({k: v for k, v in doc.items() if k != "data"})
    except ValidationError as exc:
        seen: set[str] = set()
        for err in exc.errors(include_input=False, include_url=False):
            attr = str(err["loc"][0]) if err["loc"] else ""
            if attr in seen:
                continue
            seen.add(attr)
            if err["type"] == "missing":
                text = f"attribut CloudEvents obligatoire manquant ({attr})"
            elif err["type"] == "extra_forbidden":
                text = f"attribut inconnu ({attr}), refusé par relais"
            else:
                expected = _ENVELOPE_EXPECTED.get(attr)
                text = f"attribut {attr} invalide" + (f", attendu : {expected}" if expected else "")
            code = envelope_error_code(attr, err["type"])
            findings.append(error(code, attr, f"Événement : {text}."))
    data = doc.get("data")
    event_type = doc.get("type")
    if isinstance(data, dict) and event_type in {t.value for t in EventType}:
        allowed = set(DATA_MODELS[EventType(event_type)].model_fields)
        for key in data:
            if key not in allowed:
                findings.append(
                    error(
                        schema_error_code("extra_forbidden"),
                        f"data.{key}" if _PLAIN_KEY.match(str(key)) else "data",
                        "Événement : champ inattendu dans data (attendus : "
                        f"{', '.join(sorted(allowed))}), refusé par relais.",
                    )
                )
    return findings


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,80}$")


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
        raise click.BadParameter("expected YYYY-MM-DD") from None


def _bad_input(message: str) -> int:
    print(f"relais validate: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
