from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from relais.domain.dates import (
    WireDate,
    add_months,
    age_on,
    birthday,
    full_months_between,
    paris_today,
    parse_date,
    to_wire,
)


@pytest.mark.parametrize(
    "text",
    [
        "2021-02-01T00:00:00+0000",
        "2021-02-01T00:00:00Z",
        "2021-02-01T00:00:00+00:00",
        "2021-02-01",
        "2021-02-01T00:00:00.000Z",
        "2021-02-01T00:00",
        " 2021-02-01 ",
    ],
)
def test_parse_date_accepts_the_wire_forms_seen(text: str) -> None:
    assert parse_date(text) == date(2021, 2, 1)


@pytest.mark.parametrize(
    "bad", ["01/02/2021", "2021-02-30", "2021-13-01", "", "2021-2-1", 20210201, None, 1.5]
)
def test_parse_date_refuses_other_forms(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_date(bad)


def test_a_date_time_is_the_day_in_paris_and_midnight_the_day_as_written() -> None:
    """Issue 15: never shifted to the previous day (a JS client's Paris midnight in UTC)."""
    assert parse_date("2021-01-31T23:00:00Z") == date(2021, 2, 1)
    assert parse_date(datetime(2021, 1, 31, 23, tzinfo=UTC)) == date(2021, 2, 1)
    assert parse_date("2021-02-01T00:00:00+0000") == date(2021, 2, 1)
    assert parse_date(datetime(2021, 2, 1, tzinfo=UTC)) == date(2021, 2, 1)


def test_to_wire_is_midnight_utc_with_offset() -> None:
    assert to_wire(date(2021, 2, 1)) == "2021-02-01T00:00:00+00:00"


def test_wire_date_field_round_trip() -> None:
    class M(BaseModel):
        d: WireDate

    m = M.model_validate({"d": "2026-08-03"})
    assert m.d == date(2026, 8, 3)
    assert m.model_dump(mode="json") == {"d": "2026-08-03T00:00:00+00:00"}
    assert M.model_validate(m.model_dump(mode="json")).d == m.d


def test_paris_today_crosses_midnight_before_utc() -> None:
    # 23:30 UTC on 31 Dec is already 1 Jan in Paris (UTC+1 in winter).
    assert paris_today(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 1, 1)
    # 22:30 UTC in summer is 00:30 in Paris (UTC+2).
    assert paris_today(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert paris_today(datetime(2026, 6, 30, 12, tzinfo=timezone(timedelta(hours=-5)))) == date(
        2026, 6, 30
    )


def test_age_on_birthday_and_29_february() -> None:
    assert age_on(date(2008, 5, 10), date(2026, 5, 9)) == 17
    assert age_on(date(2008, 5, 10), date(2026, 5, 10)) == 18
    # born 29/02: a new year of age on 1 March in a common year, on 29/02 in a leap year
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert age_on(date(2008, 2, 29), date(2028, 2, 29)) == 20
    assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert birthday(date(2008, 2, 29), 20) == date(2028, 2, 29)


def test_month_arithmetic() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    assert full_months_between(date(2025, 9, 1), date(2026, 3, 1)) == 6
    assert full_months_between(date(2025, 9, 1), date(2026, 2, 28)) == 5
    assert full_months_between(date(2026, 3, 1), date(2025, 9, 1)) == -6
    # end of month to end of a shorter month counts as a whole month (31/01 -> 28/02)
    assert full_months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert full_months_between(date(2026, 1, 31), date(2026, 2, 27)) == 0


def test_json_schema_pattern_accepts_what_the_parser_accepts() -> None:
    import re

    from relais.domain.dates import DATE_PATTERN

    for text in (
        "2021-02-01",
        "2021-02-01T00:00:00+0000",
        "2021-02-01T00:00:00Z",
        "2021-02-01T00:00:00+00:00",
    ):
        assert re.match(DATE_PATTERN, text)
        parse_date(text)
    assert not re.match(DATE_PATTERN, "01/02/2021")
