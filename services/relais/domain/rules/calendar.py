"""French public holidays and "jours ouvrables", for the "5 jours ouvrables" deposit deadline.

Jours ouvrables are Monday to Saturday (Sunday is the weekly rest day), public holidays off
(C. trav. L3133-1). Alsace-Moselle (départements 57, 67, 68) adds Good Friday and 26 December
(C. trav. L3134-13); the employer's département decides.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

SUNDAY = 6
ALSACE_MOSELLE = frozenset({"57", "67", "68"})


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=128)
def public_holidays(year: int, alsace_moselle: bool = False) -> frozenset[date]:
    e = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    days = {date(year, m, d) for m, d in fixed}
    days |= {e + timedelta(days=1), e + timedelta(days=39), e + timedelta(days=50)}
    if alsace_moselle:
        days |= {e - timedelta(days=2), date(year, 12, 26)}
    return frozenset(days)


def departement_of_postcode(postcode: str | None) -> str | None:
    """``"67000"`` -> ``"67"`` (the two first digits are enough for the three of Alsace-Moselle)."""
    text = (postcode or "").strip()
    return text[:2] if len(text) == 5 and text.isascii() and text.isdigit() else None


def is_jour_ouvrable(day: date, departement: str | None = None) -> bool:
    holidays = public_holidays(day.year, departement in ALSACE_MOSELLE)
    return day.weekday() != SUNDAY and day not in holidays


def add_working_days(start: date, count: int, *, departement: str | None = None) -> date:
    """The ``count``-th jour ouvrable after ``start`` (Monday-Saturday, public holidays off)."""
    day = start
    left = count
    while left > 0:
        day += timedelta(days=1)
        if is_jour_ouvrable(day, departement):
            left -= 1
    return day
