"""The minimum wage schedule (convergence-api.md 3.5) built by the generator."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from relais.sampledata import wages


def test_periods_cover_the_contract_contiguously() -> None:
    start, end = date(2026, 9, 1), date(2029, 8, 31)
    periods = wages.periods(date(2008, 1, 15), start, end)
    assert periods[0].debut == start
    assert periods[-1].fin == end
    for before, after in itertools.pairwise(periods):
        assert after.debut == before.fin + timedelta(days=1)


def test_bracket_change_splits_the_year_on_the_first_of_next_month() -> None:
    # 18 on 15 January 2026 during year 1 (from 1 Sept 2025): 1.2 starts 1 February 2026.
    periods = wages.periods(date(2008, 1, 15), date(2025, 9, 1), date(2027, 8, 31))
    assert [(p.ordre, p.debut, p.minimum) for p in periods] == [
        ("1.1", date(2025, 9, 1), 27),
        ("1.2", date(2026, 2, 1), 43),
        ("2.1", date(2026, 9, 1), 51),
    ]


def test_no_split_within_a_bracket_and_at_26_it_is_the_full_smic() -> None:
    periods = wages.periods(date(1999, 5, 5), date(2026, 9, 1), date(2028, 8, 31))
    assert [(p.ordre, p.minimum) for p in periods] == [("1.1", 100), ("2.1", 100)]
    periods = wages.periods(date(2004, 5, 5), date(2026, 9, 1), date(2028, 8, 31))
    assert [(p.ordre, p.minimum) for p in periods] == [("1.1", 53), ("2.1", 61)]


def test_contract_starting_on_the_birthday_changes_bracket_with_the_year() -> None:
    periods = wages.periods(date(2005, 9, 1), date(2025, 9, 1), date(2027, 8, 31))
    # 20 at the start (bracket 18-20), 21 at the start of year 2: no split.
    assert [(p.ordre, p.minimum) for p in periods] == [("1.1", 43), ("2.1", 61)]


def test_smic_in_force_and_monthly_amount() -> None:
    table = wages.load_smic()
    assert wages.smic_at(table, date(2026, 11, 27)).date_effet == date(2026, 1, 1)
    smic = wages.smic_at(table, date(2025, 6, 1))
    assert float(smic.mensuel) == 1801.80
    assert wages.monthly_amount(53, smic) == 954.95
