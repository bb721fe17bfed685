"""From a ledger command to the OPCO call it stands for (pure).

A command's ``payload`` is what ingest stored: ``{"type", "time", "data",
["numeroInterneDossier"]}``, where ``data`` is the CFA event's data as JSON (the models of
``relais.domain.events``) and ``numeroInterneDossier`` the dossier's OPCO id when ingest already
knew it (a bare ``data`` object is accepted too). Follow-ups (convention, facture, certificat,
rupture) name dossiers by the CFA's own dossier ids; the OPCO wants its ``numeroInterne``:
:func:`needed_dossiers` says which ones the dispatcher must resolve from the ledger,
:func:`build_call` fills them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from relais.domain.dates import parse_date
from relais.domain.events import (
    CertificatSubmittedData,
    ConventionSubmittedData,
    DossierSubmittedData,
    ErrorItem,
    FactureSubmittedData,
    PayloadError,
    RuptureDeclaredData,
    errors_from_validation,
)
from relais.domain.json_types import Json
from relais.services.ledger_port import Command, CommandKind
from relais.services.opco_port import DossierNaturalKey

_MODELS: dict[CommandKind, type[BaseModel]] = {
    CommandKind.DOSSIER: DossierSubmittedData,
    CommandKind.CONVENTION: ConventionSubmittedData,
    CommandKind.FACTURE: FactureSubmittedData,
    CommandKind.CERTIFICAT: CertificatSubmittedData,
    CommandKind.RUPTURE: RuptureDeclaredData,
}


@dataclass(frozen=True)
class OpcoCall:
    kind: CommandKind
    body: Json  # the cerfa for a dossier, the route's JSON body otherwise


def event_data(command: Command) -> Any:
    """The CFA event's ``data`` inside a command's payload."""
    payload = command.payload
    if "type" in payload and isinstance(payload.get("data"), dict):
        return payload["data"]
    return payload


def known_numero(command: Command) -> str | None:
    """The numeroInterne of the command's own dossier when ingest already knew it."""
    numero = command.payload.get("numeroInterneDossier") if "data" in command.payload else None
    return numero if isinstance(numero, str) and numero else None


def parse_payload(command: Command) -> BaseModel:
    """The typed data of a command (raises ``PayloadError`` if the stored payload is unusable)."""
    model = _MODELS[command.kind]
    try:
        return model.model_validate(event_data(command))
    except ValidationError as exc:
        raise PayloadError(errors_from_validation(exc, "data")) from None


def needed_dossiers(command: Command, data: BaseModel) -> list[str]:
    """The CFA dossier ids whose OPCO numeroInterne this command needs, in order, no repeats."""
    if isinstance(data, FactureSubmittedData):
        return data.facture.dossier_ids
    if isinstance(data, ConventionSubmittedData) and data.numeroInterneDossier:
        return []
    if isinstance(data, CertificatSubmittedData) and data.certificat.get("numeroInterneDossier"):
        return []
    if isinstance(data, DossierSubmittedData):
        return []
    return [command.dossier_id]


def build_call(command: Command, data: BaseModel, numeros: Mapping[str, str]) -> OpcoCall:
    """The body of the OPCO call; ``numeros`` maps every needed CFA dossier id to its
    numeroInterne (see :func:`needed_dossiers`)."""
    kind = command.kind
    if isinstance(data, DossierSubmittedData):
        return OpcoCall(kind, dict(data.cerfa))
    if isinstance(data, ConventionSubmittedData):
        numero = data.numeroInterneDossier or numeros[command.dossier_id]
        return OpcoCall(kind, {**data.convention, "numeroInterneDossier": numero})
    if isinstance(data, CertificatSubmittedData):
        body = dict(data.certificat)
        body.setdefault("numeroInterneDossier", numeros.get(command.dossier_id))
        return OpcoCall(kind, body)
    if isinstance(data, RuptureDeclaredData):
        return OpcoCall(
            kind,
            {
                "numeroInterne": numeros[command.dossier_id],
                "dateRupture": data.rupture.dateRupture.isoformat(),
                "motif": data.rupture.motif,
            },
        )
    if isinstance(data, FactureSubmittedData):
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
    raise TypeError(f"no OPCO call for {type(data).__name__}")


def facture_reference(data: BaseModel) -> str | None:
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
