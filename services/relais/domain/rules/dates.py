"""Date and duration rules of the contract and the training (convergence-api.md 3.3).

Durations in months are whole calendar months (date-fns ``differenceInMonths``, as the state form
measures them). A contract from 01/09 to 28/02 lasts 5 whole months by the state form's measure and
6 if the end day is counted: the state form's measure decides the minimum (an error, its message
names the other reading). For the maximum the form's measure is the lenient one and decides the
error; counting the end day gives a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from relais.domain.cerfa import Cerfa
from relais.domain.dates import add_months, full_months_between, next_day, parse_wire_date
from relais.domain.findings import Finding, error, warning
from relais.domain.rules.calendar import add_working_days, departement_of_postcode
from relais.domain.rules.context import RuleContext

AVENANTS = frozenset(range(31, 39))
CONTRACT_MIN_MONTHS = 6
CONTRACT_MAX_MONTHS = 54
CYCLE_MIN_MONTHS = 6
CYCLE_MAX_MONTHS = 48
WINDOW_MONTHS = 3
DEPOSIT_WORKING_DAYS = 5
ANNUAL_HOURS = 1607.0
DISTANCE_NPEC_SHARE = 0.8


def lenient_months(start: date, end: date) -> int:
    """Whole months with the end day counted (01/09 -> 28/02 = 6)."""
    return full_months_between(start, next_day(end))


def pratique_start(cerfa: Cerfa) -> date | None:
    """``dateDebutFormationPratique``, or WEDOF's ``dateFormationPratiqueEmployeur``."""
    c = cerfa.contrat
    if c is None:
        return None
    if c.dateDebutFormationPratique is not None:
        return c.dateDebutFormationPratique
    extra = (c.model_extra or {}).get("dateFormationPratiqueEmployeur")
    if extra is None:
        return None
    try:
        return parse_wire_date(extra)
    except ValueError:
        return None


