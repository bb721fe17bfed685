from typing import Any

import pytest

from .conftest import Run, codes, load_example, set_path


@pytest.mark.parametrize("kind", [31, 33, 37])
def test_previous_contract_number_required(run: Run, dossier: dict[str, Any], kind: int) -> None:
    set_path(dossier, "contrat.typeContratApp", kind)
    found = codes(run(dossier))
    assert (
        "error",
        "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE",
        "contrat.numeroContratPrecedent",
    ) in found


@pytest.mark.parametrize("kind", [21, 22, 23, 38])
def test_previous_contract_number_asked(run: Run, dossier: dict[str, Any], kind: int) -> None:
    """The state form requires it for 31-37 only (isRequiredNumeroContratPrecedent)."""
    set_path(dossier, "contrat.typeContratApp", kind)
    found = codes(run(dossier))
    assert (
        "warning",
        "CONTRAT_NUMERO_PRECEDENT_CONSEILLE",
        "contrat.numeroContratPrecedent",
    ) in found
    assert "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE" not in {c for _, c, _ in found}


@pytest.mark.parametrize("kind", [31, 34, 36, 37])
def test_avenant_needs_an_effect_date(run: Run, dossier: dict[str, Any], kind: int) -> None:
    set_path(dossier, "contrat.typeContratApp", kind)
    set_path(dossier, "contrat.numeroContratPrecedent", "075202612000001")
    assert ("error", "CONTRAT_DATE_EFFET_AVENANT_OBLIGATOIRE", "contrat.dateEffetAvenant") in codes(
        run(dossier)
    )


def test_effect_date_on_a_first_contract_is_a_warning(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateEffetAvenant", "2027-01-01")
    set_path(dossier, "contrat.numeroContratPrecedent", "075202612000001")
    result = run(dossier)
    assert result.valid
    assert {
        ("warning", "CONTRAT_DATE_EFFET_AVENANT_INATTENDUE", "contrat.dateEffetAvenant"),
        ("warning", "CONTRAT_NUMERO_PRECEDENT_INATTENDU", "contrat.numeroContratPrecedent"),
    } <= codes(result)


@pytest.mark.parametrize(
    ("kind", "severity"), [(21, "error"), (27, "error"), (29, "error"), (30, "warning"), (16, None)]
)
def test_public_employers_do_not_go_to_an_opco(
    run: Run, dossier: dict[str, Any], kind: int, severity: str | None
) -> None:
    set_path(dossier, "employeur.typeEmployeur", kind)
    found = {
        (s, c) for s, c, _ in codes(run(dossier)) if c in {"EMPLOYEUR_PUBLIC", "EMPLOYEUR_EPIC"}
    }
    expected = (
        set()
        if severity is None
        else {(severity, "EMPLOYEUR_PUBLIC" if severity == "error" else "EMPLOYEUR_EPIC")}
    )
    assert found == expected


def test_advantages_in_kind_only_when_declared(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.avantageNourriture", 3.5)
    set_path(dossier, "contrat.avantageNature", False)
    assert ("error", "CONTRAT_AVANTAGES_NON_DECLARES", "contrat.avantageNature") in codes(
        run(dossier)
    )
    set_path(dossier, "contrat.avantageNature", True)
    assert run(dossier).valid


@pytest.mark.parametrize("name", ["attestationEligibilite", "attestationPieces"])
def test_employer_attestations_must_be_ticked(run: Run, dossier: dict[str, Any], name: str) -> None:
    set_path(dossier, f"employeur.{name}", False)
    assert ("error", "EMPLOYEUR_ATTESTATION_NON_COCHEE", f"employeur.{name}") in codes(run(dossier))


@pytest.mark.parametrize("name", ["succession-22-mineur-corse.json", "avenant-36.json"])
def test_example_successions_and_avenants_are_valid(run: Run, name: str) -> None:
    result = run(load_example(name))
    assert result.errors == []


def test_main_training_site_required_when_different(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "organismeFormation.lieuFormationIdentique", False)
    assert (
        "error",
        "LIEU_FORMATION_OBLIGATOIRE",
        "organismeFormationLieuFormationPrincipal",
    ) in codes(run(dossier))
    dossier["organismeFormationLieuFormationPrincipal"] = {
        "denomination": "Antenne",
        "siret": "13098723300025",
        "uaiCfa": "0134567U",
        "adresse": {"voie": "rue Haute", "codePostal": "13001", "commune": "Marseille"},
    }
    assert run(dossier).valid
    set_path(dossier, "organismeFormationLieuFormationPrincipal.siret", "13098723300026")
    assert (
        "error",
        "LIEU_FORMATION_SIRET_CLE",
        "organismeFormationLieuFormationPrincipal.siret",
    ) in codes(run(dossier))
