"""Document events (``fr.cfa.document.submitted.v1``) through the real broker and ledgers: each
``typeFichier`` queued behind its dossier at the dossier's OPCO, a malformed / ``http://`` /
other-scheme location and a bad data model refused with their codes, and the file itself (an
inline one) in no status, no dead letter and no log line."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from relais.bootstrap import build
from relais.operator.send import raw_record
from relais.services.ingest.records import DLQ_VALUE_DROPPED
from relais.services.ledger_port import CommandKind
from tests.fixtures.broker import Out, consume_all, produce
from tests.integration.pipeline.harness import (
    by_status,
    generator,
    make_topics,
    published_statuses,
    running,
    settings_for,
    wait_until,
)

pytestmark = pytest.mark.integration

SECRET_PDF = b"%PDF-1.4\n% the signed convention of a person\n" + b"s3cr3t" * 200 + b"\n%%EOF\n"


def _inline_fichier() -> dict[str, Any]:
    return {
        "location": "data:application/pdf;base64," + base64.b64encode(SECRET_PDF).decode(),
        "sha256": hashlib.sha256(SECRET_PDF).hexdigest(),
        "size": len(SECRET_PDF),
        "mediaType": "application/pdf",
        "fileName": "inline.pdf",
    }


def _raw(event: dict[str, Any]) -> Out:
    """The record a CFA producer would write, bad data included (binary mode, unchecked)."""
    record = raw_record(event)
    return Out(value=record.value, key=record.key, headers=record.headers)


async def test_documents_are_queued_behind_their_dossier_and_bad_ones_refused(
    kafka_bootstrap: str, topic_factory: Callable[..., str], ledger_url: str
) -> None:
    topics = make_topics(topic_factory)
    g = generator(31)
    dossier = g.dossier()
    documents = g.documents(dossier, reference_facture="FAC-1")
    refused: dict[str, tuple[dict[str, Any], str]] = {}
    for name, location, code in [
        ("http", "http://files.example/convention.pdf", "FILE_LOCATION_FORBIDDEN"),
        ("other-scheme", "gs://cfa-files/convention.pdf", "FILE_LOCATION_FORBIDDEN"),
        ("malformed", "s3://cfa-files/a/../b/convention.pdf", "FILE_LOCATION_INVALID"),
    ]:
        bad = g.document(dossier)
        bad["data"]["fichier"]["location"] = location
        refused[name] = (bad, code)
    bad_model = g.document(dossier)
    bad_model["data"]["typeFichier"] = "CONTRAT"
    inline_refused = g.document(dossier)  # refused by its model: its file inline must not leak
    inline_refused["data"] = {"typeFichier": "AUTRE", "fichier": _inline_fichier()}
    inline_ok = g.document(dossier)
    inline_ok["data"]["fichier"] = _inline_fichier()
    unknown = g.document(g.dossier(cfa=dossier.cfa))  # its dossier was never submitted
    dead = _raw(inline_ok)  # an inline file in a record without ce_type: a dead letter
    dead = Out(
        value=dead.value, key=dead.key, headers=[h for h in dead.headers if h[0] != "ce_type"]
    )
    events = [
        dossier.event,
        *documents,
        *(e for e, _ in refused.values()),
        bad_model,
        inline_refused,
        inline_ok,
        unknown,
    ]
    app = build(settings_for(kafka_bootstrap, topics, ledger_url), ["ingest", "relay"])
    with structlog.testing.capture_logs() as logs:
        async with running(app):
            await produce(kafka_bootstrap, topics.input, [_raw(e) for e in events])
            await produce(kafka_bootstrap, topics.input, [dead])
            await wait_until(lambda: app.ingest is not None and app.ingest.handled == 14)
            statuses = await published_statuses(
                app, kafka_bootstrap, topics.status, topics.rejected
            )
            letters = await consume_all(kafka_bootstrap, topics.dlq, at_least=1, timeout_s=15)
            commands = await app.ledger.commands_for(dossier.cfa.siret, dossier.dossier_id)

    answers = {s.json()["eventId"]: s.json() for s in statuses}
    for document in [*documents, inline_ok]:
        answer = answers[document["id"]]
        assert (answer["status"], answer["kind"]) == ("received", "document"), answer
        assert answer["opco"] == dossier.opco.value
    # queued in the dossier's queue, behind its submission, in the order sent
    assert [c.kind for c in commands] == [CommandKind.DOSSIER] + [CommandKind.DOCUMENT] * 6
    assert [c.event_id for c in commands] == [e["id"] for e in [dossier.event, *documents]] + [
        inline_ok["id"]
    ]
    assert all(c.opco == dossier.opco.value for c in commands)
    for event, code in refused.values():
        answer = answers[event["id"]]
        assert answer["status"] == "rejected"
        assert [(e["code"], e["path"]) for e in answer["errors"]] == [(code, "data.fichier")]
    assert [e["path"] for e in answers[bad_model["id"]]["errors"]] == ["data.typeFichier"]
    assert answers[bad_model["id"]]["errors"][0]["message"].startswith("Valeur non autorisée")
    assert [e["code"] for e in answers[unknown["id"]]["errors"]] == ["DOSSIER_UNKNOWN"]
    # the dead letter's status goes to the operators' topic (its source is not established)
    assert len(by_status(statuses)["dead_lettered"]) == 1
    # the file never reaches a status, the DLQ or a log line; its name may
    encoded = base64.b64encode(SECRET_PDF)
    (letter,) = letters
    assert letter.value in (None, b"") and letter.headers[DLQ_VALUE_DROPPED].isdigit()
    assert all(encoded not in (s.value or b"") for s in statuses)
    assert encoded.decode() not in repr(logs) and b"s3cr3t" not in repr(logs).encode()
    assert any(entry.get("event") == "ingest.rejected" for entry in logs)
    for event, _ in refused.values():  # a refused location is named by its file name only
        location = event["data"]["fichier"]["location"].encode()
        assert all(location not in (s.value or b"") for s in statuses)
