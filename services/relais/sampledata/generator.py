"""Realistic, deterministic CFA events: ``Generator(seed, today)``.

The same seed and day always give the same events (ids included), so a test, the demo and the
benchmark can regenerate what they sent. A generated dossier is valid under the control rules of
convergence-api.md 3.x: Luhn-valid SIRETs (never La Poste's), UAIs with their check letter, a NIR
consistent with sex, birth year/month and department (2A/2B included) with its key, an apprentice
aged 16 to 29 at the start, a responsable légal for minors, contract of 12 to 36 months and training
dates inside the allowed windows, and the legal minimum wage schedule (3.5) on the SMIC in force.

Events are CloudEvents structured dicts (the file form), ready for ``structured_to_record``.
"""

from __future__ import annotations

import copy
import csv
import math
import random
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from relais.domain.events import EventType
from relais.domain.json_types import Json
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.referentials import load_npec, referential
from relais.sampledata import catalogue as cat
from relais.sampledata import identifiers as ids
from relais.sampledata import invalid, wages
from relais.sampledata.invalid import InvalidKind

PARIS = ZoneInfo("Europe/Paris")
CERFA_VERSION = "10103*14"
NPEC_SHARE = 0.9  # the yearly cost a generated convention agrees, at most, of its NPEC


def load_idcc_by_opco(path: Path | None = None) -> dict[OpcoCode, tuple[str, ...]]:
    """IDCC codes of each OPCO from the referential (every OPCO is reachable)."""
    out: dict[OpcoCode, list[str]] = {code: [] for code in ALL_OPCO}
    with (path or referential("idcc-opco.csv")).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(line for line in fh if not line.lstrip().startswith("#")):
            out[OpcoCode(row["opco"].strip())].append(row["idcc"].strip().zfill(4))
    return {code: tuple(sorted(v)) for code, v in out.items()}


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


