"""The legal minimum wage schedule of an apprentice (convergence-api.md 3.5), built from the SMIC
table in ``schemas/referentials/smic.csv``.

Year N of the contract runs from the start date to the day before the N-th anniversary of it.
When the apprentice changes age bracket (<18, 18-20, 21-25, >=26) during a year, the year splits
into ``N.1`` and ``N.2`` and the new period starts on the 1st of the month after the birthday
(when the contract year starts on the birthday, the bracket simply changes with the year).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from relais.domain.referentials import referential

# Minimum % of SMIC per contract year (1-4) and age bracket (0: <18, 1: 18-20, 2: 21-25, 3: >=26).
MINIMUM_GRID: dict[int, tuple[int, int, int, int]] = {
    1: (27, 43, 53, 100),
    2: (39, 51, 61, 100),
    3: (55, 67, 78, 100),
    4: (55, 67, 78, 100),
}


def bracket(age: int) -> int:
    if age < 18:
        return 0
    if age <= 20:
        return 1
    if age <= 25:
        return 2
    return 3


def minimum_rate(contract_year: int, age: int) -> int:
    return MINIMUM_GRID[min(contract_year, 4)][bracket(age)]


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def add_months(value: date, months: int) -> date:
    total = value.year * 12 + value.month - 1 + months
    year, month0 = divmod(total, 12)
    for day in range(value.day, 27, -1):
        try:
            return date(year, month0 + 1, day)
        except ValueError:
            continue
    return date(year, month0 + 1, min(value.day, 28))


def birthday(birth: date, years: int) -> date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth.year + years, 3, 1)


def first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Smic:
    date_effet: date
    mensuel: Decimal
    mensuel_mayotte: Decimal | None


def load_smic(path: Path | None = None) -> tuple[Smic, ...]:
    with (path or referential("smic.csv")).open(encoding="utf-8", newline="") as fh:
        rows = [
            Smic(
                date.fromisoformat(r["date_effet"]),
                Decimal(r["mensuel_35h"]),
                Decimal(r["mensuel_35h_mayotte"]) if r["mensuel_35h_mayotte"] else None,
            )
            for r in csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        ]
    return tuple(sorted(rows, key=lambda s: s.date_effet))


def smic_at(table: tuple[Smic, ...], day: date) -> Smic:
    in_force = [s for s in table if s.date_effet <= day]
    if not in_force:
        raise ValueError("no SMIC in force at that date")
    return in_force[-1]


@dataclass(frozen=True)
class Period:
    ordre: str
    debut: date
    fin: date
    age: int
    minimum: int


def periods(birth: date, start: date, end: date) -> list[Period]:
    """The remuneration periods of a contract from ``start`` to ``end`` (inclusive)."""
    out: list[Period] = []
    year = 1
    year_start = start
    while year_start <= end:
        year_end = min(add_months(start, 12 * year) - timedelta(days=1), end)
        age = age_on(birth, year_start)
        split: date | None = None
        next_birthday = birthday(birth, age + 1)
        if year_start < next_birthday <= year_end and bracket(age + 1) != bracket(age):
            candidate = first_of_next_month(next_birthday)
            if candidate <= year_end:
                split = candidate
        if split is None:
            out.append(Period(f"{year}.1", year_start, year_end, age, minimum_rate(year, age)))
        else:
            out.append(
                Period(
                    f"{year}.1", year_start, split - timedelta(days=1), age, minimum_rate(year, age)
                )
            )
            out.append(Period(f"{year}.2", split, year_end, age + 1, minimum_rate(year, age + 1)))
        year += 1
        year_start = year_end + timedelta(days=1)
    return out


def monthly_amount(rate: float, smic: Smic) -> float:
    amount = (Decimal(str(rate)) * smic.mensuel / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return float(amount)
