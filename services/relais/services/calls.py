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
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from relais.domain import wire
from relais.domain.cerfa import Cerfa
from relais.domain.dates import parse_date
from relais.domain.events import (
    CertificatSubmittedData,
    ConventionSubmittedData,
    DocumentSubmittedData,
    DossierSubmittedData,
    ErrorItem,
    EventData,
    FactureSubmittedData,
    PayloadError,
    RuptureDeclaredData,
    errors_from_validation,
)
from relais.domain.files import FileReference
from relais.domain.followups import Certificat, Convention, Facture, Rupture
from relais.domain.json_types import Json
from relais.domain.profiles import Quirks
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import CommandKind
from relais.services.opco_port import DossierNaturalKey

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class OpcoCall:
    kind: CommandKind
    body: Json  # the cerfa for a dossier, the route's JSON body otherwise
    file: FileReference | None = None  # the signed convention, the invoice PDF, the document


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
    kind: CommandKind,
    dossier_id: str,
    data: EventData,
    numeros: Mapping[str, str],
    quirks: Quirks | None = None,
    externes: Mapping[str, str] | None = None,
    facture_numero: str | None = None,
) -> OpcoCall:
    """The body of the OPCO call, built from the validated model in the standard's wire forms
    (``domain/wire.py``, the OPCO profile's ``quirks``), never the CFA's raw JSON; ``numeros``
    maps every needed CFA dossier id (and the own one when known) to its numeroInterne (see
    :func:`needed_dossiers`), ``externes`` a facture's dossiers to their numeroExterne,
    ``facture_numero`` the numeroInterneFacture of the facture a document names.
    Raises ``PayloadError`` when the stored data no longer reads as its model, or a facture's
    dossier has no numeroExterne (dispatch fails the command without calling)."""
    if isinstance(data, DossierSubmittedData):
        return OpcoCall(
            kind, wire.dossier_body(_model(Cerfa, data.cerfa, "cerfa"), quirks)["cerfa"]
        )
    if isinstance(data, ConventionSubmittedData):
        numero = data.numeroInterneDossier or numeros[dossier_id]
        convention = _model(Convention, data.convention, "convention")
        return OpcoCall(kind, wire.convention_body(convention, numero), data.fichier)
    if isinstance(data, CertificatSubmittedData):
        certificat = _model(Certificat, data.certificat, "certificat")
        return OpcoCall(kind, wire.certificat_body(certificat, numeros.get(dossier_id, "")))
    if isinstance(data, RuptureDeclaredData):
        rupture = _model(Rupture, data.rupture.model_dump(), "rupture")
        return OpcoCall(kind, wire.rupture_body(rupture, numeros[dossier_id]))
    if isinstance(data, DocumentSubmittedData):
        infos = wire.document_infos(data.typeFichier, numeros[dossier_id], facture_numero)
        return OpcoCall(kind, infos, data.fichier)
    facture = _model(Facture, data.facture.model_dump(exclude={"fichier"}), "facture")
    missing = [i for i in data.facture.dossier_ids if not (externes or {}).get(i)]
    if missing:
        raise PayloadError([no_numero_externe_error()])
    body = wire.facture_body(facture, externes or {})
    body["estCertificatRealisation"] = data.facture.certificat_realisation
    return OpcoCall(kind, body, data.facture.fichier)


def _model(model: type[M], data: Mapping[str, Any], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(errors_from_validation(exc, f"data.{where}")) from None


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
            "le dossier n'a pas de numeroInterne à l'OPCO ni de transmission en cours : "
            "transmettez d'abord le dossier (ou donnez numeroInterneDossier)"
        ),
    )


def no_numero_externe_error() -> ErrorItem:
    """A facture names a dossier whose numeroExterne relais does not know (the OPCO never gave
    it): the facture line's ``numeroDossier`` cannot be written."""
    return ErrorItem(
        code="DOSSIER_WITHOUT_NUMERO_EXTERNE",
        path="data.facture.lignes.dossierId",
        message=(
            "un dossier de cette facture n'a pas encore de numeroExterne donné par son OPCO : "
            "la facture nomme les dossiers par lui (numeroDossier)"
        ),
    )


def other_opco_error() -> ErrorItem:
    return ErrorItem(
        code="DOSSIER_AT_OTHER_OPCO",
        path="data",
        message="un dossier cité par cet événement a été transmis à un autre OPCO que celui-ci",
    )
