"""``relais validate`` and ingest name the same envelope problem with the same code.

Each bad event below has one problem. It is fed to ``relais validate`` as a structured event and to
ingest's ``decide`` as the Kafka record a CFA would publish (binary mode: ``ce_*`` headers, the
data as the value); the codes each reports at the problem's attribute must be equal.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from relais.domain.referentials import load_referentials
from relais.entrypoints.commands.validate import validate_document
from relais.services.ingest import IngestPolicy, Record
from relais.services.ingest.decide import Context, decide
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import CFA, cerfa

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
REFERENTIALS = load_referentials()

GOOD: dict[str, Any] = {
    "specversion": "1.0",
    "id": "e-1",
    "type": "fr.cfa.dossier.submitted.v1",
    "source": f"urn:siret:{CFA}",
    "subject": "D-1",
    "time": "2026-11-27T08:00:00+01:00",
    "datacontenttype": "application/json",
    "data": {"opco": "AKTO", "cerfa": cerfa()},
}

# (case, the attribute changed (None: left out), its value, where the problem is reported)
CASES = [
    ("source not a CFA", "source", "not-a-siret", "source"),
    ("unknown type of a known kind", "type", "fr.cfa.dossier.archived.v1", "type"),
    ("unknown type", "type", "fr.cfa.autre.v1", "type"),
    ("type left out", "type", None, "type"),
    ("other specversion", "specversion", "0.3", "specversion"),
    ("time without offset", "time", "2026-11-27T08:00:00", "time"),
    ("time not a time", "time", "tomorrow", "time"),
    ("subject left out", "subject", None, "subject"),
    ("id too long", "id", "x" * 201, "id"),
    ("id left out", "id", None, "id"),
    ("not JSON data", "datacontenttype", "text/plain", "datacontenttype"),
    ("unknown data key", "data", {"opco": "AKTO", "cerfa": cerfa(), "autre": 1}, "data.autre"),
]


def event_with(attribute: str, value: object) -> dict[str, Any]:
    doc = {k: v for k, v in GOOD.items() if k != attribute}
    if value is not None:
        doc[attribute] = value
    return doc


def validate_codes(doc: dict[str, Any], where: str) -> list[str]:
    found = validate_document(doc, today=TODAY, referentials=REFERENTIALS).findings
    return [f.code for f in found if f.path == where]


def ingest_codes(doc: dict[str, Any], where: str) -> list[str]:
    headers = [(f"ce_{k}", str(v).encode()) for k, v in doc.items() if k != "data"]
    value = json.dumps(doc["data"]).encode()
    key = str(doc.get("subject", "D-1")).encode()
    record = Record("cfa.events.v1", 0, 7, key, value, headers)
    context = Context(IngestPolicy(), ExplicitOpcoRules(), NOW, TODAY)
    plan = decide(record, context)
    assert not hasattr(plan, "dossier_ids"), "a bad dossier event is decided without the ledger"
    path = where if where.startswith("data.") else f"ce_{where}"
    return [e.code for e in plan.result.errors if e.path == path]  # type: ignore[union-attr]


@pytest.mark.parametrize(("case", "attribute", "value", "where"), CASES, ids=[c[0] for c in CASES])
def test_validate_and_ingest_give_one_code_per_problem(
    case: str, attribute: str, value: object, where: str
) -> None:
    doc = event_with(attribute, value)
    by_validate = validate_codes(doc, where)
    by_ingest = ingest_codes(doc, where)
    assert by_validate, f"{case}: relais validate reports nothing at {where}"
    assert by_validate == by_ingest[:1], (case, by_validate, by_ingest)


def test_the_good_event_has_no_envelope_problem_for_either() -> None:
    for where in {case[3] for case in CASES}:
        assert validate_codes(GOOD, where) == [] and ingest_codes(GOOD, where) == [], where
