"""The control rules and routing ingest applies: the domain's, behind one seam (``Rules``) so the
handler is testable alone. Production wires ``DomainRules`` (``bootstrap``); there is no default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from relais.domain.events import CfaEvent, DossierSubmittedData, ErrorItem, EventKind
from relais.domain.findings import Finding
from relais.domain.opco import OpcoCode
from relais.domain.referentials import Referentials
from relais.domain.validation import validate_cerfa, validate_followup


@dataclass(frozen=True)
class RuleCheck:
    errors: tuple[ErrorItem, ...] = ()
    warnings: tuple[ErrorItem, ...] = ()
    opco: OpcoCode | None = None  # dossiers: the competent OPCO when routing found one


class Rules(Protocol):
    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        """Control rules of the cerfa and the competent OPCO (explicit ``data.opco`` wins)."""
        ...

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        """Control rules of a convention, facture, certificat or rupture body (a document has
        none besides its model and its file reference's form, checked before)."""
        ...


class DomainRules:
    """The standard's control rules and IDCC routing (``relais.domain.validation``)."""

    def __init__(self, referentials: Referentials) -> None:
        self._referentials = referentials

    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        found = validate_cerfa(
            data.cerfa,
            today=today,
            referentials=self._referentials,
            explicit_opco=data.opco.value if data.opco is not None else None,
        )
        return RuleCheck(
            errors=tuple(_item(f, "data.cerfa") for f in found.errors),
            warnings=tuple(_item(f, "data.cerfa") for f in found.warnings),
            opco=found.opco,
        )

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        if event.kind is EventKind.DOCUMENT:
            return RuleCheck()  # its model and its file reference are all there is to check
        kind = event.kind.value
        body = event.data.model_dump(mode="json", exclude_none=True).get(kind, {})
        found = validate_followup(kind, body, today=today)
        return RuleCheck(
            errors=tuple(_item(f, f"data.{kind}") for f in found.errors),
            warnings=tuple(_item(f, f"data.{kind}") for f in found.warnings),
        )


def _item(finding: Finding, prefix: str) -> ErrorItem:
    """A domain finding as an event error, its path from the event's root (``data.cerfa...``)."""
    if finding.path == "opco":  # routing speaks of the event's explicit OPCO
        path = "data.opco"
    elif not finding.path:
        path = prefix
    elif finding.path.startswith("["):
        path = f"{prefix}{finding.path}"
    else:
        path = f"{prefix}.{finding.path}"
    return ErrorItem(
        code=finding.code, severity=finding.severity, path=path, message=finding.message
    )
