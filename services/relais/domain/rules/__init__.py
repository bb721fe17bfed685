"""The control rules of the convergence standard (convergence-api.md section 3), as pure functions.

A cerfa rule is ``(Cerfa, RuleContext) -> Iterable[Finding]``; a follow-up rule takes the follow-up
model instead. Rules never raise on a parsed model: a field a rule needs that is missing simply
skips the rule (the required-field rule reports the absence once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from relais.domain.findings import Finding
from relais.domain.rules.age import check_age
from relais.domain.rules.context import CerfaRule, RuleContext
from relais.domain.rules.contract import check_contract
from relais.domain.rules.dates import check_contract_dates, check_training_dates
from relais.domain.rules.followups import (
    check_certificat,
    check_convention,
    check_facture,
    check_rupture,
)
from relais.domain.rules.format import check_format
from relais.domain.rules.required import check_required
from relais.domain.rules.text import check_text
from relais.domain.rules.wages import check_wages

CERFA_RULES: tuple[CerfaRule, ...] = (
    check_required,
    check_format,
    check_text,
    check_age,
    check_contract,
    check_contract_dates,
    check_training_dates,
    check_wages,
)

FollowupRule = Callable[[Any, RuleContext], Iterable[Finding]]
FOLLOWUP_RULES: dict[str, tuple[FollowupRule, ...]] = {
    "convention": (check_convention, check_text),
    "facture": (check_facture, check_text),
    "certificat": (check_certificat, check_text),
    "rupture": (check_rupture, check_text),
}
