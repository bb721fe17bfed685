"""The gaps found by comparing relais's rules with the state's CERFA form (issue 15, item 2).

Each test failed on main before the change (see the report of the ``conformance`` branch). The
base dossier: apprentice born 2007-03-15, contract 2026-12-01 -> 2028-08-31 signed 2026-11-20,
training 2026-12-01 -> 2028-06-30, checked on 2026-11-27.
"""

from datetime import date
from typing import Any

import pytest

from relais.domain.dates import parse_date
from relais.domain.rules.calendar import add_working_days

from .conftest import Run, codes, only_codes, set_birth, set_path


def test_training_ending_after_the_contract_is_an_error(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.dateFinFormation", "2028-09-30")
    assert ("error", "FORMATION_FIN_HORS_CONTRAT", "formation.dateFinFormation") in codes(
        run(dossier)
    )


def test_training_ending_before_the_contract_starts_is_an_error(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "contrat.dateConclusion", "2026-05-02")
    set_path(dossier, "formation.dateDebutFormation", "2026-05-01")
    set_path(dossier, "formation.dateFinFormation", "2026-11-20")
    assert ("error", "FORMATION_FIN_HORS_CONTRAT", "formation.dateFinFormation") in codes(
        run(dossier)
    )


def test_training_ending_before_the_signature_is_an_error(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "contrat.dateDebutContrat", "2026-12-01")
    set_path(dossier, "contrat.dateConclusion", "2026-12-01")
    set_path(dossier, "formation.dateDebutFormation", "2026-09-01")
    set_path(dossier, "formation.dateFinFormation", "2026-11-30")
    found = codes(run(dossier))
    assert ("error", "FORMATION_FIN_HORS_CONTRAT", "formation.dateFinFormation") in found


# --- age: "29 ans révolus", derogation 12 only in its legal cases ----------------------------


def test_thirty_on_the_first_day_is_too_old(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(1996, 12, 1))  # 30 exactly on 2026-12-01
    assert ("error", "APPRENTI_AGE_MAXIMUM", "apprenti.dateNaissance") in codes(run(dossier))


def test_the_day_before_thirty_is_still_allowed(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(1996, 12, 2))  # 29 and 364 days
    assert "APPRENTI_AGE_MAXIMUM" not in only_codes(run(dossier))


def test_derogation_12_alone_does_not_lift_the_limit(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(1994, 6, 1))  # 32
    set_path(dossier, "contrat.typeDerogation", 12)
    found = codes(run(dossier))
    assert ("error", "APPRENTI_AGE_MAXIMUM", "apprenti.dateNaissance") in found
    assert ("error", "CONTRAT_DEROGATION_12_SANS_CAS", "contrat.typeDerogation") in found


@pytest.mark.parametrize("flag", ["handicap", "inscriptionSportifDeHautNiveau"])
def test_a_legal_case_lifts_the_limit(run: Run, dossier: dict[str, Any], flag: str) -> None:
    set_birth(dossier, date(1980, 6, 1))  # 46
    set_path(dossier, f"apprenti.{flag}", True)
    set_path(dossier, "contrat.typeDerogation", 12)
    found = only_codes(run(dossier))
    assert not found & {"APPRENTI_AGE_MAXIMUM", "CONTRAT_DEROGATION_12_SANS_CAS"}


def succession(doc: dict[str, Any], kind: int = 22) -> dict[str, Any]:
    set_path(doc, "contrat.typeContratApp", kind)
    set_path(doc, "contrat.numeroContratPrecedent", "075202611000123")
    return doc


def test_a_successor_contract_allows_up_to_35_with_a_warning(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_birth(dossier, date(1991, 12, 2))  # 34
    succession(dossier)
    set_path(dossier, "contrat.typeDerogation", 12)
    found = codes(run(dossier))
    assert "APPRENTI_AGE_MAXIMUM" not in {c for _, c, _ in found}
    assert ("warning", "APPRENTI_AGE_SUCCESSION_UN_AN", "contrat.typeContratApp") in found


def test_a_successor_contract_at_36_is_too_old(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(1990, 11, 1))  # 36
    succession(dossier)
    set_path(dossier, "contrat.typeDerogation", 12)
    assert ("error", "APPRENTI_AGE_MAXIMUM", "apprenti.dateNaissance") in codes(run(dossier))


# --- signature and durations as on the state form -------------------------------------------


def test_training_starting_before_the_signature_is_an_error(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "contrat.dateConclusion", "2026-11-25")
    set_path(dossier, "formation.dateDebutFormation", "2026-11-23")
    assert ("error", "FORMATION_DEBUT_AVANT_CONCLUSION", "formation.dateDebutFormation") in codes(
        run(dossier)
    )


def test_a_contract_under_six_whole_months_is_an_error(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateFinContrat", "2027-05-31")  # 6 months only with the end day
    assert ("error", "CONTRAT_DUREE_MIN", "contrat.dateFinContrat") in codes(run(dossier))


def test_a_cycle_under_six_whole_months_is_an_error(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.dateFinFormation", "2027-05-31")
    assert ("error", "FORMATION_DUREE_CYCLE_MIN", "formation.dateFinFormation") in codes(
        run(dossier)
    )


# --- fields the state form requires ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "contrat.dateDebutFormationPratique",
        "contrat.travailRisque",
        "contrat.avantageNature",
        "maitre1.emploiOccupe",
        "maitre1.intituleDiplomeObtenu",
        "maitre1.niveauDiplomeObtenu",
        "maitre1.courriel",
    ],
)
def test_fields_the_form_requires(run: Run, dossier: dict[str, Any], path: str) -> None:
    set_path(dossier, path, None)
    assert ("error", "CHAMP_OBLIGATOIRE", path) in codes(run(dossier))


def test_smc_required_when_21_at_the_end(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.smc", ...)
    set_birth(dossier, date(2007, 8, 31))  # 21 on 2028-08-31, the contract's last day
    assert ("error", "CHAMP_OBLIGATOIRE", "contrat.smc") in codes(run(dossier))
    set_birth(dossier, date(2007, 9, 1))  # 20 at the end: not asked
    assert ("error", "CHAMP_OBLIGATOIRE", "contrat.smc") not in codes(run(dossier))


def test_rncp_required_and_cfd_expected(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.rncp", None)
    assert ("error", "CHAMP_OBLIGATOIRE", "formation.rncp") in codes(run(dossier))
    set_path(dossier, "formation.rncp", "RNCP35340")
    set_path(dossier, "formation.codeDiplome", None)
    assert ("warning", "FORMATION_CODE_DIPLOME_ABSENT", "formation.codeDiplome") in codes(
        run(dossier)
    )


# --- stricter than the form without reason: now warnings ------------------------------------


def test_no_nir_for_an_apprentice_born_abroad_is_a_warning(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "apprenti.nir", None)
    set_path(dossier, "apprenti.departementNaissance", "99")
    set_path(dossier, "apprenti.nationalite", 3)
    found = codes(run(dossier))
    assert ("error", "CHAMP_OBLIGATOIRE", "apprenti.nir") not in found
    assert ("warning", "APPRENTI_NIR_ABSENT_NE_ETRANGER", "apprenti.nir") in found


def test_no_nir_for_an_apprentice_born_in_france_stays_an_error(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "apprenti.nir", None)
    assert ("error", "CHAMP_OBLIGATOIRE", "apprenti.nir") in codes(run(dossier))


def test_previous_contract_number_only_where_the_form_requires_it(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "contrat.typeContratApp", 22)
    found = codes(run(dossier))
    assert ("warning", "CONTRAT_NUMERO_PRECEDENT_CONSEILLE", "contrat.numeroContratPrecedent") in (
        found
    )
    assert "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE" not in {c for _, c, _ in found}


# --- wage grid ------------------------------------------------------------------------------


def reduced_to_one_year(doc: dict[str, Any], taux: float, ordre: str = "2.1") -> dict[str, Any]:
    set_path(doc, "contrat.typeDerogation", 21)
    set_path(doc, "contrat.dateFinContrat", "2027-11-30")
    set_path(doc, "formation.dateFinFormation", "2027-10-31")
    set_path(
        doc,
        "contrat.remunerationsAnnuelles",
        [
            {
                "ordre": ordre,
                "dateDebut": "2026-12-01",
                "dateFin": "2027-11-30",
                "taux": taux,
                "typeSalaire": "SMIC",
            }
        ],
    )
    return doc


def test_a_reduced_contract_numbers_its_years_from_the_declared_one(
    run: Run, dossier: dict[str, Any]
) -> None:
    reduced_to_one_year(dossier, 43.0)  # year 1's rate for a contract starting in year 2
    assert (
        "error",
        "REMUNERATION_TAUX_INFERIEUR_MINIMUM",
        "contrat.remunerationsAnnuelles[0].taux",
    ) in codes(run(dossier))


def test_the_15_point_increase_where_it_applies(run: Run, dossier: dict[str, Any]) -> None:
    reduced_to_one_year(dossier, 51.0, ordre="1.1")  # 19-year-old, year 1: 43 %; +15 = 58 %
    set_path(dossier, "apprenti.diplome", 54)  # already a level-5 diploma, preparing a BTS (54)
    found = codes(run(dossier))
    assert ("warning", "REMUNERATION_MAJORATION_15", "contrat.remunerationsAnnuelles[0].taux") in (
        found
    )
    set_path(dossier, "contrat.remunerationsAnnuelles[0].taux", 58.0)
    assert "REMUNERATION_MAJORATION_15" not in only_codes(run(dossier))


def test_a_successor_contract_restarting_at_year_one_is_flagged(
    run: Run, dossier: dict[str, Any]
) -> None:
    succession(dossier, kind=21)
    assert (
        "warning",
        "REMUNERATION_CONTINUITE_SUCCESSION",
        "contrat.remunerationsAnnuelles[0].ordre",
    ) in codes(run(dossier))


# --- jours ouvrables ------------------------------------------------------------------------


def test_deposit_deadline_counts_saturdays(run: Run, dossier: dict[str, Any]) -> None:
    # start Tue 2026-12-01: 5 jours ouvrables (Mon-Sat) end on Mon 12-07, not Tue 12-08
    assert "CONTRAT_DEPOT_TARDIF" not in only_codes(run(dossier, today=date(2026, 12, 7)))
    assert "CONTRAT_DEPOT_TARDIF" in only_codes(run(dossier, today=date(2026, 12, 8)))


def test_jours_ouvrables_and_alsace_moselle_holidays() -> None:
    assert add_working_days(date(2026, 12, 1), 5) == date(2026, 12, 7)
    # Tue 2026-12-22: Christmas off everywhere, 26 December off in Alsace-Moselle only
    assert add_working_days(date(2026, 12, 22), 5) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 22), 5, departement="67") == date(2026, 12, 30)
    # Good Friday 2027-03-26 in Moselle
    assert add_working_days(date(2027, 3, 25), 1, departement="57") == date(2027, 3, 27)
    assert add_working_days(date(2027, 3, 25), 1, departement="75") == date(2027, 3, 26)


def test_the_employers_departement_picks_the_calendar(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateConclusion", "2026-12-20")
    set_path(dossier, "contrat.dateDebutContrat", "2026-12-22")
    set_path(dossier, "employeur.adresse.codePostal", "67000")
    set_path(dossier, "employeur.adresse.commune", "Strasbourg")
    assert "CONTRAT_DEPOT_TARDIF" not in only_codes(run(dossier, today=date(2026, 12, 30)))
    set_path(dossier, "employeur.adresse.codePostal", "75011")
    assert "CONTRAT_DEPOT_TARDIF" in only_codes(run(dossier, today=date(2026, 12, 30)))


# --- timestamps -----------------------------------------------------------------------------


def test_a_timestamp_is_read_in_paris_and_never_shifted_back() -> None:
    assert parse_date("2026-11-30T23:00:00Z") == date(2026, 12, 1)
    assert parse_date("2026-06-30T22:00:00.000Z") == date(2026, 7, 1)
    assert parse_date("2026-12-01T00:00:00+0000") == date(2026, 12, 1)
    assert parse_date("2026-07-01T00:00:00-05:00") == date(2026, 7, 1)
    assert parse_date("2026-12-01T10:30:00") == date(2026, 12, 1)


def test_a_timestamp_that_is_not_midnight_is_warned(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateDebutContrat", "2026-11-30T23:00:00.000Z")
    found = codes(run(dossier))
    assert ("warning", "DATE_HEURE_NON_MINUIT", "contrat.dateDebutContrat") in found
    assert "REMUNERATION_DEBUT_CONTRAT" not in {c for _, c, _ in found}


# --- lengths and unknown keys ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["employeur.adresse.voie", "maitre1.emploiOccupe", "contrat.lieuSignatureContrat"],
)
def test_every_free_text_field_has_a_maximum_length(
    run: Run, dossier: dict[str, Any], path: str
) -> None:
    set_path(dossier, path, "x" * 300)
    assert ("error", "LONGUEUR_MAX", path) in codes(run(dossier))


def test_unknown_keys_are_warnings(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.champMaison", "x")
    set_path(dossier, "champRacine", 1)
    report = run(dossier)
    assert report.valid
    found = codes(report)
    assert ("warning", "CHAMP_INCONNU", "contrat.champMaison") in found
    assert ("warning", "CHAMP_INCONNU", "champRacine") in found


def test_unknown_keys_of_a_follow_up_are_warnings_too() -> None:
    from relais.domain.validation import validate_followup

    report = validate_followup(
        "rupture",
        {"numeroInterne": "1234567", "dateRupture": "2026-11-02", "motif": "x", "extra": {"a": 1}},
        today=date(2026, 11, 27),
    )
    assert report.valid
    assert ("warning", "CHAMP_INCONNU", "extra") in codes(report)
