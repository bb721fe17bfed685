"""From a ledger command to the OPCO call it stands for (pure).

A command's ``payload`` is ingest's ``CommandPayload``: the CFA event's typed data and, when
known before dispatch, the numeroInterne of its own dossier (``CommandPayload.dossier_numero``).
Follow-ups (convention, facture, certificat, rupture) name dossiers by the CFA's own dossier ids;
the OPCO wants its ``numeroInterne``: :func:`needed_dossiers` says which ones the dispatcher must
resolve from the ledger, :func:`build_call` fills them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relais.domain.dates import parse_date
from relais.domain.events import (
    CertificatSubmittedData,
    ConventionSubmittedData,
    DossierSubmittedData,
    ErrorItem,
    EventData,
    FactureSubmittedData,
    RuptureDeclaredData,
)
from relais.domain.json_types import Json
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import CommandKind
from relais.services.opco_port import DossierNaturalKey


@dataclass(frozen=True)
class OpcoCall:
    kind: CommandKind
    body: Json  # the cerfa for a dossier, the route's JSON body otherwise


def needed_dossiers(dossier_id: str, payload: CommandPayload) -> list[str]:
    """The CFA dossier ids whose OPCO numeroInterne the command of ``dossier_id`` still needs
    from the ledger, in order, no repeats (its own dossier's is not needed once known)."""
    data = payload.data
    if isinstance(data, FactureSubmittedData):
        return data.facture.dossier_ids
    if isinstance(data, DossierSubmittedData) or payload.dossier_numero is not None:
        return []
    return [dossier_id]


def build_call(
    kind: CommandKind, dossier_id: str, data: EventData, numeros: Mapping[str, str]
) -> OpcoCall:
    """The body of the OPCO call; ``numeros`` maps every needed CFA dossier id (and the own one
    when known) to its numeroInterne (see :func:`needed_dossiers`)."""
    if isinstance(data, DossierSubmittedData):
        return OpcoCall(kind, dict(data.cerfa))
    if isinstance(data, ConventionSubmittedData):
        numero = data.numeroInterneDossier or numeros[dossier_id]
        return OpcoCall(kind, {**data.convention, "numeroInterneDossier": numero})
    if isinstance(data, CertificatSubmittedData):
        body = dict(data.certificat)
        body.setdefault("numeroInterneDossier", numeros.get(dossier_id))
        return OpcoCall(kind, body)
    if isinstance(data, RuptureDeclaredData):
        return OpcoCall(
            kind,
            {
                "numeroInterne": numeros[dossier_id],
                "dateRupture": data.rupture.dateRupture.isoformat(),
                "motif": data.rupture.motif,
            },
        )
    f = data.facture
    return OpcoCall(
        kind,
        {
            "referenceFactureCFA": f.referenceFactureCFA,
            "dateFacture": f.dateFacture.isoformat(),
            "montantFacture": f.montantFacture,
            "organismeFormation": {
                "siret": f.organismeFormation.siret,
                "iban": f.organismeFormation.iban,
            },
            "dossiers": [
                {
                    "numeroInterneDossier": numeros[line.dossierId],
                    "numeroEcheance": line.numeroEcheance,
                    "montant": line.montant,
                }
                for line in f.lignes
            ],
        },
    )


def facture_reference(data: EventData) -> str | None:
    return data.facture.referenceFactureCFA if isinstance(data, FactureSubmittedData) else None


def natural_key(cerfa: Mapping[str, Any]) -> DossierNaturalKey | None:
    """What identifies a dossier at its OPCO before it has an id (DESIGN promise 2); None when
    the cerfa lacks a part of it (then only the OPCO's duplicate answer can tell)."""
    try:
        employeur = cerfa["employeur"]
        apprenti = cerfa["apprenti"]
        contrat = cerfa["contrat"]
        return DossierNaturalKey(
            employeur_siret=str(employeur["siret"]),
            apprenti_nom=str(apprenti["nom"]),
            apprenti_prenom=str(apprenti["prenom"]),
            apprenti_date_naissance=parse_date(apprenti["dateNaissance"]),
            date_debut_contrat=parse_date(contrat["dateDebutContrat"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def is_avenant(cerfa: Mapping[str, Any]) -> bool:
    """An amendment (typeContratApp 31-38) of an existing contract."""
    contrat = cerfa.get("contrat")
    kind = contrat.get("typeContratApp") if isinstance(contrat, Mapping) else None
    try:
        return 31 <= int(kind) <= 39  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def unresolved_error(*, own: bool) -> ErrorItem:
    """The problem reported when a needed dossier has no OPCO numeroInterne and never will."""
    where = "ce_subject" if own else "data.facture.lignes.dossierId"
    return ErrorItem(
        code="DOSSIER_NOT_AT_OPCO",
        path=where,
        message=(
            "the dossier has no OPCO numeroInterne and no pending submission: "
            "submit the dossier first (or give numeroInterneDossier)"
        ),
    )


def other_opco_error() -> ErrorItem:
    return ErrorItem(
        code="DOSSIER_AT_OTHER_OPCO",
        path="data",
        message="a dossier named by this event was submitted to another OPCO than this one",
    )
