"""Vectors for the rules not exercised elsewhere: one invalid vector per code, on the valid base."""

from datetime import date
from typing import Any

import pytest

from relais.domain.validation import validate_followup

from .conftest import TODAY, Run, codes, set_path

LIEU = {
    "denomination": "Antenne",
    "siret": "13098723300025",
    "uaiCfa": "0134567U",
    "adresse": {"voie": "rue Haute", "codePostal": "13001", "commune": "Marseille"},
}


@pytest.mark.parametrize(
    ("changes", "finding"),
    [
        ({"apprenti.nir": "1070375 12345680"}, ("warning", "APPRENTI_NIR_ESPACES", "apprenti.nir")),
        (
            {"apprenti.departementNaissance": "7X"},
            ("error", "APPRENTI_DEPARTEMENT_NAISSANCE_FORMAT", "apprenti.departementNaissance"),
        ),
        (
            {"apprenti.departementNaissance": "975"},
            ("warning", "APPRENTI_DEPARTEMENT_NAISSANCE_INCONNU", "apprenti.departementNaissance"),
        ),
        ({"maitre1.nir": "184067512345600"}, ("warning", "MAITRE1_NIR_INVALIDE", "maitre1.nir")),
        (
            {"contrat.numeroContratPrecedent": "0752025"},
            ("error", "CONTRAT_NUMERO_CONTRAT_PRECEDENT_FORMAT", "contrat.numeroContratPrecedent"),
        ),
        (
            {"employeur.nombreDeSalaries": -1},
            ("error", "EMPLOYEUR_EFFECTIF", "employeur.nombreDeSalaries"),
        ),
        ({"employeur.adresse.numero": -8}, ("error", "ADRESSE_NUMERO", "employeur.adresse.numero")),
        (
            {"contrat.dateRupture": "2026-11-30"},
            ("error", "CONTRAT_RUPTURE_AVANT_DEBUT", "contrat.dateRupture"),
        ),
        (
            {"contrat.dateDebutFormationPratique": "2028-09-01"},
            ("error", "CONTRAT_DEBUT_PRATIQUE_APRES_FIN", "contrat.dateDebutFormationPratique"),
        ),
        (
            {"formation.nombreHeuresEnDistanciel": -1},
            ("error", "FORMATION_DISTANCIEL_NEGATIF", "formation.nombreHeuresEnDistanciel"),
        ),
        (
            {
                "contrat.dateDebutFormationPratique": "2027-03-01",
                "formation.dateDebutFormation": "2026-11-30",
                "contrat.dateConclusion": "2026-11-01",
            },
            ("error", "FORMATION_DEBUT_AVANT_PRATIQUE", "formation.dateDebutFormation"),
        ),
        (
            {"contrat.avantageLogement": 10000.01},
            ("error", "CONTRAT_AVANTAGE_BORNES", "contrat.avantageLogement"),
        ),
        (
            {"formation.rncp": ..., "formation.codeDiplome": " "},
            ("error", "FORMATION_CERTIFICATION_MANQUANTE", "formation.rncp"),
        ),
        (
            {"organismeFormation.siret": "1309872330001"},
            ("error", "CFA_SIRET_FORMAT", "organismeFormation.siret"),
        ),
        (
            {"organismeFormation.siret": "130987233 00017"},
            ("warning", "CFA_SIRET_ESPACES", "organismeFormation.siret"),
        ),
        (
            {"organismeFormation.siret": "12345678900007"},
            ("error", "CFA_SIREN_CLE", "organismeFormation.siret"),
        ),
        ({"employeur.courriel": "rh@@x.fr"}, ("error", "COURRIEL_FORMAT", "employeur.courriel")),
        (
            {
                "maitre2": {
                    "nom": "Roux",
                    "prenom": "Ana",
                    "dateNaissance": "1980-01-01",
                    "nir": "2800175123456",
                }
            },
            None,
        ),
    ],
)
def test_rule(
    run: Run, dossier: dict[str, Any], changes: dict[str, Any], finding: tuple[str, str, str] | None
) -> None:
    for path, value in changes.items():
        set_path(dossier, path, value)
    result = run(dossier)
    if finding is None:
        assert result.errors == []
    else:
        assert finding in codes(result)


def test_practical_training_cannot_start_before_signature(
    run: Run, dossier: dict[str, Any]
) -> None:
    # only reachable when the signature is itself after the start (an error of its own)
    set_path(dossier, "contrat.dateConclusion", "2026-12-05")
    set_path(dossier, "contrat.dateDebutFormationPratique", "2026-12-02")
    found = codes(run(dossier, today=date(2026, 12, 5)))
    assert (
        "error",
        "CONTRAT_DEBUT_PRATIQUE_AVANT_CONCLUSION",
        "contrat.dateDebutFormationPratique",
    ) in found
    assert ("error", "CONTRAT_CONCLUSION_APRES_DEBUT", "contrat.dateConclusion") in found


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("siret", "1309872330002", "LIEU_FORMATION_SIRET_FORMAT"),
        ("siret", "130987233 00025", "LIEU_FORMATION_SIRET_ESPACES"),
        ("siret", "12345678900007", "LIEU_FORMATION_SIREN_CLE"),
        ("uaiCfa", "013456U", "LIEU_FORMATION_UAI_FORMAT"),
        ("uaiCfa", "0134567A", "LIEU_FORMATION_UAI_CLE"),
        ("uaiCfa", "0134567u", "LIEU_FORMATION_UAI_MINUSCULE"),
    ],
)
def test_main_training_site_identifiers(
    run: Run, dossier: dict[str, Any], field: str, value: str, code: str
) -> None:
    dossier["organismeFormationLieuFormationPrincipal"] = {**LIEU, field: value}
    path = f"organismeFormationLieuFormationPrincipal.{field}"
    assert code in {c for _, c, p in codes(run(dossier)) if p == path}


def test_unknown_idcc_with_an_explicit_opco_is_a_warning(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "employeur.codeIdcc", "1234")
    result = run(dossier, opco="ATLAS")
    assert result.valid
    assert ("warning", "EMPLOYEUR_IDCC_HORS_REFERENTIEL", "employeur.codeIdcc") in codes(result)


def test_effect_date_outside_the_contract(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.typeContratApp", 37)
    set_path(dossier, "contrat.numeroContratPrecedent", "075202612000001")
    set_path(dossier, "contrat.dateEffetAvenant", "2028-09-01")
    assert ("error", "CONTRAT_EFFET_AVENANT_HORS_CONTRAT", "contrat.dateEffetAvenant") in codes(
        run(dossier)
    )


def test_followup_convention_missing_costs() -> None:
    result = validate_followup("convention", {"dateSignature": "2026-11-01"}, today=TODAY)
    assert ("error", "CHAMP_OBLIGATOIRE", "couts") in codes(result)


def test_second_maitre_nir(run: Run, dossier: dict[str, Any]) -> None:
    dossier["maitre2"] = {"nom": "Roux", "prenom": "Ana", "dateNaissance": "1980-01-01"}
    dossier["maitre2"]["nir"] = "2800175123456XX"
    assert ("warning", "MAITRE2_NIR_INVALIDE", "maitre2.nir") in codes(run(dossier))
