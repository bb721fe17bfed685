"""The money, checked before the OPCO call (issue 15, item 4), from what relais knows.

A convention's cost against the NPEC of its dossier's certification and IDCC
(``domain/rules/money.py``: ``check_convention_money``), the dossier being the cerfa relais
validated and sent (its last submitted dossier command, in the ledger). A facture's lines against
each dossier's échéancier as the OPCO's dossier read gives it (``check_facture_money``; the
échéances, the contract's start and its end or rupture date): an échéancier that cannot be read
is a warning, never a block. Errors refuse the command with a terminal ``rejected`` status naming
them (warnings beside them), before any call.

Pure: dispatch's handler reads the ledger and passes what it found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from relais.domain.cerfa import Cerfa
from relais.domain.dates import parse_wire_date
from relais.domain.events import (
    ConventionSubmittedData,
    DossierSubmittedData,
    ErrorItem,
    FactureSubmittedData,
)
from relais.domain.findings import Finding
from relais.domain.followups import Convention, Facture
from relais.domain.npec import NpecTable
from relais.domain.rules.money import (
    DossierFacts,
    KnownDossier,
    check_convention_money,
    check_facture_money,
    echeancier_from_opco,
)
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


def known_dossier(detail: object) -> KnownDossier:
    """What a facture is checked against, from the OPCO's dossier read (``GET /v1/dossiers``):
    its échéancier (none before the OPCO's engagement), the contract's start and its end (the
    rupture date when there is one)."""
    contrat = detail.get("cerfa", {}).get("contrat") if isinstance(detail, dict) else None
    contrat = contrat if isinstance(contrat, dict) else {}
    end = _date(contrat.get("dateRupture")) or _date(contrat.get("dateFinContrat"))
    # No échéance yet: the OPCO has not engaged the dossier, its échéancier is not known.
    # (``domain/dossier_read.py`` reads the whole read model: amounts, billing details, frais.)
    echeances = echeancier_from_opco(detail) or None
    return KnownDossier(echeances, start=_date(contrat.get("dateDebutContrat")), end=end)


def facture_verdict(
    data: FactureSubmittedData, known: Mapping[str, KnownDossier | None], *, today: date
) -> MoneyVerdict:
    """Each line against its dossier's échéancier; ``known`` keyed by the CFA's dossier id."""
    facture = Facture.model_validate(data.facture.model_dump())
    return verdict(check_facture_money(facture, known, today=today), "data.facture")


def _date(value: object) -> date | None:
    try:
        return parse_wire_date(value) if value is not None else None
    except (TypeError, ValueError):
        return None


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
