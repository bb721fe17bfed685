"""What the generator gives back: a CFA of the network, a dossier event with what its follow-ups
need to stay consistent with it, and an invalid dossier with where it breaks the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.sampledata import catalogue as cat
from relais.sampledata import invalid


@dataclass(frozen=True)
class Cfa:
    """One CFA of the generated network (``source`` = its ce_source)."""

    code: str
    siret: str
    uai: str
    denomination: str
    commune: cat.Commune
    adresse: Json
    iban: str

    @property
    def source(self) -> str:
        return f"urn:siret:{self.siret}"


@dataclass
class GeneratedDossier:
    """A dossier event and what the follow-ups need to stay consistent with it."""

    dossier_id: str
    cfa: Cfa
    opco: OpcoCode  # the competent OPCO (from the employer's IDCC, or explicit)
    cerfa: Json
    event: Json
    programme: cat.Programme
    cout_annuel: float  # pedagogical cost per year agreed in the convention
    explicit_opco: bool = False
    extra_personal: list[str] = field(default_factory=list)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def start(self) -> date:
        return date.fromisoformat(self.cerfa["contrat"]["dateDebutContrat"])

    @property
    def end(self) -> date:
        return date.fromisoformat(self.cerfa["contrat"]["dateFinContrat"])

    def personal_values(self) -> list[str]:
        """Every personal value of the dossier (must never appear in a status event or log)."""
        a = self.cerfa["apprenti"]
        values = [a["nom"], a["prenom"], a["nir"], a["dateNaissance"], a["courriel"]]
        values += [a["telephone"]]
        if a.get("nomUsage"):
            values.append(a["nomUsage"])
        for key in ("maitre1", "maitre2"):
            m = self.cerfa.get(key)
            if m:
                values += [m["nom"], m["prenom"], m["dateNaissance"], m["courriel"]]
        rl = a.get("responsableLegal")
        if rl:
            values += [rl["nom"], rl["prenom"]]
        values.append(self.cfa.iban)
        values += self.extra_personal
        return values


@dataclass(frozen=True)
class InvalidDossier:
    dossier: GeneratedDossier
    breakage: invalid.Breakage

    @property
    def event(self) -> Json:
        return self.dossier.event

    @property
    def path(self) -> str:
        """Where the control rules must report the problem (relative to ``cerfa``)."""
        return self.breakage.path
