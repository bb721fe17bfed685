from datetime import date
from typing import Any

from relais.domain.cerfa import Cerfa, DossierBody
from relais.domain.followups import Facture

from .conftest import load_example


def test_example_dossier_parses_with_typed_fields() -> None:
    cerfa = Cerfa.model_validate(load_example("initial-11.json"))
    assert cerfa.apprenti is not None and cerfa.apprenti.dateNaissance == date(2007, 3, 15)
    assert cerfa.contrat is not None and cerfa.contrat.remunerationsAnnuelles
    assert cerfa.contrat.remunerationsAnnuelles[0].taux == 43


def test_unknown_fields_are_kept_at_every_level_and_sent_back() -> None:
    raw: dict[str, Any] = {
        "champInconnu": {"a": 1},
        "employeurV2": {"x": True},
        "employeur": {"siret": "73282932000074", "futurChamp": "v"},
        "contrat": {"remunerationsAnnuelles": [{"taux": 53, "bonus": 2}]},
    }
    wire = Cerfa.model_validate(raw).to_wire()
    assert wire["champInconnu"] == {"a": 1}
    assert wire["employeurV2"] == {"x": True}
    assert wire["employeur"]["futurChamp"] == "v"
    assert wire["contrat"]["remunerationsAnnuelles"][0]["bonus"] == 2


def test_codes_stay_numbers_and_digit_strings_become_numbers() -> None:
    cerfa = Cerfa.model_validate(
        {"employeur": {"typeEmployeur": "12", "codeIdcc": 43}, "contrat": {"typeContratApp": 11}}
    )
    wire = cerfa.to_wire()
    assert wire["employeur"]["typeEmployeur"] == 12
    assert wire["contrat"]["typeContratApp"] == 11
    assert wire["employeur"]["codeIdcc"] == "0043"


def test_dates_are_sent_at_midnight_utc_whatever_the_input_form() -> None:
    cerfa = Cerfa.model_validate(
        {
            "contrat": {
                "dateConclusion": "2026-11-20T00:00:00+0000",
                "dateDebutContrat": "2026-12-01T00:00:00Z",
                "dateFinContrat": "2028-08-31",
            }
        }
    )
    assert cerfa.to_wire()["contrat"] == {
        "dateConclusion": "2026-11-20T00:00:00+00:00",
        "dateDebutContrat": "2026-12-01T00:00:00+00:00",
        "dateFinContrat": "2028-08-31T00:00:00+00:00",
    }


def test_wire_form_round_trips() -> None:
    raw = load_example("succession-22-mineur-corse.json")
    once = Cerfa.model_validate(raw).to_wire()
    assert Cerfa.model_validate(once).to_wire() == once
    assert DossierBody.model_validate({"cerfa": raw}).cerfa.to_wire() == once


def test_etat_spellings_are_normalised() -> None:
    for spelling in ("RUPTURE", "RUTPURE", "ruptu"):
        assert Cerfa.model_validate({"etat": spelling}).etat == "RUPTURE"


def test_facture_reads_both_iban_casings_and_both_line_shapes() -> None:
    f = Facture.model_validate(
        {"organismeFormation": {"IBAN": "FR76..."}, "dossiers": [{"numeroInterneDossier": "1"}]}
    )
    assert f.organismeFormation is not None and f.organismeFormation.iban_value == "FR76..."
    assert f.dossiers is not None and f.dossiers[0].numeroInterneDossier == "1"
    g = Facture.model_validate({"lignes": [{"dossierId": "CFA-1", "numeroEcheance": 1}]})
    assert g.lignes is not None and g.lignes[0].dossierId == "CFA-1"
