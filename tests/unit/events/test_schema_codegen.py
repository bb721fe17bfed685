"""The event JSON Schemas drive an ERP's tooling: mainstream generators turn them into TypeScript
types (json-schema-to-typescript, checked by ``tsc --strict``) and Java classes (quicktype, compiled
by ``javac`` against Jackson), the generated types accept the example events, and ajv (not the
Python validator relais's own tests use) validates every example and every kind of status value.

The Node tools come from ``tools/codegen/package-lock.json`` (``bash scripts/setup.sh`` runs
``npm ci`` there); Java 17+ and Jackson's jars come with the Kafka jars setup.sh resolves. A missing
tool FAILS with what to run, never a skip. One module-scoped run generates everything (~30 s).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relais.domain.events import ErrorItem, EventKind, EventType
from relais.domain.opco import OpcoCode
from relais.domain.referentials import default_schemas_dir
from relais.domain.status import StatusEvent, Trigger
from relais.domain.status_kinds import StatusName
from relais.domain.status_reasons import StatusReason

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ROOT / "tools" / "codegen"
SCHEMAS = default_schemas_dir()
EXAMPLES = SCHEMAS / "examples"
JACKSON = ("jackson-databind", "jackson-core", "jackson-annotations")
CFA_TYPES = {t.value for t in EventType}


def _tool_or_fail(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {hint}", pytrace=False)
    return path


def jackson_classpath() -> str:
    """Jackson's jars from the Kafka distribution setup.sh resolves (Kafka ships them)."""
    from relais.adapters.kafka_dist import ensure_kafka_libs

    libs = ensure_kafka_libs()
    jars = [next(iter(sorted(libs.glob(f"{name}-2.*.jar"))), None) for name in JACKSON]
    if not all(jars):
        pytest.fail(f"Jackson's jars are missing from {libs}: run bash scripts/setup.sh", False)
    return ":".join(str(j) for j in jars)


def status_values() -> dict[str, Any]:
    """One value of every status kind, as relais writes it."""
    now = datetime(2026, 11, 27, 10, tzinfo=UTC)
    trig = Trigger(event_id="e1", cfa="73282932000074", dossier_id="D1", kind=EventKind.DOSSIER)
    errors = [ErrorItem(code="APPRENTI_NIR_CLE", path="apprenti.nir")]
    statuses = {
        StatusName.RECEIVED: StatusEvent.received(trig, occurred_at=now, opco=OpcoCode.AKTO),
        StatusName.REJECTED: StatusEvent.rejected(trig, errors=errors, occurred_at=now),
        StatusName.RETRYING: StatusEvent.retrying(
            trig,
            opco=OpcoCode.AKTO,
            attempt=2,
            next_attempt_at=now,
            reason=StatusReason.RETRYABLE,
            occurred_at=now,
        ),
        StatusName.SUBMITTED: StatusEvent.submitted(
            trig, opco=OpcoCode.AKTO, occurred_at=now, numero_interne="N1"
        ),
        StatusName.FAILED: StatusEvent.failed(
            trig,
            opco=OpcoCode.AKTO,
            reason=StatusReason.REJECTED_BY_OPCO,
            occurred_at=now,
            errors=errors,
        ),
        StatusName.WAITING: StatusEvent.waiting(
            trig, opco=OpcoCode.AKTO, pause=1, until=now, occurred_at=now
        ),
        StatusName.DEAD_LETTERED: StatusEvent.dead_lettered(
            trig, reason=StatusReason.DATA_NOT_JSON, occurred_at=now
        ),
        StatusName.ETAT_CHANGED: StatusEvent.etat_changed(
            cfa="73282932000074",
            opco=OpcoCode.AKTO,
            kind=EventKind.DOSSIER,
            numero="N1",
            etat="ENGAGE",
            previous_etat="TRANSMIS",
            occurred_at=now,
        ),
    }
    assert set(statuses) == set(StatusName), "a status kind has no value here: add one"
    return {name.value: json.loads(event.value()) for name, event in statuses.items()}


def example_documents() -> list[dict[str, Any]]:
    """Every example file under schemas/examples/ (CFA events by their type; status examples,
    bare values or ``{"headers", "value"}``, against status.v1.json) and a value per status kind."""
    docs: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("type") in CFA_TYPES:
            docs.append({"name": path.name, "path": str(path), "schema": f"{doc['type']}.json"})
        else:
            value = doc["value"] if "value" in doc and "headers" in doc else doc
            docs.append({"name": path.name, "value": value, "schema": "status.v1.json"})
    for name, value in status_values().items():
        docs.append({"name": f"status {name}", "value": value, "schema": "status.v1.json"})
    return docs


