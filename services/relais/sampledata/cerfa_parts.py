"""The parts of a cerfa, drawn from the seed: the CFAs of the network, employeur, apprenti (with
a consistent NIR and, for a minor, a responsable légal), maître d'apprentissage, the minimum wage
schedule, formation and organisme de formation; and the CloudEvent envelope with its ids and
times. ``Generator`` (generator.py) assembles them into dossiers and their follow-ups.
"""

from __future__ import annotations

import copy
import csv
import math
import random
import unicodedata
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from relais.domain.events import EventType
from relais.domain.json_types import Json
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.referentials import load_npec, referential
from relais.sampledata import catalogue as cat
from relais.sampledata import identifiers as ids
from relais.sampledata import wages
from relais.sampledata.generated import Cfa

PARIS = ZoneInfo("Europe/Paris")
CERFA_VERSION = "10103*14"


def load_idcc_by_opco(path: Path | None = None) -> dict[OpcoCode, tuple[str, ...]]:
    """IDCC codes of each OPCO from the referential (every OPCO is reachable)."""
    out: dict[OpcoCode, list[str]] = {code: [] for code in ALL_OPCO}
    with (path or referential("idcc-opco.csv")).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.lstrip().startswith("#")):
            out[OpcoCode(row["opco"].strip())].append(row["idcc"].strip().zfill(4))
    return {code: tuple(sorted(v)) for code, v in out.items()}


