"""Status events: stable ids, CloudEvents headers, camelCase bodies without nulls."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from relais.domain.events import ErrorItem, EventKind, envelope_from_headers, structured_to_record
from relais.domain.opco import OpcoCode
from relais.domain.status import (
    NAMESPACE,
    StatusEvent,
    StatusName,
    Trigger,
    etat_event_id,
    status_event_id,
)
from relais.domain.status_reasons import StatusReason

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
SIRET = "73282932000074"


def trigger() -> Trigger:
    _, headers, _ = structured_to_record(
        {
            "specversion": "1.0",
            "id": "evt-42",
            "type": "fr.cfa.rupture.declared.v1",
            "source": f"urn:siret:{SIRET}",
            "subject": "D-42",
            "time": "2026-11-27T10:00:00+01:00",
            "data": {"rupture": {"dateRupture": "2026-12-01", "motif": "commun accord"}},
        }
    )
    return Trigger.from_envelope(envelope_from_headers(headers))


def test_ids_are_stable_and_distinct() -> None:
    assert status_event_id("e", "submitted") == status_event_id("e", StatusName.SUBMITTED)
    ids = {
        status_event_id("e", "submitted"),
        status_event_id("e", "received"),
        status_event_id("f", "submitted"),
        status_event_id("e", "retrying", 1),
        status_event_id("e", "retrying", 2),
    }
    assert len(ids) == 5
    a = etat_event_id(SIRET, "AKTO", "dossier", "N1", "TRANSMIS", "ENGAGE")
    assert a == etat_event_id(SIRET, OpcoCode.AKTO, EventKind.DOSSIER, "N1", "TRANSMIS", "ENGAGE")
    assert a != etat_event_id(SIRET, "AKTO", "dossier", "N1", None, "ENGAGE")
    assert a != etat_event_id(SIRET, "AKTO", "facture", "N1", "TRANSMIS", "ENGAGE")


def test_identity_is_the_cfa_and_the_event_id() -> None:
    """CloudEvents ids are unique per source only: the same id from two CFAs is two events, with
    two status ids. A record whose CFA is not established is named by its Kafka position and its
    status id keeps the form every id had before the CFA was part of it."""
    other = "41234567800017"
    mine = status_event_id("evt-42", "received", cfa=SIRET)
    assert mine != status_event_id("evt-42", "received", cfa=other)
    assert mine != status_event_id("evt-42", "received")  # the derivation without a CFA
    sep = "\x1f"
    assert mine == str(uuid.uuid5(NAMESPACE, sep.join(["status", SIRET, "evt-42", "received", ""])))
    position = "kafka:cfa.events.v1:0:7"
    assert status_event_id(position, "rejected") == str(
        uuid.uuid5(NAMESPACE, sep.join(["status", position, "rejected", ""]))
    )
    assert status_event_id("evt-42", "retrying", 2, cfa=SIRET) == str(
        uuid.uuid5(NAMESPACE, sep.join(["status", SIRET, "evt-42", "retrying", "2"]))
    )
    assert StatusEvent.received(trigger(), occurred_at=NOW).id == mine
    unattributed = Trigger.for_record("cfa.events.v1", 0, 7)
    assert StatusEvent.rejected(unattributed, errors=[], occurred_at=NOW).id == status_event_id(
        position, "rejected"
    )


def test_a_recomputed_status_is_byte_identical() -> None:
    one = StatusEvent.submitted(trigger(), opco=OpcoCode.AKTO, occurred_at=NOW, numero_interne="N1")
    two = StatusEvent.submitted(trigger(), opco=OpcoCode.AKTO, occurred_at=NOW, numero_interne="N1")
    assert one.id == two.id == status_event_id("evt-42", "submitted", cfa=SIRET)
    assert one.value() == two.value()
    assert one.headers() == two.headers()


def test_headers_carry_cloudevents_and_extensions() -> None:
    event = StatusEvent.received(trigger(), occurred_at=NOW, opco=OpcoCode.ATLAS)
    assert event.key == "D-42"
    assert event.headers() == {
        "ce_specversion": "1.0",
        "ce_id": status_event_id("evt-42", "received", cfa=SIRET),
        "ce_type": "fr.relais.status.received.v1",
        "ce_source": "relais",
        "ce_subject": "D-42",
        "ce_time": "2026-11-27T09:30:00+00:00",
        "ce_datacontenttype": "application/json",
        "ce_correlationid": "evt-42",
        "ce_cfa": SIRET,
        "ce_opco": "ATLAS",
    }
    assert json.loads(event.value()) == {
        "status": "received",
        "eventId": "evt-42",
        "cfa": SIRET,
        "dossierId": "D-42",
        "opco": "ATLAS",
        "kind": "rupture",
        "occurredAt": "2026-11-27T09:30:00Z",
    }


def test_retrying_is_per_attempt_and_not_terminal() -> None:
    one = StatusEvent.retrying(
        trigger(),
        opco=OpcoCode.AKTO,
        attempt=1,
        next_attempt_at=NOW + timedelta(seconds=30),
        reason=StatusReason.RETRYABLE,
        occurred_at=NOW,
    )
    two = StatusEvent.retrying(
        trigger(),
        opco=OpcoCode.AKTO,
        attempt=2,
        next_attempt_at=NOW + timedelta(seconds=90),
        reason=StatusReason.RETRYABLE,
        occurred_at=NOW,
    )
    assert one.id != two.id
    assert not one.status.terminal
    body = json.loads(two.value())
    assert body["attempts"] == 2
    assert body["nextAttemptAt"] == "2026-11-27T09:31:30Z"


def test_terminal_statuses() -> None:
    assert {s for s in StatusName if s.terminal} == {
        StatusName.SUBMITTED,
        StatusName.REJECTED,
        StatusName.FAILED,
        StatusName.DEAD_LETTERED,
    }


def test_rejected_carries_every_error() -> None:
    errors = [ErrorItem(code="A", path="x"), ErrorItem(code="B", severity="warning", path="y")]
    event = StatusEvent.rejected(trigger(), errors=errors, occurred_at=NOW)
    assert [e["code"] for e in json.loads(event.value())["errors"]] == ["A", "B"]


def test_dead_letter_of_a_record_without_id_is_keyed_by_position() -> None:
    t = Trigger.for_record("cfa.events.v1", 3, 1200)
    one = StatusEvent.dead_lettered(t, reason=StatusReason.DATA_NOT_JSON, occurred_at=NOW)
    two = StatusEvent.dead_lettered(t, reason=StatusReason.DATA_NOT_JSON, occurred_at=NOW)
    assert one.id == two.id
    assert one.key == "kafka:cfa.events.v1:3:1200"


def test_etat_changed_drops_the_iban_of_echeances() -> None:
    event = StatusEvent.etat_changed(
        cfa=SIRET,
        opco=OpcoCode.AKTO,
        kind=EventKind.DOSSIER,
        numero="N1",
        etat="ENGAGE",
        previous_etat="EN_COURS_INSTRUCTION",
        occurred_at=NOW,
        dossier_id="D-42",
        engagement=8000.0,
        echeances=[
            {
                "numero": 1,
                "codification": "E1",
                "montantTotal": 3200.0,
                "dateOuverture": "2026-09-01T00:00:00+0000",
                "iban": "FR7630006000011234567890189",
            }
        ],
    )
    assert event.id == etat_event_id(
        SIRET, "AKTO", "dossier", "N1", "EN_COURS_INSTRUCTION", "ENGAGE"
    )
    assert b"FR76" not in event.value()
    body = json.loads(event.value())
    assert body["echeances"][0]["dateOuverture"] == "2026-09-01"
    assert body["numeroInterne"] == "N1"


def test_from_record_reads_it_back() -> None:
    event = StatusEvent.failed(
        trigger(), opco=OpcoCode.SANTE, reason=StatusReason.NOT_SUPPORTED, occurred_at=NOW
    )
    back = StatusEvent.from_record(event.key.encode(), event.kafka_headers(), event.value())
    assert back == event
