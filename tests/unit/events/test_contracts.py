"""The generated JSON Schemas: committed files in sync with the models, and they accept what
relais and the generator actually produce."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from relais import contracts
from relais.domain.events import ErrorItem, EventKind, EventType
from relais.domain.opco import OpcoCode
from relais.domain.referentials import default_schemas_dir
from relais.domain.status import StatusEvent, Trigger
from relais.entrypoints.cli import main
from relais.sampledata import Generator

TODAY = date(2026, 11, 27)


@cache
def validator(name: str) -> Draft202012Validator:
    doc = json.loads((default_schemas_dir() / "events" / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(doc)
    return Draft202012Validator(doc)


def test_committed_schemas_match_the_models() -> None:
    drifts = contracts.check()
    assert drifts == [], f"run `relais schemas write`: {drifts}"


def test_one_schema_per_event_type_plus_envelope_and_status() -> None:
    names = {Path(rel).name for rel in contracts.event_schema_documents()}
    assert names == {f"{t.value}.json" for t in EventType} | {
        "envelope.v1.json",
        "status.v1.json",
        "README.md",
    }


def test_output_is_deterministic() -> None:
    assert contracts.generate() == contracts.generate()
    text = next(iter(contracts.generate().values()))
    assert text.endswith("}\n")


def test_generated_events_conform_to_their_schema() -> None:
    gen = Generator(4, TODAY)
    dossiers = [gen.dossier(cfa=gen.cfas[0]) for _ in range(20)]
    events: list[dict[str, Any]] = [d.event for d in dossiers]
    events += [gen.convention(dossiers[0]), gen.facture(dossiers[:3])]
    events += [gen.certificat(dossiers[1]), gen.rupture(dossiers[2])]
    events += [gen.avenant(dossiers[3]).event, gen.succession(23).event]
    envelope = validator("envelope.v1.json")
    for event in events:
        errors = list(validator(f"{event['type']}.json").iter_errors(event))
        assert errors == [], [e.message for e in errors]
        attrs = {k: v for k, v in event.items() if k != "data"}
        assert list(envelope.iter_errors(attrs)) == []


def test_schemas_reject_a_wrong_event() -> None:
    event = Generator(4, TODAY).rupture(Generator(4, TODAY).dossier())
    event["data"]["rupture"].pop("motif")
    event["source"] = "not-a-cfa"
    messages = [e.message for e in validator("fr.cfa.rupture.declared.v1.json").iter_errors(event)]
    assert len(messages) == 2


def test_status_values_conform_to_the_status_schema() -> None:
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    trigger = Trigger(event_id="e1", cfa="73282932000074", dossier_id="D1", kind=EventKind.DOSSIER)
    statuses = [
        StatusEvent.received(trigger, occurred_at=now, opco=OpcoCode.AKTO),
        StatusEvent.rejected(trigger, errors=[ErrorItem(code="X", path="a")], occurred_at=now),
        StatusEvent.submitted(trigger, opco=OpcoCode.AKTO, occurred_at=now, numero_interne="N"),
        StatusEvent.etat_changed(
            cfa="73282932000074",
            opco=OpcoCode.AKTO,
            kind=EventKind.DOSSIER,
            numero="N",
            etat="ENGAGE",
            previous_etat="TRANSMIS",
            occurred_at=now,
            engagement=7000.0,
            echeances=[{"numero": 1, "montantTotal": 2800.0, "dateOuverture": "2026-12-01"}],
        ),
    ]
    status = validator("status.v1.json")
    for event in statuses:
        assert list(status.iter_errors(json.loads(event.value()))) == []


def test_cli_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["schemas", "check", "--dir", str(tmp_path)])
    assert exc.value.code == 1
    assert "missing: events/status.v1.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["schemas", "write", "--dir", str(tmp_path)])
    assert exc.value.code == 0
    (tmp_path / "events" / "old.v0.json").write_text("{}\n", encoding="utf-8")
    status = tmp_path / "events" / "status.v1.json"
    status.write_text(status.read_text(encoding="utf-8") + " ", encoding="utf-8")
    assert {(d.path, d.problem) for d in contracts.check(tmp_path)} == {
        ("events/old.v0.json", "stale"),
        ("events/status.v1.json", "differs"),
    }
    with pytest.raises(SystemExit) as exc:
        main(["schemas", "write", "--dir", str(tmp_path)])
    assert contracts.check(tmp_path) == []
    assert not (tmp_path / "events" / "old.v0.json").exists()
    with pytest.raises(SystemExit) as exc:
        main(["schemas", "--dir", str(tmp_path)])
    assert exc.value.code == 0


def yaml_documents() -> dict[str, str]:
    return {"extra/doc.yaml": "asyncapi: 3.0.0\ninfo:\n  title: t"}


def test_other_sources_plug_in_and_may_render_text(tmp_path: Path) -> None:
    source = contracts.Source("yaml", f"{__name__}:yaml_documents", owns="extra")
    assert contracts.check(tmp_path, [source]) == [contracts.Drift("extra/doc.yaml", "missing")]
    assert contracts.write(tmp_path, [source]) == ["missing: extra/doc.yaml"]
    assert (tmp_path / "extra" / "doc.yaml").read_text(encoding="utf-8").endswith("title: t\n")
    assert contracts.check(tmp_path, [source]) == []
    both = [*contracts.SOURCES, source]
    contracts.write(tmp_path, both)
    assert contracts.check(tmp_path, both) == []