@dataclass(frozen=True)
class Run:
    out: Path
    report: dict[str, Any]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    node = _tool_or_fail("node", "install Node.js >= 18, then run bash scripts/setup.sh")
    for package in ("ajv", "ajv-formats", "json-schema-to-typescript", "quicktype-core"):
        if not (TOOLS / "node_modules" / package).is_dir():
            pytest.fail(f"{package} is missing in {TOOLS}: run bash scripts/setup.sh", False)
    out = tmp_path_factory.mktemp("codegen")
    documents = out / "documents.json"
    documents.write_text(json.dumps(example_documents()), encoding="utf-8")
    report = out / "report.json"
    done = subprocess.run(
        [
            *(node, str(TOOLS / "check.mjs"), "--schemas", str(SCHEMAS / "events")),
            *("--documents", str(documents), "--out", str(out), "--report", str(report)),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Run(out, json.loads(report.read_text(encoding="utf-8")))


def test_ajv_validates_every_example_and_status_kind(run: Run) -> None:
    results = run.report["validations"]
    names = {r["name"] for r in results}
    assert {"dossier-initial.json", "facture.json", "rupture.json"} <= names
    assert {f"status {s.value}" for s in StatusName} <= names
    invalid = {r["name"]: r["errors"] for r in results if not r["valid"]}
    assert invalid == {}


def test_ajv_refuses_what_the_rules_refuse(tmp_path: Path, run: Run) -> None:
    """The same ajv, on a dossier missing a required field and one with an unknown code."""
    example = json.loads((EXAMPLES / "dossier-initial.json").read_text(encoding="utf-8"))
    no_siret = json.loads(json.dumps(example))
    del no_siret["data"]["cerfa"]["employeur"]["siret"]
    bad_code = json.loads(json.dumps(example))
    bad_code["data"]["cerfa"]["contrat"]["typeContratApp"] = 12
    schema = "fr.cfa.dossier.submitted.v1.json"
    docs = [
        {"name": "no-siret", "value": no_siret, "schema": schema},
        {"name": "bad-code", "value": bad_code, "schema": schema},
    ]
    (tmp_path / "docs.json").write_text(json.dumps(docs), encoding="utf-8")
    done = subprocess.run(
        [
            *("node", str(TOOLS / "check.mjs"), "--schemas", str(SCHEMAS / "events")),
            *("--documents", str(tmp_path / "docs.json"), "--out", str(tmp_path)),
            *("--report", str(tmp_path / "r.json")),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["validations"]
    errors = {r["name"]: " ".join(r["errors"]) for r in results if not r["valid"]}
    assert "siret" in errors["no-siret"]
    assert "/data/cerfa/contrat/typeContratApp" in errors["bad-code"]


def test_generated_typescript_compiles_and_types_the_examples(run: Run) -> None:
    tsc = TOOLS / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        pytest.fail(f"typescript is missing in {TOOLS}: run bash scripts/setup.sh", False)
    generated = run.report["generated"]["typescript"]
    assert len(generated) == len(list((SCHEMAS / "events").glob("*.json")))
    by_schema = {g["schema"]: g for g in generated}
    ts_dir = Path(generated[0]["file"]).parent
    lines = []
    for i, path in enumerate(sorted(EXAMPLES.glob("*.json"))):
        doc = json.loads(path.read_text(encoding="utf-8"))
        gen = by_schema[f"{doc['type']}.json"]
        module = Path(gen["file"]).stem
        lines.append(f'import type {{ {gen["type"]} as T{i} }} from "./{module}.js";')
        lines.append(f"export const example{i}: T{i} = {json.dumps(doc, ensure_ascii=False)};")
    (ts_dir / "examples.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    node = _tool_or_fail("node", "install Node.js >= 18")
    done = subprocess.run(
        [
            *(node, str(tsc), "--strict", "--noEmit", "--target", "es2022"),
            *("--module", "nodenext", "--moduleResolution", "nodenext"),
            *sorted(str(p) for p in ts_dir.glob("*.ts")),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    dossier = (ts_dir / "fr_cfa_dossier_submitted_v1.ts").read_text(encoding="utf-8")
    assert "typeContratApp: TypeDeContrat;" in dossier  # required, coded, titled in French
    assert "export type TypeDeContrat = 11 | 21 | 22 | 23 | 31" in dossier


def test_generated_java_compiles(run: Run) -> None:
    javac = _tool_or_fail("javac", "install a JDK 17+ (Debian: openjdk-17-jdk-headless)")
    sources = [g["file"] for g in run.report["generated"]["java"]]
    assert any(s.endswith("/Contrat.java") for s in sources)
    done = subprocess.run(
        [javac, "-nowarn", "-d", str(run.out / "classes"), "-cp", jackson_classpath(), *sources],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert list((run.out / "classes").rglob("Cerfa.class"))
