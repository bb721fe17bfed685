"""The facture event's data (``fr.cfa.facture.submitted.v1``): what the CFA says of an invoice
and what the OPCO's wire needs from it (convergence-api.md 0): the invoice number, lines with
their nature, échéance number and codification (99 for a dossier's last échéance), the dossiers
by the CFA's own id (relais sends each one's numeroExterne), the certificat de réalisation flag
(how v1 carries it) and the invoice PDF (``FileReference``). Re-exported by
``relais.domain.events``."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from relais.domain.files import FileReference
from relais.domain.followups import NatureLigne

MAX_ID = 200  # as relais.domain.events.MAX_ID: a dossierId is an id
_Data = ConfigDict(extra="forbid", frozen=True)


class OrganismeFacturant(BaseModel):
    model_config = _Data

    siret: str = Field(pattern=r"^[0-9]{14}$")
    iban: str = Field(min_length=15, max_length=34, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


LAST_ECHEANCE = 99  # codificationEcheance of a dossier's last échéance (convergence-api.md 0)


class LigneFacture(BaseModel):
    """One invoiced échéance of one dossier, named by the CFA's own dossier id (relais sends the
    OPCO's numeroExterne of that dossier as ``numeroDossier``)."""

    model_config = _Data

    dossierId: str = Field(min_length=1, max_length=MAX_ID)
    numeroEcheance: int = Field(ge=1, le=98)
    montant: float = Field(gt=0)
    natureLigne: NatureLigne = Field(
        default="PEDAGOGIE", description="What the line invoices (convergence-api.md 0)"
    )
    quantite: int = Field(default=1, ge=1, le=100_000)
    codificationEcheance: int | None = Field(
        default=None,
        ge=1,
        le=LAST_ECHEANCE,
        description="The échéance number, or 99 for the dossier's last échéance (default: number)",
    )

    @model_validator(mode="after")
    def _codification(self) -> LigneFacture:
        code = self.codificationEcheance
        if code is not None and code not in (self.numeroEcheance, LAST_ECHEANCE):
            raise ValueError("codificationEcheance is the échéance number, or 99 for the last one")
        return self

    @property
    def codification(self) -> int:
        return self.codificationEcheance or self.numeroEcheance


class FactureCFA(BaseModel):
    model_config = _Data

    referenceFactureCFA: str = Field(
        min_length=1, max_length=50, description="The CFA's invoice number (sent as 'numero')"
    )
    dateFacture: date = Field(description="Issue date (sent as 'dateEmission')")
    montantFacture: float = Field(gt=0, description="Total (sent as 'montantTotal')")
    organismeFormation: OrganismeFacturant
    lignes: list[LigneFacture] = Field(min_length=1, max_length=200)
    estCertificatRealisation: bool | None = Field(
        default=None,
        description=(
            "The invoice carries the certificat de réalisation (v1): default false when every "
            "line is on échéance 1, true otherwise (convergence-api.md 0)"
        ),
    )
    fichier: FileReference | None = Field(
        default=None,
        description=(
            "The invoice PDF by reference (s3://, a local path under the CFA's root, or inline "
            "data:), sent in the multipart part 'fichier' where the OPCO takes multipart "
            "(convergence-api.md 0); required there"
        ),
    )

    @property
    def certificat_realisation(self) -> bool:
        if self.estCertificatRealisation is not None:
            return self.estCertificatRealisation
        return any(line.numeroEcheance > 1 for line in self.lignes)

    @property
    def dossier_ids(self) -> list[str]:
        """The CFA dossier ids this invoice covers, in first-seen order, without repeats."""
        return list(dict.fromkeys(line.dossierId for line in self.lignes))


class FactureSubmittedData(BaseModel):
    """An invoice on one or several échéances, possibly of several dossiers."""

    model_config = _Data

    facture: FactureCFA