class CerfaParts:
    """The generator's state (one random stream, a clock, the CFAs) and the parts of a cerfa.
    ``today`` is the business day (Europe/Paris)."""

    def __init__(
        self,
        seed: int,
        today: date,
        *,
        cfa_count: int = 3,
        schemas_dir: Path | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.seed = seed
        self._files_dir = files_dir  # where conventions' and factures' PDFs go (None: a temp dir)
        self.today = today
        self.rng = random.Random(seed)
        self._smic = wages.load_smic(referential("smic.csv", schemas_dir))
        self.idcc_by_opco = load_idcc_by_opco(referential("idcc-opco.csv", schemas_dir))
        self._npec = load_npec(schemas_dir)
        self._seq = 0
        self._clock = datetime.combine(today, time(8, 0), PARIS)
        self.cfas: list[Cfa] = [self._make_cfa(i) for i in range(cfa_count)]

    # ------------------------------------------------------------------ plumbing

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _now(self) -> str:
        self._clock += timedelta(seconds=self.rng.randint(1, 90))
        return self._clock.isoformat()

    def _dossier_id(self, cfa: Cfa) -> str:
        self._seq += 1
        return f"{cfa.code}-{self.today.year}-{self._seq:05d}-{self.rng.getrandbits(24):06x}"

    def event(
        self, type_: EventType, cfa: Cfa, subject: str, data: Json, *, event_id: str | None = None
    ) -> Json:
        """A structured CloudEvent (file form)."""
        return {
            "specversion": "1.0",
            "id": event_id or self._uuid(),
            "type": type_.value,
            "source": cfa.source,
            "subject": subject,
            "time": self._now(),
            "datacontenttype": "application/json",
            "data": data,
        }

    def _day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randint(0, max(0, (hi - lo).days)))

    def _phone(self, mobile: bool = True) -> str:
        prefix = "063998" if mobile else self.rng.choice(cat.PHONE_PREFIXES[:-1])
        return f"{prefix}{self.rng.randrange(0, 10_000):04d}"

    def _email(self, *parts: str) -> str:
        local = ".".join(_ascii_slug(p) for p in parts if p)
        return f"{local}@{self.rng.choice(cat.EMAIL_DOMAINS)}"

    def _adresse(self, commune: cat.Commune) -> Json:
        return {
            "numero": self.rng.randint(1, 180),
            "voie": self.rng.choice(cat.VOIES),
            "codePostal": commune.code_postal,
            "commune": commune.nom,
        }

    def _make_cfa(self, index: int) -> Cfa:
        commune = self.rng.choice(cat.COMMUNES)
        return Cfa(
            code=f"CFA{index + 1:02d}",
            siret=ids.make_siret(self.rng),
            uai=ids.make_uai(self.rng, commune.departement),
            denomination=cat.CFA_NAMES[index % len(cat.CFA_NAMES)],
            commune=commune,
            adresse=self._adresse(commune),
            iban=ids.make_iban(self.rng),
        )

    def cfa(self, index: int | None = None) -> Cfa:
        return self.cfas[index] if index is not None else self.rng.choice(self.cfas)

    # ------------------------------------------------------------------ parts of a cerfa

    def _employeur(self, opco: OpcoCode) -> Json:
        naf, trade = self.rng.choice(cat.NAF_BY_OPCO[opco])
        commune = self.rng.choice(cat.COMMUNES)
        if opco is OpcoCode.OCAPIAT and naf.startswith("01"):
            type_employeur = 13  # MSA
        elif opco is OpcoCode.UNIFORMATION:
            type_employeur = 15  # association
        else:
            type_employeur = self.rng.choice((11, 12, 12, 12, 16))
        denomination = f"{trade} {self.rng.choice(cat.ENSEIGNES)}"
        return {
            "denomination": denomination,
            "siret": ids.make_siret(self.rng),
            "naf": naf,
            "nombreDeSalaries": self.rng.choice((3, 8, 12, 25, 48, 120, 350)),
            "codeIdcc": self.rng.choice(self.idcc_by_opco[opco]),
            "telephone": self._phone(mobile=False),
            "courriel": self._email("contact", denomination),
            "adresse": self._adresse(commune),
            "typeEmployeur": type_employeur,
            "employeurSpecifique": 0,
            "caisseComplementaire": self.rng.choice(cat.CAISSES),
            "regimeSpecifique": False,
            "attestationEligibilite": True,
            "attestationPieces": True,
        }

    def _birth_date(self, age: int, at: date) -> date:
        hi = wages.add_months(at, -12 * age)
        lo = wages.add_months(at, -12 * (age + 1)) + timedelta(days=1)
        for _ in range(10):
            birth = self._day(lo, hi)
            if wages.age_on(birth, at) == age:
                return birth
        return hi  # pragma: no cover - 29 February corner

    def _apprenti(
        self, *, age: int, start: date, conclusion: date, programme: cat.Programme, msa: bool
    ) -> Json:
        sexe = self.rng.choice("MF")
        prenom = self.rng.choice(cat.PRENOMS_M if sexe == "M" else cat.PRENOMS_F)
        nom = self.rng.choice(cat.NOMS)
        birth = self._birth_date(age, start)
        birthplace = self.rng.choice(cat.COMMUNES)
        home = self.rng.choice(cat.COMMUNES)
        diplome = self.rng.choice(cat.PRIOR_DIPLOMAS[min(programme.niveau, 7)])
        minor = wages.age_on(birth, conclusion) < 18
        apprenti: Json = {
            "nom": nom,
            "prenom": prenom,
            "sexe": sexe,
            "nationalite": self.rng.choices((1, 2, 3), weights=(90, 6, 4))[0],
            "dateNaissance": birth.isoformat(),
            "departementNaissance": birthplace.departement,
            "communeNaissance": birthplace.nom,
            "nir": ids.make_nir(
                self.rng,
                sexe=sexe,
                naissance=birth,
                departement=birthplace.departement,
                commune_insee=birthplace.insee,
            ),
            "regimeSocial": 1 if msa else 2,
            "handicap": self.rng.random() < 0.04,
            "situationAvantContrat": 1 if age < 18 else self.rng.choice((1, 3, 3, 7, 10, 11)),
            "diplome": diplome,
            "derniereClasse": self.rng.choice((1, 1, 1, 11, 21)),
            "diplomePrepare": diplome,
            "intituleDiplomePrepare": _diploma_label(diplome),
            "telephone": self._phone(),
            "courriel": self._email(prenom, nom, str(self.rng.randint(1, 99))),
            "adresse": self._adresse(home),
            "inscriptionSportifDeHautNiveau": False,
            "projetCreationRepriseEntreprise": False,
            "apprentiMineur": minor,
            "apprentiMineurNonEmancipe": minor,
        }
        if minor:
            parent_prenom = self.rng.choice(cat.PRENOMS_F + cat.PRENOMS_M)
            apprenti["responsableLegal"] = {
                "nom": nom,
                "prenom": parent_prenom,
                "courriel": self._email(parent_prenom, nom),
                "adresse": copy.deepcopy(apprenti["adresse"]),
            }
        return apprenti

    def _maitre(self, start: date, programme: cat.Programme) -> Json:
        sexe = self.rng.choice("MF")
        prenom = self.rng.choice(cat.PRENOMS_M if sexe == "M" else cat.PRENOMS_F)
        nom = self.rng.choice(cat.NOMS)
        niveau = min(8, programme.niveau + self.rng.choice((0, 0, 1)))
        return {
            "nom": nom,
            "prenom": prenom,
            "dateNaissance": self._birth_date(self.rng.randint(26, 60), start).isoformat(),
            "courriel": self._email(prenom, nom),
            "emploiOccupe": self.rng.choice(cat.EMPLOIS_MAITRE),
            "intituleDiplomeObtenu": cat.DIPLOMES_MAITRE[niveau],
            "niveauDiplomeObtenu": niveau,
        }

    def _remunerations(self, birth: date, start: date, end: date) -> tuple[list[Json], float]:
        bonus = self.rng.choices((0, 5, 10), weights=(80, 12, 8))[0]
        rows: list[Json] = []
        for period in wages.periods(birth, start, end):
            taux = period.minimum if period.minimum >= 100 else min(100, period.minimum + bonus)
            rows.append(
                {
                    "ordre": period.ordre,
                    "dateDebut": period.debut.isoformat(),
                    "dateFin": period.fin.isoformat(),
                    "taux": taux,
                    "typeSalaire": "SMIC",
                }
            )
        smic = wages.smic_at(self._smic, start)
        return rows, wages.monthly_amount(rows[0]["taux"], smic)

    def _formation(
        self, programme: cat.Programme, start: date, end: date, conclusion: date
    ) -> Json:
        debut = max(conclusion, start + timedelta(days=self.rng.randint(-14, 21)))
        fin = end - timedelta(days=self.rng.randint(0, 45))
        years = max(1.0, (end - start).days / 365)
        heures = int(programme.heures_par_an * years * self.rng.uniform(0.9, 1.1))
        # At least 25 % of the contract's working time (1607 h a year) is spent in training.
        heures = max(heures, math.ceil(0.25 * 1607 * ((end - start).days + 1) / 365) + 8)
        distanciel = 0 if self.rng.random() < 0.7 else self.rng.randint(10, heures // 4)
        return {
            "rncp": programme.rncp,
            "codeDiplome": programme.code_diplome,
            "typeDiplome": programme.type_diplome,
            "intituleQualification": programme.intitule,
            "dateDebutFormation": debut.isoformat(),
            "dateFinFormation": fin.isoformat(),
            "dureeFormation": heures,
            "nombreHeuresEnDistanciel": distanciel,
        }

    def _organisme(self, cfa: Cfa) -> Json:
        return {
            "denomination": cfa.denomination,
            "formationInterne": False,
            "siret": cfa.siret,
            "uaiCfa": cfa.uai,
            "visaCfa": True,
            "adresse": copy.deepcopy(cfa.adresse),
            "lieuFormationIdentique": True,
        }

    # ------------------------------------------------------------------ dossiers


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode().lower()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text).strip("-")


_DIPLOMA_LABELS = {
    13: "Aucun diplôme",
    25: "Diplôme national du brevet",
    26: "Certificat de formation générale",
    33: "CAP",
    34: "BEP",
    41: "Baccalauréat professionnel",
    42: "Baccalauréat général",
    43: "Baccalauréat technologique",
    54: "BTS",
    55: "DUT",
    62: "Licence professionnelle",
    63: "Licence générale",
    64: "BUT",
}


def _diploma_label(code: int) -> str:
    return _DIPLOMA_LABELS.get(code, "Autre diplôme")
