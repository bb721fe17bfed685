"""A document event (``fr.cfa.document.submitted.v1``) at ingest, without I/O: routed to its
dossier's OPCO like every follow-up, its model and its file reference's form checked, a refusal
with its ``FILE_*`` code; the file itself never in a status, a result or a dead letter."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from relais.domain.events import EventKind, EventType, parse_structured
from relais.domain.file_checks import FileLimits
from relais.domain.referentials import load_referentials
from relais.services.ingest import IngestPolicy, Outcome
from relais.services.ingest.answers import Plan
from relais.services.ingest.decide import Context, FollowUp, KnownDossier, decide
from relais.services.ingest.records import DLQ_VALUE_DROPPED
from relais.services.ingest.rules import DomainRules
from relais.services.ledger_port import Accept, CommandKind, Reject
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import CFA, event, record

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)
CONTEXT = Context(IngestPolicy(), ExplicitOpcoRules(), NOW, TODAY)
PDF = b"%PDF-1.4\n" + b"x" * 200 + b"\n%%EOF\n"


def document(location: str = "s3://cfa-files/cfa-a/reduction.pdf", **fichier: Any) -> Any:
    ref = {
        "location": location,
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "mediaType": "application/pdf",
        "fileName": "reduction.pdf",
        **fichier,
    }
    return {"typeFichier": "CONVENTION_REDUCTION_DUREE", "fichier": ref}


def inline(data: bytes = PDF) -> str:
    return "data:application/pdf;base64," + base64.b64encode(data).decode()


def decided(data: Any, context: Context = CONTEXT) -> Plan | FollowUp:
    hdrs, value = event(EventType.DOCUMENT_SUBMITTED, data, event_id="doc-1", subject="D-1")
    return decide(record(hdrs, value), context)


@pytest.mark.parametrize(
    "location",
    [
        "s3://cfa-files/cfa-a/reduction.pdf",
        "/srv/cfa-a/reduction.pdf",
        "file:///srv/a.pdf",
        inline(),
    ],
)
def test_a_document_waits_in_its_dossier_queue_at_the_dossier_opco(location: str) -> None:
    step = decided(document(location))
    assert isinstance(step, FollowUp) and step.dossier_ids == ["D-1"]
    plan = step.decide({"D-1": KnownDossier("ATLAS", "NI-7")}, NOW)
    assert isinstance(plan.entry, Accept), plan.result.errors
    command = plan.entry.command
    assert (command.cfa, command.dossier_id, command.opco) == (CFA, "D-1", "ATLAS")
    assert command.kind is CommandKind.DOCUMENT and plan.result.kind is EventKind.DOCUMENT
    assert command.payload.numero_interne == "NI-7"
    unknown = step.decide({"D-1": None}, NOW)
    assert [e.code for e in unknown.result.errors] == ["DOSSIER_UNKNOWN"]


@pytest.mark.parametrize(
    ("location", "fichier", "code"),
    [
        ("http://cfa.example/reduction.pdf", {}, "FILE_LOCATION_FORBIDDEN"),
        ("https://169.254.169.254/latest/meta-data", {}, "FILE_LOCATION_FORBIDDEN"),
        ("ftp://cfa.example/reduction.pdf", {}, "FILE_LOCATION_FORBIDDEN"),
        ("file://cfa.example/srv/reduction.pdf", {}, "FILE_LOCATION_FORBIDDEN"),
        ("reduction.pdf", {}, "FILE_LOCATION_FORBIDDEN"),
        ("s3://cfa-files/cfa-a/../cfa-b/reduction.pdf", {}, "FILE_LOCATION_INVALID"),
        ("s3://Not_A_Bucket/reduction.pdf", {}, "FILE_LOCATION_INVALID"),
        ("/srv/cfa-a/%2e%2e/reduction.pdf", {}, "FILE_LOCATION_INVALID"),
        ("data:text/html;base64,PGI+", {}, "FILE_LOCATION_INVALID"),
        (inline(PDF + b"y" * 300_000), {}, "FILE_TOO_LARGE"),
        ("s3://cfa-files/cfa-a/big.pdf", {"size": 10 * 1024 * 1024 + 1}, "FILE_TOO_LARGE"),
        ("s3://cfa-files/cfa-a/r.pdf", {"fileName": "reduction.exe"}, "FILE_TYPE_UNSUPPORTED"),
    ],
)
def test_a_malformed_or_forbidden_location_is_refused_with_its_code(
    location: str, fichier: dict[str, Any], code: str
) -> None:
    plan = decided(document(location, **fichier))
    assert isinstance(plan, Plan) and isinstance(plan.entry, Reject)
    assert plan.result.outcome is Outcome.REJECTED
    assert [(e.code, e.path) for e in plan.result.errors] == [(code, "data.fichier")]
    [status] = plan.entry.statuses
    body = json.loads(status.value)
    assert [e["code"] for e in body["errors"]] == [code]
    assert location[:200] not in status.value.decode()  # named by its file name only


def test_the_inline_limit_and_the_size_limit_come_from_the_policy() -> None:
    small = replace(CONTEXT, policy=IngestPolicy(file_limits=FileLimits(max_inline_bytes=100)))
    plan = decided(document(inline()), small)
    assert isinstance(plan, Plan) and [e.code for e in plan.result.errors] == ["FILE_TOO_LARGE"]
    tight = replace(CONTEXT, policy=IngestPolicy(file_limits=FileLimits(max_bytes=len(PDF) - 1)))
    plan = decided(document(), tight)
    assert isinstance(plan, Plan) and [e.code for e in plan.result.errors] == ["FILE_TOO_LARGE"]
    assert isinstance(decided(document(inline())), FollowUp)  # the default takes it


def test_a_bad_data_model_is_refused_with_every_error_in_french() -> None:
    data = document(sha256="ABC")
    data["typeFichier"] = "CONTRAT"
    data["referenceFactureCFA"] = ""
    del data["fichier"]["fileName"]
    plan = decided(data)
    assert isinstance(plan, Plan) and isinstance(plan.entry, Reject)
    found = {e.path: e.message for e in plan.result.errors}
    assert set(found) == {
        "data.typeFichier",
        "data.referenceFactureCFA",
        "data.fichier.sha256",
        "data.fichier.fileName",
    }
    assert found["data.typeFichier"].startswith("Valeur non autorisée ; valeurs possibles")
    assert "CERTIFICAT_REALISATION" in found["data.typeFichier"]
    assert found["data.fichier.fileName"] == "Champ obligatoire absent."
    assert found["data.fichier.sha256"].startswith("Format non conforme")
    assert "CONTRAT" not in json.dumps(found)  # the value is never echoed


def test_a_convention_s_file_is_checked_by_the_same_rules() -> None:
    hdrs, value = event(
        EventType.CONVENTION_SUBMITTED,
        {
            "convention": {"couts": {}},
            "fichier": document("/srv/c.pdf", size=15_000_000)["fichier"],
        },
    )
    plan = decide(record(hdrs, value), CONTEXT)
    assert isinstance(plan, Plan)
    assert [(e.code, e.path) for e in plan.result.errors] == [("FILE_TOO_LARGE", "data.fichier")]


def test_the_standard_s_rules_take_a_document_as_it_is() -> None:
    """``DomainRules`` (production's): a document has no control rules besides its model."""
    rules = DomainRules(load_referentials())
    hdrs, value = event(EventType.DOCUMENT_SUBMITTED, document(), subject="D-1")
    step = decide(record(hdrs, value), Context(IngestPolicy(), rules, NOW, TODAY))
    assert isinstance(step, FollowUp) and step.check.errors == ()


def test_an_inline_file_never_reaches_a_status_nor_the_dead_letter_queue() -> None:
    secret = b"%PDF-1.4 secret contract " + b"z" * 100
    data = document(inline(secret), sha256="0" * 64, size=len(secret))
    data["typeFichier"] = "CONTRAT"  # refused: a rejected status
    plan = decided(data)
    assert isinstance(plan, Plan) and isinstance(plan.entry, Reject)
    encoded = base64.b64encode(secret)
    assert all(encoded not in s.value for s in plan.entry.statuses)
    assert encoded not in repr(plan.result).encode()
    # unreadable headers: a dead letter, whose value (the file inline) is left out
    hdrs, value = event(EventType.DOCUMENT_SUBMITTED, data, subject="D-1")
    del hdrs["ce_type"]
    dead = decide(record(hdrs, value), CONTEXT)
    assert isinstance(dead, Plan) and dead.letter is not None
    assert dead.letter.value is None
    assert dict(dead.letter.headers)[DLQ_VALUE_DROPPED] == str(len(value)).encode()
    assert all(encoded not in v for _, v in dead.letter.headers)
    # a dead letter without any inline file keeps its value (replayable)
    hdrs, plain = event(EventType.DOCUMENT_SUBMITTED, document(), subject="D-1")
    del hdrs["ce_type"]
    kept = decide(record(hdrs, plain), CONTEXT)
    assert isinstance(kept, Plan) and kept.letter is not None and kept.letter.value == plain


def test_the_example_document_is_a_valid_document_event() -> None:
    from pathlib import Path

    example = Path(__file__).parents[3] / "schemas" / "examples" / "document.json"
    parsed = parse_structured(json.loads(example.read_text()))
    assert parsed.kind is EventKind.DOCUMENT


def test_ingest_takes_the_file_limits_of_the_settings() -> None:
    from relais.bootstrap import ingest_policy
    from relais.config import Settings

    settings = Settings(files={"max_bytes": 1000, "max_inline_bytes": 10})
    limits = ingest_policy(settings).file_limits
    assert (limits.max_bytes, limits.max_inline_bytes) == (1000, 10)
