"""The example dossiers under tests/examples/dossiers: valid ones have zero errors (and, on the
reference day, zero warnings); the invalid one reports each of its planted problems."""

from pathlib import Path

import pytest

from .conftest import EXAMPLES, Run, codes, load_example

VALID = sorted(
    p.name for p in (EXAMPLES / "dossiers").glob("*.json") if not p.name.startswith("invalid")
)


def test_there_are_examples_of_each_nature() -> None:
    assert {"initial-11.json", "succession-22-mineur-corse.json", "avenant-36.json"} <= set(VALID)


@pytest.mark.parametrize("name", VALID)
def test_valid_examples(run: Run, name: str) -> None:
    result = run(load_example(name))
    assert result.errors == []
    assert result.warnings == []
    assert result.opco is not None


def test_invalid_example_reports_every_planted_problem(run: Run) -> None:
    result = run(load_example("invalid-many.json"))
    assert not result.valid and result.opco is None
    assert {
        ("error", "EMPLOYEUR_SIRET_CLE", "employeur.siret"),
        ("error", "EMPLOYEUR_IDCC_SANS_OPCO", "employeur.codeIdcc"),
        ("error", "APPRENTI_NIR_CLE", "apprenti.nir"),
        ("error", "APPRENTI_NIR_SEXE", "apprenti.nir"),
        ("error", "CFA_UAI_CLE", "organismeFormation.uaiCfa"),
        ("error", "CONTRAT_DUREE_HEBDO_MAX", "contrat.dureeTravailHebdoHeures"),
        ("error", "REMUNERATION_TAUX_INFERIEUR_MINIMUM", "contrat.remunerationsAnnuelles[0].taux"),
        ("error", "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR", "contrat.salaireEmbauche"),
        ("error", "CONTRAT_DUREE_MIN", "contrat.dateFinContrat"),
        ("error", "TYPE_INVALIDE", "formation.dureeFormation"),
        ("error", "CHAMP_OBLIGATOIRE", "maitre1"),
    } <= codes(result)


def test_examples_folder_layout() -> None:
    assert isinstance(EXAMPLES, Path)
    assert (EXAMPLES / "events" / "dossier-submitted.json").is_file()
