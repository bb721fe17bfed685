"""What an OPCO commits to pay for a contract: NPEC lookup, engagement and échéancier.

Rules (convergence-api.md §3.6 and Appendix A; confidence C where the notes say so):

- NPEC: annual amount per (certification, IDCC), the value applicable at ``dateConclusion``; a
  wildcard row (``*``) is the "valeur d'amorçage" when nothing more specific exists. The shipped
  table ``schemas/referentials/npec-synthetic.csv`` is SYNTHETIC; a France Compétences file with the
  columns ``rncp|certification, idcc, npec, date_applicabilite`` can replace it.
- The pedagogical cost per contract year is min(NPEC, the convention's ``coutTotalPedagogieCFA``
  brought to a yearly amount), −20 % when ≥ 80 % of the training hours are remote.
- Contracts from 2025-07-01: a partial year is prorated by day (÷ 365) and each year is paid
  40 % (opens at the year's start), 30 % (7th month), 20 % (10th month), 10 % (year's end).
  Before: a started month is due in full (÷ 12) and each year is paid 50 % / 25 % / 25 %
  (start, 7th month, 10th month).
- Certification level ≥ 6 (bac+3 and above): the employer pays 750 €, deducted from the first
  échéance.
- Frais annexes from the convention: restauration 3 €/meal, hébergement 6 €/night, premier
  équipement ≤ 500 €.

Money is integer cents throughout.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from relais.domain.dates import add_months, add_years

REFORM_DATE = date(2025, 7, 1)
EMPLOYER_PARTICIPATION_CENTS = 75_000
MEAL_CENTS = 300
NIGHT_CENTS = 600
FIRST_EQUIPMENT_CAP_CENTS = 50_000
MOBILITY_CAP_CENTS = 60_000
DISTANCE_THRESHOLD = 0.8
DISTANCE_CUT = 0.2
LEVEL_6_DIPLOMAS = frozenset({61, 62, 63, 64, 69, 71, 72, 73, 74, 75, 76, 79, 80})
WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class NpecRow:
    certification: str
    idcc: str
    npec_cents: int
    since: date


class NpecTable:
    def __init__(self, rows: Iterable[NpecRow]) -> None:
        self._rows: dict[tuple[str, str], list[NpecRow]] = {}
        for row in rows:
            self._rows.setdefault((row.certification, row.idcc), []).append(row)
        for found in self._rows.values():
            found.sort(key=lambda r: r.since)

    def __len__(self) -> int:
        return sum(len(v) for v in self._rows.values())

    def lookup(self, certifications: Iterable[str], idcc: str, at: date) -> int | None:
        """The annual NPEC in cents, most specific row first, value in force at ``at``."""
        certs = [c for c in (normalise_certification(x) for x in certifications) if c]
        idcc_n = normalise_idcc(idcc)
        candidates = [(c, idcc_n) for c in certs] + [(c, WILDCARD) for c in certs]
        candidates += [(WILDCARD, idcc_n), (WILDCARD, WILDCARD)]
        for key in candidates:
            rows = self._rows.get(key)
            if not rows:
                continue
            applicable = [r for r in rows if r.since <= at] or rows[:1]
            return applicable[-1].npec_cents
        return None


def normalise_certification(value: object) -> str:
    text = str(value or "").strip().upper()
    if text.startswith("RNCP"):
        text = text[4:]
    return text


def normalise_idcc(value: object) -> str:
    text = str(value or "").strip()
    if text == WILDCARD:
        return text
    return text.zfill(4) if text.isdigit() else text


def load_npec_csv(path: Path) -> NpecTable:
    with path.open(encoding="utf-8", newline="") as fh:
        lines = (line for line in fh if line.strip() and not line.lstrip().startswith("#"))
        rows: list[NpecRow] = []
        for raw in csv.DictReader(lines):
            cert = raw.get("certification") or raw.get("rncp") or WILDCARD
            since = date.fromisoformat((raw.get("date_applicabilite") or "2019-01-01")[:10])
            npec = round(float(raw["npec"]) * 100)
            for idcc in (raw.get("idcc") or WILDCARD).replace(",", ";").split(";"):
                rows.append(
                    NpecRow(
                        normalise_certification(cert) or WILDCARD, normalise_idcc(idcc), npec, since
                    )
                )
    return NpecTable(rows)


@dataclass(frozen=True, slots=True)
class EcheancePlan:
    numero: int
    codification: str
    montant_cents: int
    date_ouverture: date
    date_debut: date
    date_fin: date


@dataclass(frozen=True, slots=True)
class FraisAnnexe:
    nature: str  # RESTAURATION, HEBERGEMENT, PREMIEREQUIPEMENT, MOBILITE
    quantite: int
    prix_unitaire_cents: int

    @property
    def montant_cents(self) -> int:
        return self.quantite * self.prix_unitaire_cents


@dataclass(frozen=True, slots=True)
class Engagement:
    npec_cents: int
    echeances: tuple[EcheancePlan, ...]
    frais: tuple[FraisAnnexe, ...] = field(default_factory=tuple)

    @property
    def pedagogie_cents(self) -> int:
        return sum(e.montant_cents for e in self.echeances)

    @property
    def total_cents(self) -> int:
        return self.pedagogie_cents + sum(f.montant_cents for f in self.frais)


@dataclass(frozen=True, slots=True)
class ContractTerms:
    date_debut: date
    date_fin: date
    date_conclusion: date
    npec_cents: int
    duree_formation_h: int = 0
    heures_distanciel: int = 0
    type_diplome: int | None = None
    cout_pedagogie_cents: int | None = None  # from the convention, per year


def contract_years(debut: date, fin: date) -> list[tuple[date, date]]:
    """[debut, fin] split into contract years (the last one may be partial)."""
    years: list[tuple[date, date]] = []
    k = 0
    while True:
        start = add_years(debut, k)
        if start > fin:
            break
        end = min(add_years(debut, k + 1) - timedelta(days=1), fin)
        years.append((start, end))
        k += 1
    return years


def _split(total: int, shares: tuple[int, ...]) -> list[int]:
    parts = [total * s // 100 for s in shares[:-1]]
    parts.append(total - sum(parts))
    return parts


def _months_started(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day >= start.day:
        months += 1
    return max(1, min(12, months))


def compute_engagement(terms: ContractTerms, frais: Iterable[FraisAnnexe] = ()) -> Engagement:
    annual = terms.npec_cents
    if terms.cout_pedagogie_cents is not None:
        annual = min(annual, max(0, terms.cout_pedagogie_cents))
    if terms.duree_formation_h > 0 and (
        terms.heures_distanciel >= DISTANCE_THRESHOLD * terms.duree_formation_h
    ):
        annual = round(annual * (1 - DISTANCE_CUT))
    reform = terms.date_debut >= REFORM_DATE
    shares: tuple[int, ...] = (40, 30, 20, 10) if reform else (50, 25, 25)
    echeances: list[EcheancePlan] = []
    for start, end in contract_years(terms.date_debut, terms.date_fin):
        full_end = add_years(start, 1) - timedelta(days=1)
        if end >= full_end:
            amount = annual
        elif reform:
            amount = annual * ((end - start).days + 1) // 365
        else:
            amount = annual * _months_started(start, end) // 12
        m6, m9 = add_months(start, 6), add_months(start, 9)
        day = timedelta(days=1)
        plan = [(start, start, m6 - day), (m6, m6, m9 - day), (m9, m9, end), (end, end, end)]
        for (opening, debut, fin), part in zip(plan, _split(amount, shares), strict=False):
            debut = min(debut, end)
            numero = len(echeances) + 1
            echeances.append(
                EcheancePlan(
                    numero, f"E{numero}", part, min(opening, end), debut, max(debut, min(fin, end))
                )
            )
    if terms.type_diplome in LEVEL_6_DIPLOMAS and echeances:
        first = echeances[0]
        cut = min(EMPLOYER_PARTICIPATION_CENTS, first.montant_cents)
        echeances[0] = EcheancePlan(
            first.numero,
            first.codification,
            first.montant_cents - cut,
            first.date_ouverture,
            first.date_debut,
            first.date_fin,
        )
    return Engagement(terms.npec_cents, tuple(echeances), tuple(frais))


def frais_from_convention(couts: Mapping[str, object]) -> list[FraisAnnexe]:
    """Frais annexes the convention asks for (meals, nights, first equipment, mobility)."""
    out: list[FraisAnnexe] = []
    meals = _count(couts.get("nombreRepasTotaux"))
    if meals:
        out.append(FraisAnnexe("RESTAURATION", meals, MEAL_CENTS))
    nights = _count(couts.get("nombreHebergementTotaux"))
    if nights:
        out.append(FraisAnnexe("HEBERGEMENT", nights, NIGHT_CENTS))
    equipment = couts.get("montantPremierEquipement")
    if isinstance(equipment, int | float) and not isinstance(equipment, bool) and equipment > 0:
        amount = min(round(equipment * 100), FIRST_EQUIPMENT_CAP_CENTS)
        out.append(FraisAnnexe("PREMIEREQUIPEMENT", 1, amount))
    if couts.get("mentionMobiliteInternationale") is True:
        out.append(FraisAnnexe("MOBILITE", 1, MOBILITY_CAP_CENTS))
    return out


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, min(int(value), 100_000))
