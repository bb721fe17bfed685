"""How the simulator checks a cerfa: relais's control rules when present, structural checks always.

The control rules live in ``relais.domain.validation.validate_cerfa(data, today=...,
referentials=...)`` (shared domain code). The simulator resolves it once at start; if the module is
missing (or its signature differs) it falls back to the minimal structural checks below, so it
keeps running while the rules evolve. Either way a finding becomes
``{"code", "champ", "description"}``; only errors (not warnings) reject a dossier.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from relais_simulator.wire import read_date

Json = dict[str, Any]
CerfaValidator = Callable[[Json, date], list[Json]]

_SIRET = re.compile(r"^[0-9]{14}$")


def structural_errors(cerfa: Json) -> list[Json]:
    """What the simulator needs to store a dossier at all (and what a real OPCO would reject)."""
    errors: list[Json] = []

    def need(section: str) -> dict[str, Any] | None:
        value = cerfa.get(section)
        if not isinstance(value, dict):
            errors.append(_e("CHAMP_OBLIGATOIRE", section, "Section obligatoire"))
            return None
        return value

    employeur = need("employeur")
    apprenti = need("apprenti")
    contrat = need("contrat")
    need("formation")
    of = need("organismeFormation")
    if employeur is not None and not _SIRET.match(str(employeur.get("siret") or "")):
        errors.append(_e("FORMAT_SIRET", "employeur.siret", "SIRET sur 14 chiffres attendu"))
    if of is not None and not _SIRET.match(str(of.get("siret") or "")):
        errors.append(
            _e("FORMAT_SIRET", "organismeFormation.siret", "SIRET sur 14 chiffres attendu")
        )
    if apprenti is not None:
        for name in ("nom", "prenom"):
            value = apprenti.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(_e("CHAMP_OBLIGATOIRE", f"apprenti.{name}", "Champ obligatoire"))
        if read_date(apprenti.get("dateNaissance")) is None:
            errors.append(_e("FORMAT_DATE", "apprenti.dateNaissance", "Date attendue"))
    if contrat is not None:
        debut = read_date(contrat.get("dateDebutContrat"))
        fin = read_date(contrat.get("dateFinContrat"))
        if debut is None:
            errors.append(_e("FORMAT_DATE", "contrat.dateDebutContrat", "Date attendue"))
        if fin is None:
            errors.append(_e("FORMAT_DATE", "contrat.dateFinContrat", "Date attendue"))
        if debut is not None and fin is not None and fin <= debut:
            errors.append(
                _e("DATES_CONTRAT", "contrat.dateFinContrat", "Fin du contrat avant son début")
            )
        type_contrat = contrat.get("typeContratApp")
        if isinstance(type_contrat, bool) or not isinstance(type_contrat, int | str):
            errors.append(_e("CHAMP_OBLIGATOIRE", "contrat.typeContratApp", "Champ obligatoire"))
    return errors


def _e(code: str, champ: str, description: str) -> Json:
    return {"code": code, "champ": champ, "description": description}


def _finding_to_error(finding: Any) -> Json | None:
    if isinstance(finding, dict):
        get = finding.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(finding, name, default)

    if str(get("severity", "error")) != "error":
        return None
    return _e(
        str(get("code", "REGLE")),
        str(get("path", None) or get("champ", "") or ""),
        str(get("message", None) or get("description", "") or ""),
    )


def resolve_rules(referentials: Any = None) -> tuple[CerfaValidator | None, str]:
    """relais's ``validate_cerfa`` adapted to ``(cerfa, today) -> errors``, or None; and a label."""
    try:
        module = importlib.import_module("relais.domain.validation")
    except ImportError:
        return None, "structural"
    fn = getattr(module, "validate_cerfa", None)
    if not callable(fn):
        return None, "structural"
    params = inspect.signature(fn).parameters
    kwargs: dict[str, Any] = {}
    if "referentials" in params:
        refs = referentials
        if refs is None:
            loader = getattr(module, "load_referentials", None) or getattr(
                module, "default_referentials", None
            )
            if callable(loader):
                try:
                    refs = loader()
                except (OSError, ValueError, TypeError):
                    refs = None
        if refs is None and params["referentials"].default is inspect.Parameter.empty:
            return None, "structural"
        if refs is not None:
            kwargs["referentials"] = refs

    def validate(cerfa: Json, today: date) -> list[Json]:
        result = fn(cerfa, today=today, **kwargs)
        findings = getattr(result, "findings", result)
        out: list[Json] = []
        for f in findings or ():
            item = _finding_to_error(f)
            if item is not None:
                out.append(item)
        return out

    return validate, "relais.domain.validation"


class CerfaChecker:
    def __init__(self, use_rules: bool = True, referentials: Any = None) -> None:
        self._rules, self.source = (
            resolve_rules(referentials) if use_rules else (None, "structural")
        )

    def check(self, cerfa: Json, today: date) -> tuple[list[Json], list[Json]]:
        """-> (structural errors: 400, rule errors: 422)."""
        structural = structural_errors(cerfa)
        if structural or self._rules is None:
            return structural, []
        try:
            return [], self._rules(cerfa, today)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return [], [_e("REGLE_INVALIDE", "", f"Contrôle impossible ({type(exc).__name__})")]
