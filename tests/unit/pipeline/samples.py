"""CFA event records for the pipeline tests (Kafka binary mode: ce_* headers, JSON value)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from relais.domain.events import EventType
from relais.services.ingest import Record
from relais.services.ingest.signature import sign

CFA = "12345678901234"
OTHER_CFA = "98765432109876"
TIME = "2026-11-27T09:00:00+01:00"


def cerfa() -> dict[str, Any]:
    """A cerfa object (shape only: the plumbing tests run without the control rules)."""
    return {
        "employeur": {"siret": "11122233344455", "codeIdcc": "1486", "denomination": "ACME"},
        "apprenti": {
            "nom": "Martin",
            "prenom": "Léa",
            "nir": "285057800608436",
            "dateNaissance": "2007-03-01",
        },
        "contrat": {"typeContratApp": 11, "dateDebutContrat": "2026-09-01"},
    }


DATA: dict[EventType, dict[str, Any]] = {
    EventType.DOSSIER_SUBMITTED: {"opco": "AKTO", "cerfa": cerfa()},
    EventType.CONVENTION_SUBMITTED: {"convention": {"couts": {"total": 6000}}},
    EventType.CERTIFICAT_SUBMITTED: {"certificat": {"echeance": {"numero": 1}}},
    EventType.RUPTURE_DECLARED: {"rupture": {"dateRupture": "2027-01-15", "motif": "commun"}},
}


def facture(reference: str, *dossier_ids: str) -> dict[str, Any]:
    return {
        "facture": {
            "referenceFactureCFA": reference,
            "dateFacture": "2026-11-27",
            "montantFacture": 1000.0 * len(dossier_ids),
            "organismeFormation": {"siret": CFA, "iban": "FR7630006000011234567890189"},
            "lignes": [
                {"dossierId": d, "numeroEcheance": 1, "montant": 1000.0} for d in dossier_ids
            ],
        }
    }


def headers(
    event_type: EventType | str,
    *,
    event_id: str | None = None,
    subject: str = "D-1",
    source: str = CFA,
    time: str = TIME,
    **extra: str,
) -> dict[str, str]:
    out = {
        "ce_specversion": "1.0",
        "ce_id": event_id or str(uuid.uuid4()),
        "ce_type": str(event_type),
        "ce_source": source,
        "ce_subject": subject,
        "ce_time": time,
        "ce_datacontenttype": "application/json",
    }
    out.update(extra)
    return out


def value_of(data: Any) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


def record(
    hdrs: Mapping[str, str | bytes],
    data: Any,
    *,
    key: bytes | str | None = "__subject__",
    topic: str = "cfa.events.v1",
    offset: int = 0,
    partition: int = 0,
) -> Record:
    if key == "__subject__":
        subject = hdrs.get("ce_subject")
        key = subject if isinstance(subject, str) else None
    return Record(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key.encode() if isinstance(key, str) else key,
        value=value_of(data),
        headers=[(k, v.encode() if isinstance(v, str) else v) for k, v in hdrs.items()],
        timestamp_ms=1_790_000_000_000,
    )


def event(event_type: EventType, data: Any = None, **kw: Any) -> tuple[dict[str, str], bytes]:
    """Headers and value of one event (``data`` defaults to the sample of its type)."""
    return headers(event_type, **kw), value_of(DATA[event_type] if data is None else data)


def signed(secret: str, hdrs: dict[str, str], value: bytes) -> dict[str, str]:
    return {**hdrs, "ce_signature": sign(secret, hdrs, value)}
