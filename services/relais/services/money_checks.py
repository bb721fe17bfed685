"""The money, checked before the OPCO call (issue 15, item 4), from what the ledger knows.

A convention's cost against the NPEC of its dossier's certification and IDCC
(``domain/rules/money.py``: ``check_convention_money``), the dossier being the cerfa relais
validated and sent (its last submitted dossier command). Errors refuse the command with a terminal
``rejected`` status naming them, before any call; warnings ride on its terminal status.

Pure: dispatch's handler reads the ledger and passes what it found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from relais.domain.cerfa import Cerfa
from relais.domain.events import ConventionSubmittedData, DossierSubmittedData, ErrorItem
from relais.domain.findings import Finding
from relais.domain.followups import Convention
from relais.domain.npec import NpecTable
from relais.domain.rules.money import DossierFacts, check_convention_money
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import Command, CommandKind, CommandState


@dataclass(frozen=True)
class MoneyVerdict:
    errors: tuple[ErrorItem, ...] = ()
    warnings: tuple[ErrorItem, ...] = ()


NOTHING = MoneyVerdict()


def submitted_cerfa(commands: Sequence[Command]) -> Cerfa | None:
    """The cerfa of the dossier's last submitted dossier command (the contract or its latest
    avenant), as validated; None when there is none (a dossier submitted outside relais)."""
    for command in reversed(commands):
        payload = command.payload
        if (
            command.kind is CommandKind.DOSSIER
            and command.state is CommandState.DONE
            and isinstance(payload, CommandPayload)
            and isinstance(payload.data, DossierSubmittedData)
        ):
            try:
                return Cerfa.model_validate(payload.data.cerfa)
            except ValidationError:
                return None
    return None


def convention_verdict(
    data: ConventionSubmittedData, cerfa: Cerfa | None, npec: NpecTable
) -> MoneyVerdict:
    """The convention's cost against the NPEC ceiling of its dossier (``cerfa``)."""
    try:
        convention = Convention.model_validate(data.convention)
    except ValidationError:
        return NOTHING  # build_call reports an unreadable body
    facts = DossierFacts.from_cerfa(cerfa) if cerfa is not None else None
    findings, _ = check_convention_money(convention, facts, npec)
    return verdict(findings, "data.convention")


def verdict(findings: Sequence[Finding], prefix: str) -> MoneyVerdict:
    items = [_item(f, prefix) for f in findings]
    return MoneyVerdict(
        errors=tuple(i for i in items if i.severity == "error"),
        warnings=tuple(i for i in items if i.severity != "error"),
    )


def _item(finding: Finding, prefix: str) -> ErrorItem:
    path = f"{prefix}.{finding.path}" if finding.path else prefix
    return ErrorItem(
        code=finding.code, severity=finding.severity, path=path, message=finding.message
    )
