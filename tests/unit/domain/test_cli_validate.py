"""`relais validate` and `relais route` as a CFA developer runs them (real subprocesses)."""

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from relais.entrypoints.cli import main

from .conftest import EXAMPLES

RELAIS = str(Path(sys.executable).parent / "relais")
TODAY = ["--today", "2026-11-27"]


def relais(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RELAIS, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def output(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stdout)
    assert set(data) == {"valid", "opco", "errors", "warnings"}
    return data


def test_valid_cerfa_file_exits_0() -> None:
    proc = relais("validate", str(EXAMPLES / "dossiers" / "initial-11.json"), *TODAY)
    assert proc.returncode == 0, proc.stderr
    assert output(proc) == {"valid": True, "opco": "ATLAS", "errors": [], "warnings": []}


def test_invalid_cerfa_exits_1_with_paths_relative_to_the_cerfa() -> None:
    proc = relais("validate", str(EXAMPLES / "dossiers" / "invalid-many.json"), *TODAY)
    assert proc.returncode == 1
    data = output(proc)
    assert data["valid"] is False and data["opco"] is None
    paths = {e["path"] for e in data["errors"]}
    assert {"employeur.siret", "apprenti.nir", "contrat.remunerationsAnnuelles[0].taux"} <= paths
    assert all(set(e) == {"code", "severity", "path", "message"} for e in data["errors"])
    assert "Traceback" not in proc.stderr


def test_request_body_from_stdin_with_explicit_opco() -> None:
    cerfa = json.loads((EXAMPLES / "dossiers" / "initial-11.json").read_text(encoding="utf-8"))
    cerfa["employeur"]["codeIdcc"] = "9999"
    body = json.dumps({"cerfa": cerfa, "opco": "OPCO EP"})
    proc = relais("validate", "-", *TODAY, stdin=body)
    assert proc.returncode == 0, proc.stdout
    assert output(proc)["opco"] == "OPCOEP"
    proc = relais("validate", *TODAY, stdin=json.dumps({"cerfa": cerfa}))
    assert proc.returncode == 1
    assert [e["path"] for e in output(proc)["errors"]] == ["employeur.codeIdcc"]


def test_cloudevents_dossier_event_paths_are_relative_to_the_cerfa() -> None:
    event = json.loads((EXAMPLES / "events" / "dossier-submitted.json").read_text(encoding="utf-8"))
    event["data"]["cerfa"]["apprenti"]["nir"] = "107037512345681"
    proc = relais("validate", *TODAY, stdin=json.dumps(event))
    assert proc.returncode == 1
    assert [(e["code"], e["path"]) for e in output(proc)["errors"]] == [
        ("APPRENTI_NIR_CLE", "apprenti.nir")
    ]


@pytest.mark.parametrize(
    ("name", "code", "errors"),
    [
        (
            "facture-submitted.json",
            1,
            {
                ("FACTURE_IBAN_CLE", "organismeFormation.iban"),
                ("FACTURE_MONTANT_TOTAL", "montantFacture"),
            },
        ),
        ("rupture-declared.json", 0, set()),
    ],
)
def test_followup_events(name: str, code: int, errors: set[tuple[str, str]]) -> None:
    proc = relais("validate", str(EXAMPLES / "events" / name), *TODAY)
    assert proc.returncode == code, proc.stdout
    assert {(e["code"], e["path"]) for e in output(proc)["errors"]} == errors


def test_input_that_is_not_json_exits_2_without_traceback() -> None:
    proc = relais("validate", "-", stdin="not json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("relais validate:")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("text", ["[1, 2]", '"cerfa"', "", "{", "\ud800", "[" * 100_000])
def test_input_that_is_not_a_json_object_exits_2(
    text: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same handler in-process (faster), on more malformed inputs."""
    data = text.encode("utf-8", "surrogatepass")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(SystemExit) as exc:
        main(["validate", "-"])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("relais validate:")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(tmp_path / "absent.json")])
    assert exc.value.code == 2
    assert "cannot read" in capsys.readouterr().err


def test_route() -> None:
    ok = relais("route", "--idcc", "43")
    assert (ok.returncode, ok.stdout.strip()) == (0, "OPCOMMERCE")
    unknown = relais("route", "--idcc", "9999")
    assert unknown.returncode == 1 and unknown.stdout == "" and "9999" in unknown.stderr
    explicit = relais("route", "--idcc", "9999", "--opco", "akto")
    assert (explicit.returncode, explicit.stdout.strip()) == (0, "AKTO")


def test_rules_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--rules"])
    assert exc.value.code == 0
    rows = json.loads(capsys.readouterr().out)
    nir = next(r for r in rows if r["code"] == "APPRENTI_NIR_CLE")
    assert nir["severity"] == "error" and nir["section"] == "3.1"


def test_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    text = (EXAMPLES / "dossiers" / "avenant-36.json").read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    proc = relais("validate", str(path), *TODAY)
    assert proc.returncode == 0, proc.stderr
    assert output(proc)["opco"] == "AKTO"


def test_unknown_event_type_is_a_finding(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"specversion": "1.0", "id": "e", "type": "fr.cfa.autre.v1", "data": {}}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(event).encode())))
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--today", "2026-11-27"])
    assert exc.value.code == 1
    data = json.loads(capsys.readouterr().out)
    assert [(e["code"], e["path"]) for e in data["errors"]] == [("ENVELOPE_UNKNOWN_TYPE", "type")]
