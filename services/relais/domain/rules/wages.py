"""Minimum wage grid and the wage schedule (convergence-api.md 3.5).

``minimum_schedule`` computes the legal periods of a contract and their minimum rates, the way the
state CERFA form builds them: contract year N runs from the start date to the day before its
anniversary; when the apprentice changes age bracket during a year, the year splits into N.1 and
N.2 and the new rate applies from the 1st day of the month after the birthday (when a contract year
begins on the birthday, the change falls on the year boundary). Test-data generators can use it to
produce ``remunerationsAnnuelles`` that pass the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from relais.domain.cerfa import Cerfa, RemunerationAnnuelle
from relais.domain.dates import add_years, age_on, birthday, next_day
from relais.domain.findings import Finding, error, join, warning
from relais.domain.referentials import WageGrid
from relais.domain.rules.context import RuleContext

TOLERANCE_EUR = 1.0
MAYOTTE_POSTCODE = "976"
FULL_TIME_HOURS = 35.0
SMC_MIN_AGE = 21
REDUCED_DURATION = 21
"""typeDerogation 21: reduced duration; the years are numbered from the declared one."""
SUCCESSIONS = frozenset({21, 22, 23})
MAJORATION_POINTS = 15.0


@dataclass(frozen=True)
class Period:
    ordre: str
    debut: date
    fin: date
    taux: float
    """The legal minimum rate, % of SMIC (or SMC)."""


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def minimum_schedule(
    birth: date, start: date, end: date, grid: WageGrid, *, first_year: int = 1
) -> list[Period]:
    """The legal wage periods from ``start`` to ``end`` (inclusive) with their minimum rates.

    ``first_year`` > 1 numbers the years from there (a succession continuing the apprentice's
    previous contract years).
    """
    boundaries: set[date] = set()
    year = 0
    while add_years(start, year) <= end and year <= 100:
        boundaries.add(add_years(start, year))
        year += 1

    def effective_from(age: int) -> date:
        """The day the wage of ``age`` applies: the 1st of the month after the birthday, or
        the birthday itself when it opens a contract year."""
        day = birthday(birth, age)
        return day if day in boundaries else _first_of_next_month(day)

    def effective_age(day: date) -> int:
        age = age_on(birth, day)
        return age - 1 if effective_from(age) > day else age

    periods: list[Period] = []
    for year in range(len(boundaries)):
        y_start = add_years(start, year)
        y_end = min(add_years(start, year + 1) - timedelta(days=1), end)
        n = first_year + year
        age = effective_age(y_start)
        change = effective_from(age + 1)
        rate = grid.minimum(n, age) or 0.0
        if y_start < change <= y_end and grid.bracket(age + 1) != grid.bracket(age):
            periods.append(Period(f"{n}.1", y_start, change - timedelta(days=1), rate))
            periods.append(Period(f"{n}.2", change, y_end, grid.minimum(n, age + 1) or 0.0))
        else:
            periods.append(Period(f"{n}.1", y_start, y_end, rate))
    return periods


def schedule_as_wire(periods: list[Period], type_salaire: str = "SMIC") -> list[dict[str, object]]:
    """``remunerationsAnnuelles`` items (as the standard writes them) paying exactly the minimum."""
    return [
        {
            "ordre": p.ordre,
            "dateDebut": p.debut.isoformat(),
            "dateFin": p.fin.isoformat(),
            "taux": p.taux,
            "typeSalaire": type_salaire,
        }
        for p in periods
    ]


def chronological(periods: list[RemunerationAnnuelle]) -> list[int]:
    """Indexes of ``periods`` in date order (list order when a start date is missing)."""
    starts = [p.dateDebut for p in periods]
    if any(d is None for d in starts):
        return list(range(len(periods)))
    return sorted(range(len(periods)), key=lambda i: (starts[i], i))


def _declared_year(period: RemunerationAnnuelle) -> int | None:
    if period.ordre is None:
        return None
    match = re.fullmatch(r"\s*([1-4])\.[12]\s*", period.ordre)
    return int(match.group(1)) if match else None


def check_wages(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    c, a = cerfa.contrat, cerfa.apprenti
    if c is None or not c.remunerationsAnnuelles:
        return
    periods = c.remunerationsAnnuelles
    base = "contrat.remunerationsAnnuelles"
    start, end = c.dateDebutContrat, c.dateFinContrat
    for i, p in enumerate(periods):
        if p.dateDebut is not None and p.dateFin is not None and p.dateFin < p.dateDebut:
            yield error(
                "REMUNERATION_DATES_INVERSEES",
                join(base, i, "dateFin"),
                "La fin de cette période de rémunération précède son début.",
            )
    chrono = chronological(periods)
    if chrono != list(range(len(periods))):
        yield warning(
            "REMUNERATION_ORDRE_LISTE",
            base,
            "Les périodes de rémunération ne sont pas listées dans l'ordre chronologique : "
            "elles sont contrôlées dans l'ordre de leurs dates.",
        )
    first = chrono[0]
    if start is not None and periods[first].dateDebut not in (None, start):
        yield error(
            "REMUNERATION_DEBUT_CONTRAT",
            join(base, first, "dateDebut"),
            "La première période de rémunération doit commencer à la date de début du contrat.",
        )
    for previous, i in pairwise(chrono):
        prev_end, cur_start = periods[previous].dateFin, periods[i].dateDebut
        if prev_end is not None and cur_start is not None and cur_start != next_day(prev_end):
            yield error(
                "REMUNERATION_PERIODES_DISCONTINUES",
                join(base, i, "dateDebut"),
                "Les périodes de rémunération doivent se suivre sans trou ni chevauchement.",
            )
    last = chrono[-1]
    if end is not None and periods[last].dateFin is not None and periods[last].dateFin != end:
        yield error(
            "REMUNERATION_FIN_CONTRAT",
            join(base, last, "dateFin"),
            "La dernière période de rémunération doit se terminer à la date de fin du contrat.",
        )
    grid = ctx.referentials.wage_grid
    dob = a.dateNaissance if a is not None else None
    if dob is None or start is None or end is None or end <= start or not grid.bands:
        return
    numbering: list[Finding] = []
    first_year = _first_year(cerfa, periods[first], join(base, first, "ordre"), numbering)
    yield from numbering
    expected = minimum_schedule(dob, start, end, grid, first_year=first_year)
    bonus = MAJORATION_POINTS if _majoration_applies(cerfa, start, end) else 0.0
    for i, p in enumerate(periods):
        if p.taux is None or p.dateDebut is None or p.dateFin is None or p.dateFin < p.dateDebut:
            continue
        overlapping = [e for e in expected if e.debut <= p.dateFin and e.fin >= p.dateDebut]
        if not overlapping:
            continue
        minimum = max(e.taux for e in overlapping)
        if p.taux + 1e-9 < minimum:
            yield error(
                "REMUNERATION_TAUX_INFERIEUR_MINIMUM",
                join(base, i, "taux"),
                f"Taux inférieur au minimum légal pour cette période ({minimum:g} % du SMIC "
                "ou du SMC, selon l'année du contrat et l'âge de l'apprenti).",
            )
        elif bonus and p.taux + 1e-9 < min(minimum + bonus, 100.0):
            yield _majoration(join(base, i, "taux"), min(minimum + bonus, 100.0))
    yield from _smc(cerfa, ctx, expected, dob)
    yield from _salaire_embauche(cerfa, ctx, periods[first])


def _first_year(cerfa: Cerfa, first: RemunerationAnnuelle, path: str, out: list[Finding]) -> int:
    """The contract year the schedule starts in: 1, or the declared one for a successor or a
    reduced-duration (derogation 21) contract; findings about the numbering go to ``out``."""
    c = cerfa.contrat
    assert c is not None
    declared = _declared_year(first)
    if declared is not None and declared != 1:
        if c.typeContratApp == 11 and c.typeDerogation != REDUCED_DURATION:
            out.append(
                warning(
                    "REMUNERATION_PREMIERE_ANNEE",
                    path,
                    "Pour un premier contrat, la rémunération commence en 1re année (ordre 1.1), "
                    "sauf durée réduite (dérogation 21).",
                )
            )
            return 1
        return declared
    if c.typeContratApp in SUCCESSIONS:
        out.append(
            warning(
                "REMUNERATION_CONTINUITE_SUCCESSION",
                path,
                "Contrat succédant à un autre : la rémunération est au moins celle de la dernière "
                "année du contrat précédent (années numérotées à la suite) ; vérifiez l'année 1.",
            )
        )
    return 1


def _majoration(path: str, minimum: float) -> Finding:
    return warning(
        "REMUNERATION_MAJORATION_15",
        path,
        f"Contrat d'un an au plus pour un diplôme de même niveau que celui déjà obtenu : le "
        f"minimum est majoré de 15 points ({minimum:g} %) si la qualification est en rapport "
        "direct avec le diplôme obtenu.",
    )


def _majoration_applies(cerfa: Cerfa, start: date, end: date) -> bool:
    """+15 points: a contract of one year at most preparing a diploma of the level already held.

    Whether the new qualification is "in direct relation" with the one held is not on the CERFA,
    hence a warning. Levels are the tens of the diploma codes (54 BTS and 55 DUT are level 5).
    """
    a, f = cerfa.apprenti, cerfa.formation
    if a is None or f is None or a.diplome is None or f.typeDiplome is None:
        return False
    one_year = add_years(start, 1) > end
    return one_year and a.diplome // 10 == f.typeDiplome // 10 and a.diplome // 10 >= 3


def _smc(cerfa: Cerfa, ctx: RuleContext, expected: list[Period], dob: date) -> Iterator[Finding]:
    """From 21, the rate applies to the conventional minimum (SMC) when it is above the SMIC."""
    c = cerfa.contrat
    assert c is not None and c.remunerationsAnnuelles and c.dateDebutContrat is not None
    smic = ctx.referentials.smic.at(c.dateDebutContrat)
    if c.smc is None or smic is None or c.smc <= smic.mensuel:
        return
    for i, p in enumerate(c.remunerationsAnnuelles):
        if p.typeSalaire != "SMIC" or p.dateDebut is None:
            continue
        if age_on(dob, p.dateDebut) >= SMC_MIN_AGE:
            yield warning(
                "REMUNERATION_SMC_PLUS_FAVORABLE",
                join("contrat.remunerationsAnnuelles", i, "typeSalaire"),
                "À partir de 21 ans, le taux s'applique au salaire minimum conventionnel (SMC) "
                "lorsqu'il est supérieur au SMIC : vérifiez la base de cette période.",
            )


def _salaire_embauche(
    cerfa: Cerfa, ctx: RuleContext, first: RemunerationAnnuelle
) -> Iterator[Finding]:
    """``salaireEmbauche`` against the rate of the first period (in date order)."""
    c = cerfa.contrat
    assert c is not None
    if c.salaireEmbauche is None or first.taux is None or c.dateDebutContrat is None:
        return
    smic = ctx.referentials.smic.at(c.dateDebutContrat)
    if smic is None:
        return
    postcode = ""
    if cerfa.employeur is not None and cerfa.employeur.adresse is not None:
        postcode = (cerfa.employeur.adresse.codePostal or "").strip()
    base = smic.monthly(mayotte=postcode.startswith(MAYOTTE_POSTCODE))
    if first.typeSalaire == "SMC" and c.smc is not None and c.smc > base:
        base = c.smc
    hours = c.dureeTravailHebdoHeures
    weekly = FULL_TIME_HOURS if hours is None else hours + (c.dureeTravailHebdoMinutes or 0) / 60
    expected = first.taux / 100 * base * min(1.0, weekly / FULL_TIME_HOURS)
    if c.salaireEmbauche + TOLERANCE_EUR < expected:
        yield error(
            "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR",
            "contrat.salaireEmbauche",
            f"Le salaire à l'embauche est inférieur au taux de la première période appliqué au "
            f"SMIC en vigueur au début du contrat ({expected:.2f} € brut mensuel attendus).",
        )
