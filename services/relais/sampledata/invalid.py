"""Invalid dossier variants: a valid generated dossier with exactly one rule broken.

Each ``InvalidKind`` names the finding the control rules must report (``Breakage.code`` at
``Breakage.path``, relative to the ``cerfa`` object). Some breakages imply others (a contract of
more than 54 months also has a fifth wage year and a training cycle over 4 years): the intended
finding is always there, the implied ones may be too. Tests use them to prove both sides: the
rule fires on the intended path, and the generator's valid dossiers do not trip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

from relais.domain.json_types import Json
from relais.sampledata import identifiers as ids
from relais.sampledata import wages


class InvalidKind(StrEnum):
    SIRET_LUHN = "siret_luhn"
    NIR_KEY = "nir_key"
    NIR_SEXE = "nir_sexe"
    NIR_NAISSANCE = "nir_naissance"
    UAI_LETTER = "uai_letter"
    APPRENTI_TOO_YOUNG = "apprenti_too_young"
    APPRENTI_TOO_OLD = "apprenti_too_old"
    CONTRAT_TOO_SHORT = "contrat_too_short"
    CONTRAT_TOO_LONG = "contrat_too_long"
    FIN_BEFORE_DEBUT = "fin_before_debut"
    CONCLUSION_AFTER_DEBUT = "conclusion_after_debut"
    WAGE_BELOW_MINIMUM = "wage_below_minimum"
    HEURES_HEBDO = "heures_hebdo"
    MAITRE1_MISSING = "maitre1_missing"
    MAITRE_TOO_YOUNG = "maitre_too_young"
    RESPONSABLE_LEGAL_MISSING = "responsable_legal_missing"
    CODE_POSTAL = "code_postal"
    COURRIEL = "courriel"
    NAF = "naf"
    RNCP = "rncp"
    DISTANCIEL_ABOVE_TOTAL = "distanciel_above_total"
    PRECEDENT_MISSING = "precedent_missing"


@dataclass(frozen=True)
class Breakage:
    kind: InvalidKind
    code: str  # the finding's code in relais.domain.rules
    path: str  # where the finding is expected, relative to the cerfa object
    needs_minor: bool = False


def _d(value: str) -> date:
    return date.fromisoformat(value)


def _siret_luhn(c: Json) -> None:
    siret = c["employeur"]["siret"]
    last = (int(siret[-1]) + 1) % 10
    c["employeur"]["siret"] = siret[:-1] + str(last)


def _nir_key(c: Json) -> None:
    nir = c["apprenti"]["nir"]
    key = (int(nir[13:]) % 97) + 1
    c["apprenti"]["nir"] = nir[:13] + f"{key:02d}"


def _nir_with(c: Json, *, sex: str | None = None, month: int | None = None) -> None:
    a = c["apprenti"]
    nir = a["nir"]
    nir13 = f"{sex or nir[0]}{nir[1:3]}{month if month else int(nir[3:5]):02d}{nir[5:13]}"
    a["nir"] = nir13 + ids.nir_key(nir13)


def _nir_sexe(c: Json) -> None:
    _nir_with(c, sex="2" if c["apprenti"]["nir"][0] == "1" else "1")


def _nir_naissance(c: Json) -> None:
    _nir_with(c, month=int(c["apprenti"]["nir"][3:5]) % 12 + 1)


def _uai_letter(c: Json) -> None:
    uai = c["organismeFormation"]["uaiCfa"]
    letters = ids.UAI_LETTERS
    c["organismeFormation"]["uaiCfa"] = uai[:7] + letters[(letters.index(uai[7]) + 1) % 23]


def _apprenti_age(c: Json, age: int) -> None:
    """Make the apprentice ``age`` at the start, keeping NIR, wages and minor rules consistent."""
    contrat = c["contrat"]
    start = _d(contrat["dateDebutContrat"])
    a = c["apprenti"]
    birth = wages.add_months(start, -12 * age) - timedelta(days=40)
    a["dateNaissance"] = birth.isoformat()
    nir13 = f"{a['nir'][0]}{birth.year % 100:02d}{birth.month:02d}{a['nir'][5:13]}"
    a["nir"] = nir13 + ids.nir_key(nir13)
    a["handicap"] = False
    a["inscriptionSportifDeHautNiveau"] = False
    a["projetCreationRepriseEntreprise"] = False
    minor = age < 18
    a["apprentiMineur"] = a["apprentiMineurNonEmancipe"] = minor
    if minor:
        a.setdefault(
            "responsableLegal",
            {"nom": a["nom"], "prenom": "Sophie", "adresse": dict(a["adresse"])},
        )
    end = _d(contrat["dateFinContrat"])
    contrat["remunerationsAnnuelles"] = wage_rows(birth, start, end)
    contrat["salaireEmbauche"] = wages.monthly_amount(
        contrat["remunerationsAnnuelles"][0]["taux"], wages.smic_at(_smic(), start)
    )


@cache
def _smic() -> tuple[wages.Smic, ...]:
    return wages.load_smic()


def wage_rows(birth: date, start: date, end: date) -> list[Json]:
    """The legal minimum schedule of a contract as ``remunerationsAnnuelles`` rows."""
    return [
        {
            "ordre": p.ordre,
            "dateDebut": p.debut.isoformat(),
            "dateFin": p.fin.isoformat(),
            "taux": p.minimum,
            "typeSalaire": "SMIC",
        }
        for p in wages.periods(birth, start, end)
    ]


def _too_young(c: Json) -> None:
    _apprenti_age(c, 14)


def _too_old(c: Json) -> None:
    _apprenti_age(c, 31)


def _set_end(c: Json, months: int) -> None:
    contrat = c["contrat"]
    start = _d(contrat["dateDebutContrat"])
    end = wages.add_months(start, months) - timedelta(days=1)
    contrat["dateFinContrat"] = end.isoformat()
    contrat["remunerationsAnnuelles"] = wage_rows(_d(c["apprenti"]["dateNaissance"]), start, end)
    contrat["salaireEmbauche"] = wages.monthly_amount(
        contrat["remunerationsAnnuelles"][0]["taux"], wages.smic_at(_smic(), start)
    )
    f = c["formation"]
    f["dateFinFormation"] = max(_d(f["dateDebutFormation"]), end).isoformat()


def _too_short(c: Json) -> None:
    _set_end(c, 4)
    f = c["formation"]  # keep the training cycle at its own minimum (6 months)
    f["dateFinFormation"] = wages.add_months(_d(f["dateDebutFormation"]), 7).isoformat()


def _too_long(c: Json) -> None:
    _set_end(c, 60)


def _fin_before_debut(c: Json) -> None:
    start = _d(c["contrat"]["dateDebutContrat"])
    c["contrat"]["dateFinContrat"] = (start - timedelta(days=1)).isoformat()


def _conclusion_after_debut(c: Json) -> None:
    start = _d(c["contrat"]["dateDebutContrat"])
    c["contrat"]["dateConclusion"] = (start + timedelta(days=10)).isoformat()


def _wage_below_minimum(c: Json) -> None:
    row = c["contrat"]["remunerationsAnnuelles"][0]
    row["taux"] = 20


def _heures(c: Json) -> None:
    c["contrat"]["dureeTravailHebdoHeures"] = 41


def _maitre1_missing(c: Json) -> None:
    del c["maitre1"]


def _maitre_too_young(c: Json) -> None:
    start = _d(c["contrat"]["dateDebutContrat"])
    c["maitre1"]["dateNaissance"] = (wages.add_months(start, -12 * 17)).isoformat()


def _responsable_legal_missing(c: Json) -> None:
    c["apprenti"].pop("responsableLegal", None)


def _code_postal(c: Json) -> None:
    c["employeur"]["adresse"]["codePostal"] = "7500"


def _courriel(c: Json) -> None:
    c["apprenti"]["courriel"] = "pas-une-adresse"


def _naf(c: Json) -> None:
    c["employeur"]["naf"] = "ABCDE"


def _rncp(c: Json) -> None:
    c["formation"]["rncp"] = "RNCPX12"


def _distanciel(c: Json) -> None:
    f = c["formation"]
    f["nombreHeuresEnDistanciel"] = f["dureeFormation"] + 1


def _precedent_missing(c: Json) -> None:
    # the state form requires the previous contract's number for an avenant (31-37) only
    c["contrat"]["typeContratApp"] = 33
    c["contrat"]["dateEffetAvenant"] = c["contrat"]["dateDebutContrat"]
    c["contrat"].pop("numeroContratPrecedent", None)


BREAKERS: dict[InvalidKind, tuple[Breakage, Callable[[Json], None]]] = {
    InvalidKind.SIRET_LUHN: (
        Breakage(InvalidKind.SIRET_LUHN, "EMPLOYEUR_SIRET_CLE", "employeur.siret"),
        _siret_luhn,
    ),
    InvalidKind.NIR_KEY: (
        Breakage(InvalidKind.NIR_KEY, "APPRENTI_NIR_CLE", "apprenti.nir"),
        _nir_key,
    ),
    InvalidKind.NIR_SEXE: (
        Breakage(InvalidKind.NIR_SEXE, "APPRENTI_NIR_SEXE", "apprenti.nir"),
        _nir_sexe,
    ),
    InvalidKind.NIR_NAISSANCE: (
        Breakage(InvalidKind.NIR_NAISSANCE, "APPRENTI_NIR_MOIS", "apprenti.nir"),
        _nir_naissance,
    ),
    InvalidKind.UAI_LETTER: (
        Breakage(InvalidKind.UAI_LETTER, "CFA_UAI_CLE", "organismeFormation.uaiCfa"),
        _uai_letter,
    ),
    InvalidKind.APPRENTI_TOO_YOUNG: (
        Breakage(InvalidKind.APPRENTI_TOO_YOUNG, "APPRENTI_AGE_MINIMUM", "apprenti.dateNaissance"),
        _too_young,
    ),
    InvalidKind.APPRENTI_TOO_OLD: (
        Breakage(InvalidKind.APPRENTI_TOO_OLD, "APPRENTI_AGE_MAXIMUM", "apprenti.dateNaissance"),
        _too_old,
    ),
    InvalidKind.CONTRAT_TOO_SHORT: (
        Breakage(InvalidKind.CONTRAT_TOO_SHORT, "CONTRAT_DUREE_MIN", "contrat.dateFinContrat"),
        _too_short,
    ),
    InvalidKind.CONTRAT_TOO_LONG: (
        Breakage(InvalidKind.CONTRAT_TOO_LONG, "CONTRAT_DUREE_MAX", "contrat.dateFinContrat"),
        _too_long,
    ),
    InvalidKind.FIN_BEFORE_DEBUT: (
        Breakage(InvalidKind.FIN_BEFORE_DEBUT, "CONTRAT_FIN_AVANT_DEBUT", "contrat.dateFinContrat"),
        _fin_before_debut,
    ),
    InvalidKind.CONCLUSION_AFTER_DEBUT: (
        Breakage(
            InvalidKind.CONCLUSION_AFTER_DEBUT,
            "CONTRAT_CONCLUSION_APRES_DEBUT",
            "contrat.dateConclusion",
        ),
        _conclusion_after_debut,
    ),
    InvalidKind.WAGE_BELOW_MINIMUM: (
        Breakage(
            InvalidKind.WAGE_BELOW_MINIMUM,
            "REMUNERATION_TAUX_INFERIEUR_MINIMUM",
            "contrat.remunerationsAnnuelles[0].taux",
        ),
        _wage_below_minimum,
    ),
    InvalidKind.HEURES_HEBDO: (
        Breakage(
            InvalidKind.HEURES_HEBDO, "CONTRAT_DUREE_HEBDO_MAX", "contrat.dureeTravailHebdoHeures"
        ),
        _heures,
    ),
    InvalidKind.MAITRE1_MISSING: (
        Breakage(InvalidKind.MAITRE1_MISSING, "CHAMP_OBLIGATOIRE", "maitre1"),
        _maitre1_missing,
    ),
    InvalidKind.MAITRE_TOO_YOUNG: (
        Breakage(InvalidKind.MAITRE_TOO_YOUNG, "MAITRE_AGE_MINIMUM", "maitre1.dateNaissance"),
        _maitre_too_young,
    ),
    InvalidKind.RESPONSABLE_LEGAL_MISSING: (
        Breakage(
            InvalidKind.RESPONSABLE_LEGAL_MISSING,
            "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE",
            "apprenti.responsableLegal",
            needs_minor=True,
        ),
        _responsable_legal_missing,
    ),
    InvalidKind.CODE_POSTAL: (
        Breakage(InvalidKind.CODE_POSTAL, "CODE_POSTAL_FORMAT", "employeur.adresse.codePostal"),
        _code_postal,
    ),
    InvalidKind.COURRIEL: (
        Breakage(InvalidKind.COURRIEL, "COURRIEL_FORMAT", "apprenti.courriel"),
        _courriel,
    ),
    InvalidKind.NAF: (Breakage(InvalidKind.NAF, "EMPLOYEUR_NAF_FORMAT", "employeur.naf"), _naf),
    InvalidKind.RNCP: (
        Breakage(InvalidKind.RNCP, "FORMATION_RNCP_FORMAT", "formation.rncp"),
        _rncp,
    ),
    InvalidKind.DISTANCIEL_ABOVE_TOTAL: (
        Breakage(
            InvalidKind.DISTANCIEL_ABOVE_TOTAL,
            "FORMATION_DISTANCIEL_SUPERIEUR",
            "formation.nombreHeuresEnDistanciel",
        ),
        _distanciel,
    ),
    InvalidKind.PRECEDENT_MISSING: (
        Breakage(
            InvalidKind.PRECEDENT_MISSING,
            "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE",
            "contrat.numeroContratPrecedent",
        ),
        _precedent_missing,
    ),
}


def breakage(kind: InvalidKind | str) -> Breakage:
    return BREAKERS[InvalidKind(kind)][0]


def apply(kind: InvalidKind | str, cerfa: Json) -> Breakage:
    """Break ``cerfa`` in place for ``kind``; returns where the finding is expected."""
    found, breaker = BREAKERS[InvalidKind(kind)]
    breaker(cerfa)
    return found
