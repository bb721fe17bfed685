"""What an OPCO keeps: dossiers, échéances, factures, conventions, certificats, documents."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from relais.domain.json_types import Json
from relais_simulator.financing import FraisAnnexe
from relais_simulator.states import DossierEtat, FactureEtat


@dataclass(slots=True)
class Echeance:
    numero: int
    codification: str
    montant_total: int  # cents
    date_ouverture: date
    date_debut: date
    date_fin: date
    montant_regle: int = 0
    montant_en_cours: int = 0

    @property
    def remaining(self) -> int:
        return self.montant_total - self.montant_regle - self.montant_en_cours

    @property
    def paid(self) -> bool:
        return self.montant_regle >= self.montant_total


@dataclass(frozen=True, slots=True)
class Facts:
    """What the OPCO's own computations need from a cerfa, read once at submission."""

    date_debut: date | None = None
    date_fin: date | None = None
    date_conclusion: date | None = None
    certifications: tuple[str, ...] = ()
    idcc: str = ""
    code_postal: str = ""
    duree_formation_h: int = 0
    heures_distanciel: int = 0
    type_diplome: int = 0
    nom_refus: bool = False


@dataclass(slots=True)
class Dossier:
    """A dossier; its cerfa is kept as the JSON body received (a parsed cerfa weighs ~4x more)."""

    numero_interne: str
    numero_externe: str
    cfa_siret: str
    natural_key: str
    raw: bytes  # {"cerfa": {...}}
    facts: Facts
    created_day: float
    version: str
    etat: DossierEtat = DossierEtat.TRANSMIS
    commentaire: str | None = None
    numero_deca: str | None = None
    refuse: bool = False
    decision_day: float = 0.0
    engagement_cents: int | None = None
    npec_cents: int | None = None
    echeances: list[Echeance] = field(default_factory=list)
    frais: list[FraisAnnexe] = field(default_factory=list)
    date_rupture: date | None = None
    convention_id: str | None = None
    history: list[tuple[float, str]] = field(default_factory=list)

    @property
    def cerfa(self) -> Json:
        value: Json = json.loads(self.raw)["cerfa"]
        return value


@dataclass(frozen=True, slots=True)
class FactureLine:
    numero_interne_dossier: str
    numero_echeance: int
    montant: int  # cents


@dataclass(slots=True)
class Facture:
    numero_interne_facture: str
    reference: str
    cfa_siret: str
    montant: int
    date_facture: date | None
    iban: str | None
    lines: list[FactureLine]
    created_day: float
    etat: FactureEtat = FactureEtat.TRANSMIS
    reference_virement: str | None = None
    date_reglement: date | None = None
    commentaire: str | None = None
    history: list[tuple[float, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Convention:
    id_convention: str
    numero_interne_dossier: str
    cfa_siret: str
    couts: Json


@dataclass(frozen=True, slots=True)
class Certificat:
    id_certificat: str
    numero_interne_dossier: str
    numero_echeance: int
    cfa_siret: str


@dataclass(slots=True)
class Document:
    """A file attached to objects of one CFA (``objets``: (typeObjet, idObjet) pairs); its bytes
    are kept for inspection (``content``: None once evicted to bound the simulator's memory)."""

    numero_interne_document: str
    cfa_siret: str
    type_fichier: str
    objets: frozenset[tuple[str, str]]
    sha256: str
    size: int
    file_name: str
    media_type: str
    created_day: float
    content: bytes | None
