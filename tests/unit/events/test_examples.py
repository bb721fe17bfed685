"""The hand-checked example events under schemas/examples/ parse as envelopes and data models,
pass the control rules, and are what `relais send` publishes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from relais.domain.events import EventKind, parse_structured, structured_to_record
from relais.domain.referentials import default_schemas_dir, load_referentials
from relais.domain.validation import validate_cerfa, validate_followup

EXAMPLES = sorted((default_schemas_dir() / "examples").glob("*.json"))
WRITTEN_ON = date(2026, 11, 27)  # the rules depend on "today": the day they were written


def test_the_examples_cover_every_action() -> None:
    kinds = {parse_structured(json.loads(p.read_text(encoding="utf-8"))).kind for p in EXAMPLES}
    assert kinds == set(EventKind)
    assert {p.stem for p in EXAMPLES} >= {
        "dossier-initial",
        "convention",
        "facture",
        "rupture",
        "avenant",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_is_a_valid_event(path: Path) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    event = parse_structured(obj)
    key, headers, value = structured_to_record(obj)
    assert dict(headers)["ce_id"].decode() == event.id
    assert key.decode() == event.dossier_id
    assert json.loads(value) == obj["data"]
    if event.kind is EventKind.DOCUMENT:
        return  # a document has no control rules besides its model (parse_structured checked it)
    if event.kind is EventKind.DOSSIER:
        report = validate_cerfa(
            obj["data"]["cerfa"], today=WRITTEN_ON, referentials=load_referentials()
        )
    else:
        body = obj["data"][event.kind.value]
        report = validate_followup(event.kind.value, body, today=WRITTEN_ON)
    assert report.valid, [(f.code, f.path) for f in report.errors]


def test_follow_up_examples_name_the_example_dossier() -> None:
    by_name = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES}
    dossier_id = by_name["dossier-initial"]["subject"]
    for name in ("convention", "rupture", "avenant", "certificat"):
        assert by_name[name]["subject"] == dossier_id
    lignes = by_name["facture"]["data"]["facture"]["lignes"]
    assert [line["dossierId"] for line in lignes] == [dossier_id]
