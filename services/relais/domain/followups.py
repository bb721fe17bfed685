"""Follow-up bodies: convention (2.10), facture (2.11), certificat (2.12), rupture (2.14).

Same conventions as ``relais.domain.cerfa``: the standard's field names, every field optional in
the model (requirements are control rules), unknown fields kept, lenient dates sent at midnight UTC.

A follow-up names its dossier by the OPCO's ``numeroInterneDossier`` on the wire; in a CFA event
it may be absent (relais fills it in from the ledger), so the model does not require it.
The facture goes on the wire in convergence-api.md 0's form (``numero``, ``lignes[]`` with
``natureLigne``, ``codificationEcheance`` and ``numeroDossier`` = the dossier's numeroExterne); the
CFA event names dossiers by the CFA's own id in ``lignes[{dossierId, numeroEcheance, montant}]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from relais.domain.cerfa import Amount, Code, Section
from relais.domain.dates import WireDate

NatureLigne = Literal[
    "PEDAGOGIE", "PREMIEREQUIPEMENT", "MOBILITE", "HEBERGEMENT", "RESTAURATION", "MAJORATION_RQTH"
]
"""What a facture line invoices (``natureLigne``, convergence-api.md 0)."""

FollowupKind = Literal["convention", "facture", "certificat", "rupture"]
FOLLOWUP_KINDS: tuple[FollowupKind, ...] = ("convention", "facture", "certificat", "rupture")


class SiretRef(Section):
    siret: str | None = None


class ApprentiRef(Section):
    nom: str | None = None
    prenom: str | None = None
    nomUsage: str | None = None
    dateNaissance: WireDate | None = None


class ContratRef(Section):
    dateDebutContrat: WireDate | None = None
    dateFinContrat: WireDate | None = None


class OrganismeFormationRef(Section):
    siret: str | None = None
    uaiCfa: str | None = None


class FormationRef(Section):
    dateDebutFormation: WireDate | None = None
    dateFinFormation: WireDate | None = None
    dureeFormation: Code | None = None
    rncp: str | None = None
    codeDiplome: str | None = None
    intituleQualification: str | None = None


class Couts(Section):
    coutTotalPedagogieCFA: Amount | None = None
    montantRQTHAnnee1: Amount | None = None
    montantRQTHAnnee2: Amount | None = None
    montantRQTHAnnee3: Amount | None = None
    montantRQTHAnnee4: Amount | None = None
    nombreRepasTotaux: Code | None = None
    nombreHebergementTotaux: Code | None = None
    montantPremierEquipement: Amount | None = None
    mentionMobiliteInternationale: bool | None = None
    accompagnementDROM: bool | None = None


class Convention(Section):
    """The convention de formation between the CFA and the employer (its costs), sent to the OPCO
    as ``POST /v1/conventions``."""

    numeroInterneDossier: str | None = None
    employeur: SiretRef | None = None
    apprenti: ApprentiRef | None = None
    contrat: ContratRef | None = None
    organismeFormation: OrganismeFormationRef | None = None
    formation: FormationRef | None = None
    couts: Couts | None = None
    mandatEmployeur: bool | None = None
    dateSignature: WireDate | None = None
    attestationConventionSigneeEntreprise: bool | None = None
    attestationConventionSigneeCFA: bool | None = None
    attestationConventionSignatureProbante: bool | None = None
    attestationConventionConformeJSON: bool | None = None


class OrganismeFacturant(Section):
    """The invoicing CFA. ``iban`` (relais's contract) or ``IBAN`` (seen at AKTO) are both read."""

    model_config = ConfigDict(populate_by_name=True)

    siret: str | None = None
    uaiCfa: str | None = None
    iban: str | None = None
    IBAN: str | None = None

    @property
    def iban_value(self) -> str | None:
        return self.iban if self.iban is not None else self.IBAN


class LigneFacture(Section):
    """One invoiced échéance of one dossier: by the CFA's ``dossierId`` in an event; on the wire
    (convergence-api.md 0) by ``numeroDossier``, the dossier's numeroExterne at its OPCO."""

    numeroInterneDossier: str | None = None
    numeroExterneDossier: str | None = None
    numeroDossier: str | None = None
    dossierId: str | None = None
    numeroEcheance: Code | None = None
    codificationEcheance: Code | None = None
    natureLigne: str | None = None
    quantite: Code | None = None
    montant: Amount | None = None


class Facture(Section):
    """A facture of the CFA to the OPCO for échéances of one or more dossiers
    (``POST /v1/factures``): the event's names (``referenceFactureCFA``, ``dateFacture``,
    ``montantFacture``, ``organismeFormation``, ``lignes``) are read; the wire form is
    ``wire.facture_body``."""

    referenceFactureCFA: str | None = None
    dateFacture: WireDate | None = None
    montantFacture: Amount | None = None
    organismeFormation: OrganismeFacturant | None = None
    estCertificatRealisation: bool | None = None
    dossiers: list[LigneFacture] | None = None
    lignes: list[LigneFacture] | None = None


class RepresentantLegal(Section):
    nom: str | None = None
    prenom: str | None = None
    qualite: str | None = None


class EcheanceCertifiee(Section):
    numero: Code | None = None
    codification: str | None = None
    duree: Amount | None = None
    dateDebut: WireDate | None = None
    dateFin: WireDate | None = None
    echeancePartielle: bool | None = None


class Certificat(Section):
    """A certificat de réalisation of the training (``POST /v2/certificats``)."""

    typeCertificat: str | None = None
    numeroInterneDossier: str | None = None
    numeroInterneFacture: str | None = None
    dateSignature: WireDate | None = None
    lieuSignatureContrat: str | None = None
    representantLegal: RepresentantLegal | None = None
    attestationConservationPieces: bool | None = None
    natureAction: str | None = None
    employeur: SiretRef | None = None
    organismeFormation: OrganismeFormationRef | None = None
    apprenti: ApprentiRef | None = None
    echeance: EcheanceCertifiee | None = None


class Rupture(Section):
    """The early termination (rupture) of a contract (``POST /v2/dossiers/rupture/employeur``)."""

    numeroInterne: str | None = None
    dateRupture: WireDate | None = None
    motif: str | None = None


FOLLOWUP_MODELS: dict[FollowupKind, type[Section]] = {
    "convention": Convention,
    "facture": Facture,
    "certificat": Certificat,
    "rupture": Rupture,
}
