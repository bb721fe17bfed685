"""Resolving an ambiguous creation (DESIGN promise 2): is the dossier already at the OPCO?

A dossier has no id before the OPCO answers, so it is recognised by its natural key: employer
SIRET, apprentice nom / prénom / birth date, contract start. Candidates come from the CFA's etats
listing, the ones most likely to be new first (TRANSMIS, EN_COURS_INSTRUCTION), then every other;
their details are read (``dossiers/liste`` in batches, else ``dossiers?numeroInterne=``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relais.adapters.opco.readmodel import parse_date, same_name
from relais.services.opco_port import Created, DossierEtat, DossierNaturalKey

FRESH_ETATS = ("TRANSMIS", "EN_COURS_INSTRUCTION")
LISTE_BATCH = 20


def order_candidates(etats: list[DossierEtat]) -> list[DossierEtat]:
    """Fresh dossiers first (an ambiguous creation is looked up soon after), and within each
    group the last listed first (listings seen so far go oldest first)."""
    return sorted(reversed(etats), key=lambda e: 0 if e.etat in FRESH_ETATS else 1)


def cerfa_of(detail: Any) -> Mapping[str, Any] | None:
    """The cerfa object of a detail answer (``{"cerfa": {...}}``, maybe array-wrapped)."""
    if isinstance(detail, list) and len(detail) == 1:
        detail = detail[0]
    if not isinstance(detail, Mapping):
        return None
    cerfa = detail.get("cerfa", detail)
    return cerfa if isinstance(cerfa, Mapping) else None


def matches(cerfa: Mapping[str, Any], key: DossierNaturalKey) -> bool:
    employeur = _obj(cerfa, "employeur") or _obj(cerfa, "employeurV2")
    apprenti = _obj(cerfa, "apprenti")
    contrat = _obj(cerfa, "contrat")
    if employeur is None or apprenti is None or contrat is None:
        return False
    siret = str(employeur.get("siret", "")).replace(" ", "")
    return (
        siret == key.employeur_siret.replace(" ", "")
        and same_name(apprenti.get("nom"), key.apprenti_nom)
        and same_name(apprenti.get("prenom"), key.apprenti_prenom)
        and parse_date(apprenti.get("dateNaissance")) == key.apprenti_date_naissance
        and parse_date(contrat.get("dateDebutContrat")) == key.date_debut_contrat
    )


def _obj(parent: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = parent.get(name)
    return value if isinstance(value, Mapping) else None


def found_dossier(etat: DossierEtat) -> Created:
    ids = {"numeroInterne": etat.numero_interne}
    if etat.numero_externe:
        ids["numeroExterne"] = etat.numero_externe
    return Created(ids=ids, duplicate=True, etat=etat.etat)
