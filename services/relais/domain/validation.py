"""Validate a payload against the standard's control rules: every finding at once, never raising.

``validate_cerfa`` is what ingest, the OPCO simulator and ``relais validate`` call on a dossier;
``validate_followup`` does the same for convention / facture / certificat / rupture bodies.

How "every finding at once" works with typed models: the payload is parsed with the pydantic
model; each type error becomes a finding (``TYPE_INVALIDE``/``DATE_INVALIDE`` at its path) and the
offending value is set aside, then the rest is parsed again, so the control rules still run on
every field that *is* well typed. Rule findings under a path that already has a type finding are
dropped (one problem, one finding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from relais.domain.cerfa import Cerfa
from relais.domain.findings import ERROR, Finding, dedupe, error, is_under, path_of, warning
from relais.domain.followups import FOLLOWUP_KINDS, FOLLOWUP_MODELS
from relais.domain.opco import OpcoCode
from relais.domain.referentials import Referentials
from relais.domain.routing import resolve_opco
from relais.domain.rules import CERFA_RULES, FOLLOWUP_RULES
from relais.domain.rules.context import RuleContext
from relais.domain.rules.labels import label
from relais.domain.rules.text import time_of_day_findings

M = TypeVar("M", bound=BaseModel)

MAX_PRUNE_ROUNDS = 8

_TYPE_MESSAGES = {
    "string_type": "doit être une chaîne de caractères",
    "string_unicode": "doit être une chaîne de caractères",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier (sans décimale)",
    "int_parsing_size": "nombre entier trop grand",
    "float_type": "doit être un nombre",
    "float_parsing": "doit être un nombre",
    "finite_number": "doit être un nombre fini",
    "nombre_attendu": "doit être un nombre, pas un booléen",
    "nombre_trop_grand": "nombre trop grand",
    "bool_type": "doit être un booléen (true/false)",
    "bool_parsing": "doit être un booléen (true/false)",
    "model_type": "doit être un objet JSON",
    "model_attributes_type": "doit être un objet JSON",
    "dict_type": "doit être un objet JSON",
    "list_type": "doit être une liste",
    "invalid_key": "les noms de champs doivent être des chaînes",
    "missing": "champ obligatoire non renseigné",
}


@dataclass(frozen=True)
class ValidationReport:
    valid: bool
    opco: OpcoCode | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [*self.errors, *self.warnings]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "opco": None if self.opco is None else self.opco.value,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
        }


def report(findings: Iterable[Finding], opco: OpcoCode | None = None) -> ValidationReport:
    unique = dedupe(findings)
    errors = [f for f in unique if f.severity == ERROR]
    warnings = [f for f in unique if f.severity != ERROR]
    return ValidationReport(valid=not errors, opco=opco, errors=errors, warnings=warnings)


def type_finding(err: Mapping[str, Any]) -> Finding:
    """A pydantic error as a finding: our path convention, a French message, never the value."""
    loc = tuple(p for p in err.get("loc", ()) if isinstance(p, str | int))
    path = path_of(loc)
    kind = str(err.get("type", ""))
    if kind == "date_invalide":
        return error("DATE_INVALIDE", path, f"{_cap(label(path))} : {err.get('msg', '')}.")
    text = _TYPE_MESSAGES.get(kind, "valeur invalide")
    return error("TYPE_INVALIDE", path, f"{_cap(label(path))} : {text}.")


def parse(model: type[M], data: object) -> tuple[M | None, list[Finding]]:
    """Parse ``data`` with ``model``, turning type errors into findings and parsing the rest."""
    findings: list[Finding] = []
    current: object = data
    for _ in range(MAX_PRUNE_ROUNDS):
        try:
            return model.model_validate(current), findings
        except ValidationError as exc:
            errs = exc.errors(include_input=False, include_url=False)
        except (RecursionError, MemoryError):
            findings.append(
                error("TROP_IMBRIQUE", "", "Document trop volumineux ou trop imbriqué.")
            )
            return None, findings
        pruned = current
        for err in errs:
            findings.append(type_finding(err))
            pruned = _without(pruned, tuple(err.get("loc", ())))
        if pruned is current or not isinstance(pruned, dict):
            break
        current = pruned
    return None, findings


def validate_cerfa(
    data: object,
    *,
    today: date,
    referentials: Referentials,
    explicit_opco: str | None = None,
) -> ValidationReport:
    """Every control rule on a ``cerfa`` object (paths relative to it), plus OPCO routing.

    ``data`` is the decoded JSON object (a ``Cerfa`` model is accepted too). Never raises.
    """
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    if not isinstance(data, dict):
        return report([error("CERFA_NON_OBJET", "", "Le dossier (cerfa) doit être un objet JSON.")])
    cerfa, findings = parse(Cerfa, data)
    if cerfa is None:
        return report(findings)
    ctx = RuleContext(today=today, referentials=referentials)
    rule_findings = run_rules(CERFA_RULES, cerfa, ctx)
    idcc = cerfa.employeur.codeIdcc if cerfa.employeur is not None else None
    opco, routing_findings = resolve_opco(idcc, referentials.idcc, explicit_opco)
    rule_findings.extend(routing_findings)
    rule_findings.extend(time_of_day_findings(data))
    return report([*findings, *_not_under(rule_findings, findings)], opco)


def validate_followup(kind: str, data: object, *, today: date) -> ValidationReport:
    """Control rules on a convention / facture / certificat / rupture body (paths relative)."""
    if kind not in FOLLOWUP_KINDS:
        return report(
            [
                error(
                    "TYPE_SUIVI_INCONNU",
                    "",
                    "Type de document inconnu (attendu : convention, "
                    "facture, certificat ou rupture).",
                )
            ]
        )
    if isinstance(data, BaseModel):
        data = data.model_dump(exclude_unset=True)
    if not isinstance(data, dict):
        return report([error("CORPS_NON_OBJET", "", f"Le corps ({kind}) doit être un objet JSON.")])
    model = FOLLOWUP_MODELS[kind]
    parsed, findings = parse(model, data)
    if parsed is None:
        return report(findings)
    rule_findings = run_rules(FOLLOWUP_RULES[kind], parsed, RuleContext(today=today))
    rule_findings.extend(time_of_day_findings(data))
    return report([*findings, *_not_under(rule_findings, findings)])


def run_rules(
    rules: Iterable[Callable[[Any, RuleContext], Iterable[Finding]]], model: Any, ctx: RuleContext
) -> list[Finding]:
    """Run every rule; one that fails on an input nobody foresaw costs a warning, not the stream.

    The rules are pure functions tested on every field (and by property tests on arbitrary JSON),
    so this should never trigger; if it does, the dossier still gets every other finding and the
    OPCO remains the judge of the rule that could not run (DESIGN promise 5).
    """
    out: list[Finding] = []
    for rule in rules:
        try:
            out.extend(rule(model, ctx))
        except Exception:  # noqa: BLE001 - a rule's bug must not stop the stream (promise 5)
            out.append(
                warning(
                    "CONTROLE_NON_EXECUTE",
                    "",
                    f"Un contrôle n'a pas pu être exécuté ({getattr(rule, '__name__', 'règle')}) ; "
                    "les autres contrôles ont été appliqués.",
                )
            )
    return out


def _not_under(findings: Iterable[Finding], typed: list[Finding]) -> list[Finding]:
    bad_paths = [f.path for f in typed if f.path]
    return [f for f in findings if not any(is_under(f.path, p) for p in bad_paths)]


def _without(obj: object, loc: tuple[Any, ...]) -> object:
    """A copy of ``obj`` with the value at ``loc`` set aside (copying only along the path).

    A dict entry is removed; a list item is replaced by ``{}`` so later indexes keep their meaning.
    Returns ``obj`` itself when ``loc`` does not lead anywhere (nothing to remove).
    """
    if not loc:
        return obj
    head, rest = loc[0], loc[1:]
    if isinstance(obj, dict):
        if head not in obj:
            return obj
        copy = dict(obj)
        if rest:
            inner = _without(obj[head], rest)
            if inner is obj[head]:
                del copy[head]
            else:
                copy[head] = inner
        else:
            del copy[head]
        return copy
    if isinstance(obj, list) and isinstance(head, int) and 0 <= head < len(obj):
        items = list(obj)
        if rest:
            inner = _without(obj[head], rest)
            items[head] = {} if inner is obj[head] else inner
        else:
            items[head] = {}
        return items
    return obj


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
