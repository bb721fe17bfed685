"""Dates as the convergence standard writes them.

On input the sources disagree (``"2021-02-01T00:00:00+0000"`` in the spec examples, ``...Z``
and plain ``"2026-08-03"`` in AKTO answers, ``+00:00`` from WEDOF), so dates are parsed leniently;
on output a date is always midnight UTC with an offset: ``"YYYY-MM-DDT00:00:00+00:00"``
(convergence-api.md 1.7).

A date-time at midnight is the calendar date as written (``"2021-02-01T00:00:00+0000"`` is the 1st,
whatever its offset). Any other time with an offset is an instant, read in Europe/Paris: the
``"2021-01-31T23:00:00.000Z"`` a JavaScript client writes for Paris's midnight of 1 February is the
1st, never shifted to the previous day; a time without offset is Paris's local time already. The
rules warn about such a date (``has_time_of_day``, finding ``DATE_HEURE_NON_MINUIT``).
Business "today" is the day in Europe/Paris.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

PARIS = ZoneInfo("Europe/Paris")

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?$",
    re.ASCII,  # "\d" is 0-9 only: full-width or Arabic-Indic digits are not a date
)


DATE_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
"""The same forms as ``_DATE_RE``, for JSON Schema (no named groups, ECMA-262 compatible)."""


def parse_date(value: object) -> date:
    """A calendar date from the wire forms seen in the wild; ``ValueError`` otherwise.

    Accepted: ``date``, ``datetime`` (its date), and strings ``YYYY-MM-DD`` optionally followed
    by ``THH:MM[:SS[.fff]]`` and ``Z`` / ``+HHMM`` / ``+HH:MM``. Numbers are refused (no epoch
    guessing).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.time() == datetime.min.time():
            return value.date()
        return value.astimezone(PARIS).date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise _invalid("date attendue au format AAAA-MM-JJ")
    match = _DATE_RE.match(value.strip())
    if match is None:
        raise _invalid("date attendue au format AAAA-MM-JJ")
    try:
        day = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise _invalid("date inexistante dans le calendrier") from None
    if not _is_midnight(match["time"]) and match["tz"]:
        return _paris_day(day, match["time"], match["tz"])
    return day


def _is_midnight(time: str | None) -> bool:
    return time is None or not time.replace(":", "").replace(".", "").strip("0")


def _paris_day(day: date, time: str, tz: str) -> date:
    """The day in Europe/Paris of the instant ``day`` + ``time`` at offset ``tz``."""
    hh, mm = int(time[0:2]), int(time[3:5])
    if hh > 23 or mm > 59:
        raise _invalid("heure invalide")
    if tz in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = tz[1:].replace(":", "")
        minutes = int(digits[0:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        offset = timedelta(minutes=minutes if tz[0] == "+" else -minutes)
    try:
        instant = datetime(day.year, day.month, day.day, hh, mm) - offset
        return instant.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS).date()
    except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar's edge
        raise _invalid("date hors de la plage admise (1900-2199)") from None


def has_time_of_day(value: object) -> bool:
    """A date string written with a time other than midnight (warned about by the rules)."""
    if not isinstance(value, str):
        return False
    match = _DATE_RE.match(value.strip())
    return match is not None and not _is_midnight(match["time"])


def _invalid(message: str) -> PydanticCustomError:
    """A ``ValueError`` that pydantic reports with the type ``date_invalide`` (no value echoed)."""
    return PydanticCustomError("date_invalide", message)


def to_wire(value: date) -> str:
    """Midnight UTC with an offset, the form relais sends: ``2021-02-01T00:00:00+00:00``."""
    return f"{value.isoformat()}T00:00:00+00:00"


def paris_today(now: datetime) -> date:
    """The business day in Europe/Paris for an aware ``now`` (a naive one is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    return now.astimezone(PARIS).date()


def add_months(value: date, months: int) -> date:
    """``value`` plus ``months`` months, clamped to the month's last day (31/01 + 1 = 28/02)."""
    total = value.year * 12 + (value.month - 1) + months
    year, month0 = divmod(total, 12)
    day = min(value.day, _days_in_month(year, month0 + 1))
    return date(year, month0 + 1, day)


def add_years(value: date, years: int) -> date:
    """``value`` plus ``years``; 29 February becomes 28 February in a common year."""
    return add_months(value, 12 * years)


def full_months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (date-fns ``differenceInMonths`` semantics).

    Negative when ``end`` is before ``start``.
    """
    if end < start:
        return -full_months_between(end, start)
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    return months


def age_on(birth: date, day: date) -> int:
    """Completed years at ``day`` (date-fns ``differenceInYears``, as the state CERFA form does).

    Someone born on 29 February reaches a new age on 1 March in a common year.
    """
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def birthday(birth: date, years: int) -> date:
    """The day someone born on ``birth`` reaches ``years`` (1 March for 29/02 in a common year)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def next_day(value: date) -> date:
    return value + timedelta(days=1)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


MIN_YEAR, MAX_YEAR = 1900, 2199
"""Dates of the standard (births, contracts, invoices) fall well inside; outside is an input error,
refused before any date arithmetic can overflow."""


def parse_wire_date(value: object) -> date:
    """``parse_date`` limited to the years 1900-2199."""
    day = parse_date(value)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise _invalid("date hors de la plage admise (1900-2199)")
    return day


WireDate = Annotated[
    date,
    BeforeValidator(parse_wire_date),
    PlainSerializer(to_wire, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DATE_PATTERN,
            "description": "A day: YYYY-MM-DD, optionally with a time and an offset "
            "(2021-02-01T00:00:00+0000, ...Z, ...+00:00); sent as YYYY-MM-DDT00:00:00+00:00",
        }
    ),
]
"""A date field of the standard: lenient in, ``YYYY-MM-DDT00:00:00+00:00`` out (JSON mode)."""
