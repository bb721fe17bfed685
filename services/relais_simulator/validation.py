"""How the simulator checks a cerfa: structural checks, then relais's control rules.

The control rules are ``relais.domain.validation.validate_cerfa(data, today=..., referentials=...)``
(shared domain code); they run after the structural checks below (what the simulator needs to
store a dossier at all) unless ``--structural-only``. Either way a finding becomes
``{"code", "champ", "description"}``; only errors (not warnings) reject a dossier.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from relais.domain.json_types import Json
from relais.domain.referentials import Referentials, load_referentials
from relais.domain.validation import validate_cerfa, validate_followup
from relais_simulator.wire import read_date

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


class CerfaChecker:
    """Structural checks (400) then relais's control rules (422), errors only (warnings pass)."""

    def __init__(self, use_rules: bool = True, referentials: Referentials | None = None) -> None:
        self._referentials = (referentials or load_referentials()) if use_rules else None
        self.source = "relais.domain.validation" if use_rules else "structural"

    def check(self, cerfa: Json, today: date) -> tuple[list[Json], list[Json]]:
        """-> (structural errors: 400, rule errors: 422)."""
        structural = structural_errors(cerfa)
        if structural:
            return structural, []
        return [], self.rules(cerfa, today)

    def rules(self, cerfa: Json, today: date) -> list[Json]:
        """The control rules' errors (none when running structural-only)."""
        if self._referentials is None:
            return []
        found = validate_cerfa(cerfa, today=today, referentials=self._referentials)
        return [_e(f.code, f.path, f.message) for f in found.errors]

    @staticmethod
    def followup(kind: str, body: Json, today: date) -> list[Json]:
        """relais's control rules on a convention / facture / certificat / rupture body."""
        found = validate_followup(kind, body, today=today)
        return [_e(f.code, f.path, f.message) for f in found.errors]
