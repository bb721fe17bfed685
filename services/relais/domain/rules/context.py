"""What every rule receives besides the payload: the business day and the referentials."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from relais.domain.cerfa import Cerfa
from relais.domain.findings import Finding
from relais.domain.referentials import Referentials


@dataclass(frozen=True)
class RuleContext:
    today: date
    """The business day in Europe/Paris (``relais.domain.dates.paris_today``)."""
    referentials: Referentials = field(default_factory=Referentials)


CerfaRule = Callable[[Cerfa, RuleContext], Iterable[Finding]]


def blank(value: object) -> bool:
    """Missing for a required field: None, or a string of spaces only."""
    return value is None or (isinstance(value, str) and not value.strip())
