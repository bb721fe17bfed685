"""The validator's contract: every finding at once, structured, paths in our convention."""

from typing import Any

import pytest

from relais.domain.findings import path_of
from relais.domain.validation import validate_followup

from .conftest import TODAY, Run, codes, only_codes, set_path


def test_valid_dossier_has_no_finding_and_is_routed(run: Run, dossier: dict[str, Any]) -> None:
    result = run(dossier)
    assert result.valid
    assert result.errors == [] and result.warnings == []
    assert result.opco is not None and result.opco.value == "ATLAS"
    assert result.to_json() == {"valid": True, "opco": "ATLAS", "errors": [], "warnings": []}


@pytest.mark.parametrize("data", [None, [], "cerfa", 42, True])
def test_non_object_is_one_error_at_the_root(run: Run, data: object) -> None:
    result = run(data)
    assert not result.valid
    assert [(f.code, f.path) for f in result.errors] == [("CERFA_NON_OBJET", "")]


def test_type_errors_and_rule_errors_are_reported_together(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "employeur.siret", 82834757500015)  # number instead of string
    set_path(dossier, "contrat.remunerationsAnnuelles[1].taux", "beaucoup")
    set_path(dossier, "contrat.dateDebutContrat", "01/12/2026")
    set_path(dossier, "apprenti.nir", "107037512345681")  # bad key
    set_path(dossier, "contrat.dureeTravailHebdoHeures", 41)
    found = codes(run(dossier))
    assert ("error", "TYPE_INVALIDE", "employeur.siret") in found
    assert ("error", "TYPE_INVALIDE", "contrat.remunerationsAnnuelles[1].taux") in found
    assert ("error", "DATE_INVALIDE", "contrat.dateDebutContrat") in found
    assert ("error", "APPRENTI_NIR_CLE", "apprenti.nir") in found
    assert ("error", "CONTRAT_DUREE_HEBDO_MAX", "contrat.dureeTravailHebdoHeures") in found


def test_a_badly_typed_field_is_not_also_reported_missing(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "maitre1", "Sophie Durand")
    set_path(dossier, "contrat.remunerationsAnnuelles[0]", 53)
    result = run(dossier)
    paths = [f.path for f in result.errors]
    assert paths.count("maitre1") == 1
    assert not any(p.startswith("maitre1.") for p in paths)
    assert ("error", "TYPE_INVALIDE", "contrat.remunerationsAnnuelles[0]") in codes(result)
    assert not any(p.startswith("contrat.remunerationsAnnuelles[0].") for p in paths)


def test_bool_is_not_a_number_and_nan_is_refused(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.typeContratApp", True)
    set_path(dossier, "contrat.salaireEmbauche", float("nan"))
    found = codes(run(dossier))
    assert ("error", "TYPE_INVALIDE", "contrat.typeContratApp") in found
    assert ("error", "TYPE_INVALIDE", "contrat.salaireEmbauche") in found


def test_empty_object_lists_every_missing_section(run: Run) -> None:
    result = run({})
    missing = {f.path for f in result.errors if f.code == "CHAMP_OBLIGATOIRE"}
    assert {
        "employeur",
        "apprenti",
        "maitre1",
        "formation",
        "contrat",
        "organismeFormation",
    } <= missing


def test_required_fields_blank_strings_count_as_missing(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "employeur.denomination", "   ")
    set_path(dossier, "apprenti.nir", ...)
    set_path(dossier, "contrat.remunerationsAnnuelles", [])
    found = codes(run(dossier))
    assert ("error", "CHAMP_OBLIGATOIRE", "employeur.denomination") in found
    assert ("error", "CHAMP_OBLIGATOIRE", "apprenti.nir") in found
    assert ("error", "CHAMP_OBLIGATOIRE", "contrat.remunerationsAnnuelles") in found


def test_address_either_shape(run: Run, dossier: dict[str, Any]) -> None:
    set_path(
        dossier,
        "employeur.adresse",
        {"adresse1": "8 av. Parmentier", "codePostal": "75011", "commune": "Paris"},
    )
    assert run(dossier).valid
    set_path(dossier, "employeur.adresse", {"codePostal": "7501", "commune": "Paris"})
    found = codes(run(dossier))
    assert ("error", "ADRESSE_VOIE_MANQUANTE", "employeur.adresse.voie") in found
    assert ("error", "CODE_POSTAL_FORMAT", "employeur.adresse.codePostal") in found


def test_findings_never_echo_personal_values(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "apprenti.nir", "107037512345699")
    set_path(dossier, "apprenti.nom", "Mart1n")
    set_path(dossier, "apprenti.dateNaissance", "2016-03-15")
    result = run(dossier)
    text = " ".join(f.message for f in result.findings)
    for value in ("107037512345699", "Mart1n", "2016", "15/03", "Lucas"):
        assert value not in text


def test_path_convention() -> None:
    assert (
        path_of(("contrat", "remunerationsAnnuelles", 0, "taux"))
        == "contrat.remunerationsAnnuelles[0].taux"
    )
    assert path_of(()) == ""


def test_unknown_followup_kind() -> None:
    assert only_codes(validate_followup("avenant", {}, today=TODAY)) == {"TYPE_SUIVI_INCONNU"}
    assert only_codes(validate_followup("facture", [1], today=TODAY)) == {"CORPS_NON_OBJET"}


def test_explicit_opco_in_validate_cerfa(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "employeur.codeIdcc", "9999")
    assert not run(dossier).valid
    result = run(dossier, opco="AKTO")
    assert result.valid and result.opco is not None and result.opco.value == "AKTO"


def test_a_parsed_model_is_accepted_too(run: Run, dossier: dict[str, Any]) -> None:
    from relais.domain.cerfa import Cerfa

    assert run(Cerfa.model_validate(dossier)).to_json() == run(dossier).to_json()


def test_a_failing_rule_costs_a_warning_not_the_report(
    run: Run, dossier: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from relais.domain import validation

    def broken_rule(cerfa: object, ctx: object) -> list[Any]:
        raise ZeroDivisionError

    monkeypatch.setattr(validation, "CERFA_RULES", (*validation.CERFA_RULES, broken_rule))
    set_path(dossier, "apprenti.nir", "107037512345681")
    result = run(dossier)
    assert ("warning", "CONTROLE_NON_EXECUTE", "") in codes(result)
    assert ("error", "APPRENTI_NIR_CLE", "apprenti.nir") in codes(result)
    assert "broken_rule" in result.warnings[-1].message