def check_contract_dates(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    c = cerfa.contrat
    if c is None:
        return
    avenant = c.typeContratApp in AVENANTS
    conclusion, start, end = c.dateConclusion, c.dateDebutContrat, c.dateFinContrat
    if conclusion is not None and start is not None and conclusion > start and not avenant:
        yield error(
            "CONTRAT_CONCLUSION_APRES_DEBUT",
            "contrat.dateConclusion",
            "La date de conclusion (signature) doit précéder ou égaler la date de début "
            "d'exécution du contrat.",
        )
    if conclusion is not None and conclusion > ctx.today:
        yield warning(
            "CONTRAT_CONCLUSION_FUTURE",
            "contrat.dateConclusion",
            "La date de conclusion est postérieure à aujourd'hui.",
        )
    if start is not None and end is not None:
        if end <= start:
            yield error(
                "CONTRAT_FIN_AVANT_DEBUT",
                "contrat.dateFinContrat",
                "La date de fin du contrat doit être postérieure à sa date de début.",
            )
        else:
            yield from _duration(start, end)
    if end is not None and end < ctx.today:
        yield error(
            "CONTRAT_FIN_PASSEE",
            "contrat.dateFinContrat",
            "La date de fin du contrat est déjà passée.",
        )
    effet = c.dateEffetAvenant
    if (
        avenant
        and effet is not None
        and start is not None
        and end is not None
        and not start <= effet <= end
    ):
        yield error(
            "CONTRAT_EFFET_AVENANT_HORS_CONTRAT",
            "contrat.dateEffetAvenant",
            "La date d'effet de l'avenant doit être comprise entre le début et la fin du contrat.",
        )
    if c.dateRupture is not None and start is not None and c.dateRupture < start:
        yield error(
            "CONTRAT_RUPTURE_AVANT_DEBUT",
            "contrat.dateRupture",
            "La date de rupture précède le début du contrat.",
        )
    pratique = pratique_start(cerfa)
    if pratique is not None:
        yield from _pratique(pratique, conclusion, start, end, avenant)
    if start is not None:
        reference = c.dateEffetAvenant if avenant and c.dateEffetAvenant is not None else start
        yield from _deposit(cerfa, reference, ctx.today)


def _deposit(cerfa: Cerfa, reference: date, today: date) -> Iterator[Finding]:
    """5 jours ouvrables after the start (or the avenant's effect), by the employer's calendar."""
    postcode = None
    if cerfa.employeur is not None and cerfa.employeur.adresse is not None:
        postcode = cerfa.employeur.adresse.codePostal
    departement = departement_of_postcode(postcode)
    if today > add_working_days(reference, DEPOSIT_WORKING_DAYS, departement=departement):
        yield warning(
            "CONTRAT_DEPOT_TARDIF",
            "contrat.dateDebutContrat",
            "Le dossier est transmis plus de 5 jours ouvrables (lundi à samedi, jours fériés "
            "exclus) après le début d'exécution (dépôt tardif : l'OPCO peut le signaler).",
        )


MIN_WITH_END_DAY = (
    " (6 mois seulement en comptant le dernier jour : le formulaire d'État ne le compte pas)"
)


def _duration(start: date, end: date) -> Iterator[Finding]:
    lenient, strict = lenient_months(start, end), full_months_between(start, end)
    if strict < CONTRACT_MIN_MONTHS:
        yield error(
            "CONTRAT_DUREE_MIN",
            "contrat.dateFinContrat",
            "Le contrat doit durer au moins 6 mois pleins"
            + (MIN_WITH_END_DAY if lenient >= CONTRACT_MIN_MONTHS else "")
            + ".",
        )
    if strict > CONTRACT_MAX_MONTHS:
        yield error(
            "CONTRAT_DUREE_MAX",
            "contrat.dateFinContrat",
            "Le contrat ne peut durer plus de 4 ans et 6 mois (54 mois).",
        )
    elif lenient > CONTRACT_MAX_MONTHS:
        yield warning(
            "CONTRAT_DUREE_MAX_STRICTE",
            "contrat.dateFinContrat",
            "En comptant le dernier jour, le contrat dépasse 54 mois.",
        )


def _pratique(
    pratique: date, conclusion: date | None, start: date | None, end: date | None, avenant: bool
) -> Iterator[Finding]:
    path = "contrat.dateDebutFormationPratique"
    if start is not None and not start <= pratique <= add_months(start, WINDOW_MONTHS):
        yield error(
            "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI",
            path,
            "La formation pratique chez l'employeur doit commencer dans les 3 mois suivant le "
            "début d'exécution du contrat.",
        )
    if conclusion is not None and pratique < conclusion and not avenant:
        yield error(
            "CONTRAT_DEBUT_PRATIQUE_AVANT_CONCLUSION",
            path,
            "La formation pratique ne peut commencer avant la conclusion du contrat.",
        )
    if end is not None and pratique > end:
        yield error(
            "CONTRAT_DEBUT_PRATIQUE_APRES_FIN",
            path,
            "La formation pratique ne peut commencer après la fin du contrat.",
        )


def check_training_dates(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    f, c = cerfa.formation, cerfa.contrat
    if f is None:
        return
    fstart, fend = f.dateDebutFormation, f.dateFinFormation
    if fstart is not None and fend is not None:
        if fend < fstart:
            yield error(
                "FORMATION_FIN_AVANT_DEBUT",
                "formation.dateFinFormation",
                "La date de fin de formation doit être postérieure à sa date de début.",
            )
        else:
            lenient, strict = lenient_months(fstart, fend), full_months_between(fstart, fend)
            if strict < CYCLE_MIN_MONTHS:
                yield error(
                    "FORMATION_DUREE_CYCLE_MIN",
                    "formation.dateFinFormation",
                    "Le cycle de formation doit durer au moins 6 mois pleins"
                    + (MIN_WITH_END_DAY if lenient >= CYCLE_MIN_MONTHS else "")
                    + ".",
                )
            if strict > CYCLE_MAX_MONTHS:
                yield error(
                    "FORMATION_DUREE_CYCLE_MAX",
                    "formation.dateFinFormation",
                    "Le cycle de formation ne peut dépasser 4 ans.",
                )
            elif lenient > CYCLE_MAX_MONTHS:
                yield warning(
                    "FORMATION_DUREE_CYCLE_MAX_STRICTE",
                    "formation.dateFinFormation",
                    "En comptant le dernier jour, le cycle de formation dépasse 4 ans.",
                )
    if f.dureeFormation is not None and not 1 <= f.dureeFormation <= 9999:
        yield error(
            "FORMATION_DUREE_BORNES",
            "formation.dureeFormation",
            "La durée de la formation doit être comprise entre 1 et 9999 heures.",
        )
    if f.nombreHeuresEnDistanciel is not None:
        if f.nombreHeuresEnDistanciel < 0:
            yield error(
                "FORMATION_DISTANCIEL_NEGATIF",
                "formation.nombreHeuresEnDistanciel",
                "Le nombre d'heures à distance ne peut être négatif.",
            )
        elif f.dureeFormation is not None and f.dureeFormation > 0:
            if f.nombreHeuresEnDistanciel > f.dureeFormation:
                yield error(
                    "FORMATION_DISTANCIEL_SUPERIEUR",
                    "formation.nombreHeuresEnDistanciel",
                    "Les heures de formation à distance dépassent la durée totale de la formation.",
                )
            elif f.nombreHeuresEnDistanciel >= DISTANCE_NPEC_SHARE * f.dureeFormation:
                yield warning(
                    "FORMATION_DISTANCIEL_80",
                    "formation.nombreHeuresEnDistanciel",
                    "Au moins 80 % de la formation se fait à distance : le niveau de prise en "
                    "charge (NPEC) est minoré de 20 %.",
                )
    if c is None:
        return
    avenant = c.typeContratApp in AVENANTS
    start, end, conclusion = c.dateDebutContrat, c.dateFinContrat, c.dateConclusion
    if end is not None and fend is not None and end > add_months(fend, WINDOW_MONTHS):
        yield error(
            "CONTRAT_FIN_APRES_FORMATION",
            "contrat.dateFinContrat",
            "Le contrat ne peut se terminer plus de 3 mois après la fin de la formation.",
        )
    if fstart is not None and start is not None:
        low, high = add_months(start, -WINDOW_MONTHS), add_months(start, WINDOW_MONTHS)
        if not low <= fstart <= high:
            yield error(
                "FORMATION_DEBUT_ECART_CONTRAT",
                "formation.dateDebutFormation",
                "La formation doit commencer au plus 3 mois avant ou après le début du contrat.",
            )
    pratique = pratique_start(cerfa)
    if fstart is not None and pratique is not None and fstart < add_months(pratique, -3):
        yield error(
            "FORMATION_DEBUT_AVANT_PRATIQUE",
            "formation.dateDebutFormation",
            "La formation ne peut commencer plus de 3 mois avant la formation pratique chez "
            "l'employeur.",
        )
    if fstart is not None and conclusion is not None and fstart < conclusion and not avenant:
        yield error(
            "FORMATION_DEBUT_AVANT_CONCLUSION",
            "formation.dateDebutFormation",
            "La formation théorique ne peut commencer avant la conclusion du contrat (formulaire "
            "d'État) ; si elle a commencé plus tôt (jusqu'à 3 mois, vade-mecum), déclarez la date "
            "de signature.",
        )
    if fend is not None:
        yield from _training_end_in_contract(fend, start, end, conclusion)
    if (
        f.dureeFormation is not None
        and f.dureeFormation > 0
        and start is not None
        and end is not None
        and end > start
    ):
        weekly = c.dureeTravailHebdoHeures or 35
        weekly_total = weekly + (c.dureeTravailHebdoMinutes or 0) / 60
        contract_hours = ANNUAL_HOURS * ((end - start).days + 1) / 365 * weekly_total / 35
        if f.dureeFormation < 0.25 * contract_hours:
            yield warning(
                "FORMATION_DUREE_25_POURCENT",
                "formation.dureeFormation",
                "La formation théorique semble inférieure à 25 % de la durée du contrat "
                "(estimation sur 1607 h par an).",
            )


def _training_end_in_contract(
    fend: date, start: date | None, end: date | None, conclusion: date | None
) -> Iterator[Finding]:
    """The state form: the training ends within the contract, never before its signature."""
    path = "formation.dateFinFormation"
    if start is not None and fend < start:
        yield error(
            "FORMATION_FIN_HORS_CONTRAT",
            path,
            "La fin de la formation ne peut précéder le début d'exécution du contrat.",
        )
    elif end is not None and fend > end:
        yield error(
            "FORMATION_FIN_HORS_CONTRAT",
            path,
            "La fin de la formation ne peut être postérieure à la fin du contrat.",
        )
    elif conclusion is not None and fend < conclusion:
        yield error(
            "FORMATION_FIN_HORS_CONTRAT",
            path,
            "La fin de la formation ne peut précéder la conclusion du contrat.",
        )
