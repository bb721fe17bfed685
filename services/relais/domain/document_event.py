"""The document event's data (``fr.cfa.document.submitted.v1``): a further file for a dossier (a
convention de réduction de durée, de mobilité, a certificat de réalisation...), and optionally for
one of its factures, delivered to the OPCO by ``POST /v1/documents`` (convergence-api.md 0:
``infosFichier`` = ``{typeFichier, objets[{typeObjet, idObjet}]}`` + ``fichier``).

The dossier is the event's ``ce_subject`` (its Kafka key): the document waits in that dossier's
queue, behind its submission, like every follow-up. The file travels by reference (a claim check:
``FileReference``), never in the record. Re-exported by ``relais.domain.events``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from relais.domain.files import FileReference

TypeFichier = Literal[
    "CONVENTION_FORMATION",
    "CONVENTION_REDUCTION_DUREE",
    "CONVENTION_MOBILITE",
    "FACTURE",
    "CERTIFICAT_REALISATION",
]
"""What the file is, as the OPCO names it (convergence-api.md 0; the state's model)."""

TYPES_FICHIER: tuple[TypeFichier, ...] = (
    "CONVENTION_FORMATION",
    "CONVENTION_REDUCTION_DUREE",
    "CONVENTION_MOBILITE",
    "FACTURE",
    "CERTIFICAT_REALISATION",
)


class DocumentSubmittedData(BaseModel):
    """A further file for the dossier named by ce_subject (and one of its factures), by reference.

    With ``referenceFactureCFA`` the file attaches to that facture of the CFA too. ``fichier``
    says where the file is (a claim check: the file never travels in the record, but a small one
    inline) and what it must be (size, SHA-256, media type, name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    typeFichier: TypeFichier = Field(description="What the file is, as the OPCO names it")
    referenceFactureCFA: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description=(
            "The CFA's invoice number of a facture of this dossier the file also attaches to "
            "(sent as that facture's OPCO id)"
        ),
    )
    fichier: FileReference = Field(description="Where the file is and what it must be")
