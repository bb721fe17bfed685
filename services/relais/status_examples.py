"""One example value per status kind (and per variant an ERP must handle), generated from the
status builders into ``schemas/examples/status/`` by ``relais schemas write`` (source
``status-examples`` of ``relais.contracts``), so they never drift from the code; a unit test
validates each against ``schemas/events/status.v1.json``.

They answer the example CFA events of ``schemas/examples/`` (same CFA, dossier and event ids).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from relais.domain.events import ErrorItem, EventKind
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail, messages_of
from relais.domain.status import EcheanceSummary, StatusEvent, Trigger
from relais.domain.status_kinds import StatusName
from relais.domain.status_reasons import StatusReason

FOLDER = "examples/status"
CFA = "52880483402584"
DOSSIER = "CFA01-2026-00001-dde3a3"
DOSSIER_EVENT = "65ed0de4-7db4-404d-a01c-683e99a46df0"  # schemas/examples/dossier-initial.json
FACTURE_EVENT = "b464c554-f675-499b-8c83-e786d1711cbd"  # schemas/examples/facture.json
DOCUMENT_EVENT = "6b1f0c3e-2f4a-4d8e-9a57-3c1d2e4f5a60"  # schemas/examples/document.json
FACTURE_REFERENCE = "FAC-CFA01-2026-000002"
AT = datetime.fromisoformat("2026-11-27T08:01:09+01:00")
OPCO = OpcoCode.ATLAS
NUMERO = "ATL-2026-0001842"
FACTURE_NUMERO = "ATL-FAC-2026-000311"
DOCUMENT_NUMERO = "ATL-DOC-2026-004127"

_DOSSIER = Trigger(event_id=DOSSIER_EVENT, cfa=CFA, dossier_id=DOSSIER, kind=EventKind.DOSSIER)
_FACTURE = Trigger(event_id=FACTURE_EVENT, cfa=CFA, dossier_id=DOSSIER, kind=EventKind.FACTURE)
_DOCUMENT = Trigger(event_id=DOCUMENT_EVENT, cfa=CFA, dossier_id=DOSSIER, kind=EventKind.DOCUMENT)


def _examples() -> dict[str, StatusEvent]:
    return {**_ingest_examples(), **_dispatch_examples(), **_poll_examples()}


def _ingest_examples() -> dict[str, StatusEvent]:
    return {
        "received": StatusEvent.received(_DOSSIER, occurred_at=AT, opco=OPCO),
        "rejected": StatusEvent.rejected(
            _DOSSIER,
            occurred_at=AT,
            errors=[
                ErrorItem(
                    code="SIRET_INVALIDE",
                    path="data.cerfa.employeur.siret",
                    message="Le SIRET de l'employeur n'est pas valide (14 chiffres, clé de Luhn).",
                )
            ],
        ),
        "dead_lettered": StatusEvent.dead_lettered(
            _DOSSIER,
            reason=StatusReason.DATA_NOT_JSON,
            occurred_at=AT,
            errors=[
                ErrorItem(
                    code="DATA_NOT_JSON",
                    path="record",
                    message="La valeur de l'enregistrement n'est pas du JSON (UTF-8).",
                )
            ],
        ),
    }


def _dispatch_examples() -> dict[str, StatusEvent]:
    later = AT + timedelta(minutes=2)
    refused = [
        OpcoErrorDetail(None, "Dossier non conforme aux règles de contrôle", None),
        OpcoErrorDetail("RG_CONTRAT_12", "Date de fin antérieure à la date de début", "contrat"),
    ]
    return {
        "retrying": StatusEvent.retrying(
            _DOSSIER,
            opco=OPCO,
            attempt=1,
            next_attempt_at=AT + timedelta(seconds=30),
            reason=StatusReason.RETRYABLE,
            occurred_at=AT,
            opco_messages=["Service temporairement indisponible"],
            opco_errors=[OpcoErrorDetail("503", "Service temporairement indisponible", None)],
        ),
        "waiting": StatusEvent.waiting(
            _DOSSIER, opco=OPCO, pause=1, until=AT + timedelta(hours=4), occurred_at=AT
        ),
        "submitted": StatusEvent.submitted(
            _DOSSIER,
            opco=OPCO,
            occurred_at=later,
            numero_interne=NUMERO,
            etat="TRANSMIS",
            attempts=1,
        ),
        "submitted-already-at-opco": StatusEvent.submitted(
            _DOSSIER,
            opco=OPCO,
            occurred_at=later,
            numero_interne=NUMERO,
            etat="TRANSMIS",
            attempts=1,
            already_at_opco=True,
        ),
        "submitted-document": StatusEvent.submitted(
            _DOCUMENT,
            opco=OPCO,
            occurred_at=later + timedelta(days=3),
            numero_interne_document=DOCUMENT_NUMERO,
            attempts=1,
        ),
        "failed": StatusEvent.failed(
            _DOSSIER,
            opco=OPCO,
            reason=StatusReason.REJECTED_BY_OPCO,
            occurred_at=later,
            opco_messages=list(messages_of(tuple(refused))),
            opco_errors=refused,
            attempts=1,
        ),
    }


def _poll_examples() -> dict[str, StatusEvent]:
    later = AT + timedelta(minutes=2)
    return {
        "etat_changed-dossier": StatusEvent.etat_changed(
            cfa=CFA,
            opco=OPCO,
            kind=EventKind.DOSSIER,
            numero=NUMERO,
            etat="ENGAGE",
            previous_etat="TRANSMIS",
            occurred_at=later + timedelta(days=3),
            dossier_id=DOSSIER,
            engagement=7850.0,
            echeances=[
                EcheanceSummary(numero=1, montantTotal=3140.0, dateOuverture=AT.date()),
            ],
        ),
        "etat_changed-refused": StatusEvent.etat_changed(
            cfa=CFA,
            opco=OPCO,
            kind=EventKind.DOSSIER,
            numero=NUMERO,
            etat="REFUSE",
            previous_etat="EN_COURS_INSTRUCTION",
            occurred_at=later + timedelta(days=3),
            dossier_id=DOSSIER,
            motif="Refus de prise en charge : contrat non signé par l'employeur",
        ),
        "etat_changed-facture": StatusEvent.etat_changed(
            cfa=CFA,
            opco=OPCO,
            kind=EventKind.FACTURE,
            numero=FACTURE_NUMERO,
            etat="REGLE",
            previous_etat="EN_COURS_INSTRUCTION",
            occurred_at=later + timedelta(days=40),
            dossier_id=DOSSIER,
            reference_facture_cfa=FACTURE_REFERENCE,
        ),
    }


def status_example_documents() -> dict[str, Json | str]:
    """``examples/status/<name>.json``: one Kafka record each (``key``, ``headers``, ``value``),
    and its README; every status kind appears at least once."""
    docs: dict[str, Json | str] = {}
    examples = _examples()
    lines = [
        "# Example status events (generated by `relais schemas write`: do not edit)",
        "",
        "One Kafka record per file, answering the example CFA events of `schemas/examples/`:",
        "`key` (the CFA's dossier id), `headers` (CloudEvents, binary mode) and `value` (valid",
        "against `schemas/events/status.v1.json`).",
        "",
        "| file | ce_type | terminal |",
        "|---|---|---|",
    ]
    for name, event in examples.items():
        record: Json = {
            "key": event.key,
            "headers": event.headers(),
            "value": json.loads(event.value()),
        }
        docs[f"{FOLDER}/{name}.json"] = record
        lines.append(
            f"| `{name}.json` | `{event.type}` | {'yes' if event.status.terminal else ''} |"
        )
    missing = set(StatusName) - {e.status for e in examples.values()}
    if missing:
        raise ValueError(f"no example status of kind {sorted(missing)}")
    docs[f"{FOLDER}/README.md"] = "\n".join(lines) + "\n"
    return docs
