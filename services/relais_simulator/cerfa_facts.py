"""What the simulator reads from a received cerfa: its natural key (duplicate detection, kept as
a digest so no personal data is stored twice) and the facts its instruction and financing need."""

from __future__ import annotations

import hashlib

from relais.domain.json_types import Json
from relais_simulator.model import Facts
from relais_simulator.wire import read_date


def natural_key(cerfa: Json) -> tuple[str, ...] | None:
    """(employeur.siret, apprenti.nom, prenom, dateNaissance, contrat.dateDebutContrat, type).

    An avenant (typeContratApp 3x) shares all of these with its contract's other avenants of the
    same type, so its ``dateEffetAvenant`` (when given) is part of its key too.
    """
    try:
        employeur, apprenti, contrat = cerfa["employeur"], cerfa["apprenti"], cerfa["contrat"]
        siret = str(employeur["siret"]).strip()
        nom = str(apprenti["nom"]).strip().casefold()
        prenom = str(apprenti["prenom"]).strip().casefold()
        naissance = read_date(apprenti["dateNaissance"])
        debut = read_date(contrat["dateDebutContrat"])
        type_contrat = str(contrat.get("typeContratApp", "")).strip()
        effet = read_date(contrat.get("dateEffetAvenant"))
    except (KeyError, TypeError, AttributeError):
        return None
    if not siret or not nom or naissance is None or debut is None:
        return None
    key = (siret, nom, prenom, naissance.isoformat(), debut.isoformat(), type_contrat)
    return key if effet is None else (*key, effet.isoformat())


def digest(parts: tuple[str, ...]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def read_facts(cerfa: Json) -> Facts:
    def section(name: str) -> Json:
        value = cerfa.get(name)
        return value if isinstance(value, dict) else {}

    contrat, formation, employeur = section("contrat"), section("formation"), section("employeur")
    adresse = employeur.get("adresse")
    apprenti_nom = section("apprenti").get("nom")
    return Facts(
        date_debut=read_date(contrat.get("dateDebutContrat")),
        date_fin=read_date(contrat.get("dateFinContrat")),
        date_conclusion=read_date(contrat.get("dateConclusion")),
        certifications=tuple(
            str(v) for v in (formation.get("rncp"), formation.get("codeDiplome")) if v
        ),
        idcc=str(employeur.get("codeIdcc") or ""),
        code_postal=str((adresse if isinstance(adresse, dict) else {}).get("codePostal") or ""),
        duree_formation_h=_int(formation.get("dureeFormation")),
        heures_distanciel=_int(formation.get("nombreHeuresEnDistanciel")),
        type_diplome=_int(formation.get("typeDiplome")),
        nom_refus=str(apprenti_nom or "").strip().upper().startswith("REFUS"),
    )


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 1e12:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0