class Generator:
    """Deterministic sample CFA events. ``today`` is the business day (Europe/Paris)."""

    def __init__(
        self,
        seed: int,
        today: date,
        *,
        cfa_count: int = 3,
        schemas_dir: Path | None = None,
    ) -> None:
        self.seed = seed
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

    def dossier(
        self,
        opco: OpcoCode | str | None = None,
        *,
        cfa: Cfa | None = None,
        explicit_opco: bool = False,
        age: int | None = None,
        programme: cat.Programme | None = None,
        start: date | None = None,
        _apprenti: Json | None = None,
        _employeur: Json | None = None,
        _type_contrat: int = 11,
        _previous: str | None = None,
    ) -> GeneratedDossier:
        """A valid new-contract dossier event for an employer of ``opco`` (random if None).

        ``explicit_opco`` also names the OPCO in the event (``data.opco``), bypassing IDCC routing.
        """
        opco = OpcoCode(opco) if opco is not None else self.rng.choice(ALL_OPCO)
        cfa = cfa or self.rng.choice(self.cfas)
        programme = programme or self.rng.choice(cat.PROGRAMMES)
        start = start or self.today + timedelta(days=self.rng.randint(-3, 75))
        conclusion = min(start, self.today) - timedelta(days=self.rng.randint(0, 20))
        months = programme.annees * 12
        if months >= 24 and self.rng.random() < 0.2:
            months -= 6
        end = wages.add_months(start, months) - timedelta(days=1)
        employeur = _employeur or self._employeur(opco)
        if _apprenti is None:
            if age is None:
                age = self.rng.randint(max(16, programme.age_min), min(29, programme.age_max))
            apprenti = self._apprenti(
                age=age,
                start=start,
                conclusion=conclusion,
                programme=programme,
                msa=employeur["typeEmployeur"] == 13,
            )
        else:
            apprenti = _apprenti
        birth = date.fromisoformat(apprenti["dateNaissance"])
        remunerations, salaire = self._remunerations(birth, start, end)
        contrat: Json = {
            "modeContractuel": self.rng.choices((1, 2), weights=(80, 20))[0],
            "typeContratApp": _type_contrat,
            "dateConclusion": conclusion.isoformat(),
            "dateDebutContrat": start.isoformat(),
            "dateDebutFormationPratique": start.isoformat(),
            "dateFinContrat": end.isoformat(),
            "lieuSignatureContrat": employeur["adresse"]["commune"],
            "dureeTravailHebdoHeures": 35,
            "dureeTravailHebdoMinutes": 0,
            "travailRisque": opco in (OpcoCode.CONSTRUCTYS, OpcoCode.OPCO2I)
            and self.rng.random() < 0.5,
            "avantageNature": False,
            "salaireEmbauche": salaire,
            "remunerationsAnnuelles": remunerations,
        }
        if wages.age_on(birth, end) >= 21:  # the state form asks the SMC from 21 at the end
            # the state form asks the SMC from 21 at the contract's end; none above the SMIC here
            contrat["smc"] = wages.monthly_amount(100, wages.smic_at(self._smic, start))
        if _previous is not None:
            contrat["numeroContratPrecedent"] = _previous
        cerfa: Json = {
            "versionCERFA": CERFA_VERSION,
            "CERFASignatureProbante": True,
            "employeur": employeur,
            "apprenti": apprenti,
            "maitre1": self._maitre(start, programme),
            "formation": self._formation(programme, start, end, conclusion),
            "contrat": contrat,
            "organismeFormation": self._organisme(cfa),
        }
        if self.rng.random() < 0.2:
            cerfa["maitre2"] = self._maitre(start, programme)
        dossier_id = self._dossier_id(cfa)
        data: Json = {"cerfa": cerfa}
        if explicit_opco:
            data = {"opco": opco.value, "cerfa": cerfa}
        return GeneratedDossier(
            dossier_id=dossier_id,
            cfa=cfa,
            opco=opco,
            cerfa=cerfa,
            event=self.event(EventType.DOSSIER_SUBMITTED, cfa, dossier_id, data),
            programme=programme,
            cout_annuel=self._cout_annuel(cerfa, conclusion),
            explicit_opco=explicit_opco,
        )

    def _cout_annuel(self, cerfa: Json, conclusion: date) -> float:
        """A yearly pedagogical cost within the NPEC of the dossier's certification and IDCC (a
        convention above it is refused before any call: the CFA knows its NPEC)."""
        drawn = float(self.rng.randrange(4_500, 12_000, 50))
        formation = cerfa["formation"]
        npec = self._npec.lookup(
            (formation.get("rncp"), formation.get("codeDiplome")),
            cerfa["employeur"].get("codeIdcc"),
            conclusion,
        )
        if npec is None:
            return drawn
        return min(drawn, float(math.floor(npec.npec_cents * NPEC_SHARE / 5_000) * 50))

    def dossiers(self, n: int, opcos: Sequence[OpcoCode] | None = None) -> list[GeneratedDossier]:
        """``n`` dossiers, cycling through ``opcos`` (default: all 11) so each one gets some."""
        pool = list(opcos or ALL_OPCO)
        return [self.dossier(pool[i % len(pool)]) for i in range(n)]

    def _rewrap(self, d: GeneratedDossier) -> None:
        """A new dossier event (new id) carrying ``d.cerfa``."""
        data: Json = {"cerfa": d.cerfa}
        if d.explicit_opco:
            data = {"opco": d.opco.value, "cerfa": d.cerfa}
        d.event = self.event(EventType.DOSSIER_SUBMITTED, d.cfa, d.dossier_id, data)

    def avenant(
        self,
        dossier: GeneratedDossier,
        type_avenant: int = 36,
        *,
        no_contrat: str | None = None,
        same_dossier_id: bool = True,
    ) -> GeneratedDossier:
        """An avenant (typeContratApp 31-38) to ``dossier``: a new dossier event on the same CFA
        dossier id (so it is ordered after the contract), naming the contract by its DECA number
        (``no_contrat``, as the OPCO gave it; a plausible one when unknown)."""
        if not 31 <= type_avenant <= 38:
            raise ValueError("an avenant is typeContratApp 31 to 38")
        cerfa = copy.deepcopy(dossier.cerfa)
        contrat = cerfa["contrat"]
        start, end = dossier.start, dossier.end
        effet = min(end, max(start, self.today) + timedelta(days=self.rng.randint(1, 30)))
        contrat["typeContratApp"] = type_avenant
        contrat["numeroContratPrecedent"] = no_contrat or ids.make_deca(
            self.rng, cerfa["employeur"]["adresse"]["codePostal"][:2], start
        )
        contrat["dateEffetAvenant"] = effet.isoformat()
        contrat["noAvenant"] = "1"
        if type_avenant == 36:  # e.g. a new maître d'apprentissage
            cerfa["maitre1"] = self._maitre(start, dossier.programme)
        elif type_avenant == 33:  # extension after an exam failure: one more year
            new_end = wages.add_months(end, 12)
            birth = date.fromisoformat(cerfa["apprenti"]["dateNaissance"])
            contrat["dateFinContrat"] = new_end.isoformat()
            contrat["remunerationsAnnuelles"], contrat["salaireEmbauche"] = self._remunerations(
                birth, start, new_end
            )
            cerfa["formation"]["dateFinFormation"] = (new_end - timedelta(days=15)).isoformat()
        elif type_avenant == 37:  # new place of execution
            cerfa["employeur"]["adresse"] = self._adresse(self.rng.choice(cat.COMMUNES))
        dossier_id = dossier.dossier_id if same_dossier_id else self._dossier_id(dossier.cfa)
        out = GeneratedDossier(
            dossier_id=dossier_id,
            cfa=dossier.cfa,
            opco=dossier.opco,
            cerfa=cerfa,
            event={},
            programme=dossier.programme,
            cout_annuel=dossier.cout_annuel,
            explicit_opco=dossier.explicit_opco,
            extra_personal=dossier.personal_values(),
        )
        self._rewrap(out)
        return out

    def succession(
        self,
        type_succession: Literal[21, 22, 23] = 21,
        *,
        previous: GeneratedDossier | None = None,
        opco: OpcoCode | None = None,
        no_contrat_precedent: str | None = None,
    ) -> GeneratedDossier:
        """A new contract following a previous one (21 same employer, 22 other employer after
        completion, 23 other employer after a rupture), as a new CFA dossier."""
        if type_succession not in (21, 22, 23):
            raise ValueError("a succession is typeContratApp 21, 22 or 23")
        apprenti = copy.deepcopy(previous.cerfa["apprenti"]) if previous else None
        employeur = None
        if previous is not None:
            opco = opco or previous.opco
            if type_succession == 21:
                employeur = copy.deepcopy(previous.cerfa["employeur"])
        previous_start = previous.start if previous else self.today - timedelta(days=400)
        precedent = no_contrat_precedent or ids.make_deca(self.rng, "075", previous_start)
        start = self.today + timedelta(days=self.rng.randint(0, 30))
        if apprenti is not None:
            apprenti["situationAvantContrat"] = 4
            birth = date.fromisoformat(apprenti["dateNaissance"])
            if wages.age_on(birth, start) > 29:
                raise ValueError("the apprentice would be over 29 at the start of the succession")
            minor = wages.age_on(birth, min(start, self.today)) < 18
            apprenti["apprentiMineur"] = apprenti["apprentiMineurNonEmancipe"] = minor
            if not minor:
                apprenti.pop("responsableLegal", None)
        d = self.dossier(
            opco,
            cfa=previous.cfa if previous else None,
            programme=previous.programme if previous else None,
            start=start,
            age=None if apprenti else self.rng.randint(18, 27),
            _apprenti=apprenti,
            _employeur=employeur,
            _type_contrat=type_succession,
            _previous=precedent,
        )
        if apprenti is None:  # the event's data is this very dict
            d.cerfa["apprenti"]["situationAvantContrat"] = 4
        return d

    def invalid_dossier(
        self, kind: InvalidKind | str, opco: OpcoCode | str | None = None
    ) -> InvalidDossier:
        """A dossier event that breaks exactly the rule ``kind`` (and says where it should show)."""
        expected = invalid.breakage(kind)
        age = 16 if expected.needs_minor else None
        start = self.today + timedelta(days=5) if expected.needs_minor else None
        d = self.dossier(opco, age=age, start=start)
        invalid.apply(kind, d.cerfa)
        self._rewrap(d)
        return InvalidDossier(dossier=d, breakage=expected)

    # ------------------------------------------------------------------ follow-ups

    def convention(self, dossier: GeneratedDossier, *, numero_interne: str | None = None) -> Json:
        """The convention de formation (2.10) of ``dossier``."""
        c = dossier.cerfa
        years = ((dossier.end - dossier.start).days + 1) / 365
        handicap = bool(c["apprenti"].get("handicap"))
        couts: Json = {
            "coutTotalPedagogieCFA": round(dossier.cout_annuel * years, 2),
            "nombreRepasTotaux": self.rng.choice((0, 0, 120, 240)),
            "nombreHebergementTotaux": self.rng.choice((0, 0, 0, 30, 60)),
            "montantPremierEquipement": float(self.rng.choice((0, 150, 300, 500))),
            "mentionMobiliteInternationale": False,
            "accompagnementDROM": False,
        }
        if handicap:
            couts["montantRQTHAnnee1"] = float(self.rng.choice((1000, 2000, 4000)))
        convention: Json = {
            "employeur": {"siret": c["employeur"]["siret"]},
            "apprenti": {"nom": c["apprenti"]["nom"], "prenom": c["apprenti"]["prenom"]},
            "contrat": {
                "dateDebutContrat": c["contrat"]["dateDebutContrat"],
                "dateFinContrat": c["contrat"]["dateFinContrat"],
            },
            "organismeFormation": {
                "siret": c["organismeFormation"]["siret"],
                "uaiCfa": c["organismeFormation"]["uaiCfa"],
            },
            "formation": {
                k: c["formation"][k]
                for k in (
                    "dateDebutFormation",
                    "dateFinFormation",
                    "dureeFormation",
                    "rncp",
                    "intituleQualification",
                )
            },
            "couts": couts,
            "mandatEmployeur": self.rng.random() < 0.5,
            "dateSignature": min(self.today, dossier.start).isoformat(),
            "attestationConventionSigneeEntreprise": True,
            "attestationConventionSigneeCFA": True,
            "attestationConventionSignatureProbante": True,
            "attestationConventionConformeJSON": True,
        }
        data: Json = {"convention": convention}
        if numero_interne is not None:
            data["numeroInterneDossier"] = numero_interne
        return self.event(EventType.CONVENTION_SUBMITTED, dossier.cfa, dossier.dossier_id, data)

    def facture(
        self,
        dossiers: Sequence[GeneratedDossier],
        *,
        numero_echeance: int = 1,
        montants: Mapping[str, float] | None = None,
        date_facture: date | None = None,
    ) -> Json:
        """An invoice of one échéance for each of ``dossiers`` (all of one CFA), sent once the
        dossiers are ENGAGE. ``montants`` (by CFA dossier id) should come from the OPCO's
        échéancier; the default is 40 % of the convention's annual cost."""
        if not dossiers:
            raise ValueError("a facture covers at least one dossier")
        cfa = dossiers[0].cfa
        if any(d.cfa != cfa for d in dossiers):
            raise ValueError("a facture is issued by one CFA")
        lignes: list[Json] = [
            {
                "dossierId": d.dossier_id,
                "numeroEcheance": numero_echeance,
                "montant": round((montants or {}).get(d.dossier_id, d.cout_annuel * 0.4), 2),
            }
            for d in dossiers
        ]
        self._seq += 1
        facture: Json = {
            "referenceFactureCFA": f"FAC-{cfa.code}-{self.today.year}-{self._seq:06d}",
            "dateFacture": (date_facture or self.today).isoformat(),
            "montantFacture": round(sum(line["montant"] for line in lignes), 2),
            "organismeFormation": {"siret": cfa.siret, "iban": cfa.iban},
            "lignes": lignes,
        }
        return self.event(
            EventType.FACTURE_SUBMITTED, cfa, dossiers[0].dossier_id, {"facture": facture}
        )

    def certificat(
        self,
        dossier: GeneratedDossier,
        *,
        numero_echeance: int = 1,
        final: bool = False,
        numero_interne_facture: str | None = None,
    ) -> Json:
        """A certificat de réalisation (2.12) for one échéance of ``dossier``."""
        c = dossier.cerfa
        debut = dossier.start
        fin = min(dossier.end, wages.add_months(debut, 6) - timedelta(days=1))
        signataire_prenom = self.rng.choice(cat.PRENOMS_F + cat.PRENOMS_M)
        signataire_nom = self.rng.choice(cat.NOMS)
        certificat: Json = {
            "typeCertificat": "Final" if final else "Intermediaire",
            "dateSignature": max(self.today, fin).isoformat(),
            "lieuSignatureContrat": dossier.cfa.commune.nom,
            "representantLegal": {
                "nom": signataire_nom,
                "prenom": signataire_prenom,
                "qualite": "Directeur du CFA",
            },
            "attestationConservationPieces": True,
            "natureAction": "Apprentissage",
            "employeur": {"siret": c["employeur"]["siret"]},
            "organismeFormation": {"siret": c["organismeFormation"]["siret"]},
            "apprenti": {
                "nom": c["apprenti"]["nom"],
                "prenom": c["apprenti"]["prenom"],
                "dateNaissance": c["apprenti"]["dateNaissance"],
            },
            "echeance": {
                "numero": numero_echeance,
                "codification": f"A{numero_echeance}",
                "duree": c["formation"]["dureeFormation"] // 4,
                "dateDebut": debut.isoformat(),
                "dateFin": fin.isoformat(),
                "echeancePartielle": False,
            },
        }
        if numero_interne_facture is not None:
            certificat["numeroInterneFacture"] = numero_interne_facture
        dossier.extra_personal += [signataire_nom, signataire_prenom]
        return self.event(
            EventType.CERTIFICAT_SUBMITTED,
            dossier.cfa,
            dossier.dossier_id,
            {"certificat": certificat},
        )

    def rupture(
        self,
        dossier: GeneratedDossier,
        *,
        date_rupture: date | None = None,
        motif: str | None = None,
    ) -> Json:
        """An early termination of ``dossier``'s contract (after its start, before its end)."""
        if date_rupture is None:
            lo = dossier.start + timedelta(days=1)
            date_rupture = min(
                dossier.end, max(lo, self.today - timedelta(days=self.rng.randint(0, 5)))
            )
        data = {
            "rupture": {
                "dateRupture": date_rupture.isoformat(),
                "motif": motif or self.rng.choice(cat.MOTIFS_RUPTURE),
            }
        }
        return self.event(EventType.RUPTURE_DECLARED, dossier.cfa, dossier.dossier_id, data)


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
