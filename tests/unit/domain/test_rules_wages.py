from datetime import date
from typing import Any

import pytest

from relais.domain.referentials import Referentials
from relais.domain.rules.wages import minimum_schedule, schedule_as_wire

from .conftest import Run, codes, only_codes, set_birth, set_path


def schedule(
    refs: Referentials, birth: date, start: date, end: date, first_year: int = 1
) -> list[tuple[str, date, date, float]]:
    return [
        (p.ordre, p.debut, p.fin, p.taux)
        for p in minimum_schedule(birth, start, end, refs.wage_grid, first_year=first_year)
    ]


def test_grid_values(refs: Referentials) -> None:
    grid = refs.wage_grid
    assert [grid.minimum(1, a) for a in (16, 18, 21, 26)] == [27, 43, 53, 100]
    assert [grid.minimum(2, a) for a in (17, 20, 25, 30)] == [39, 51, 61, 100]
    assert [grid.minimum(3, a) for a in (17, 19, 22, 40)] == [55, 67, 78, 100]
    assert grid.minimum(5, 19) == grid.minimum(4, 19) == 67  # beyond the grid: its last year


def test_bracket_change_inside_a_year_splits_on_the_first_of_next_month(refs: Referentials) -> None:
    # 18 on 10 March 2026, contract year 1 = 01/09/2025 -> 31/08/2026
    assert schedule(refs, date(2008, 3, 10), date(2025, 9, 1), date(2027, 8, 31)) == [
        ("1.1", date(2025, 9, 1), date(2026, 3, 31), 27),
        ("1.2", date(2026, 4, 1), date(2026, 8, 31), 43),
        ("2.1", date(2026, 9, 1), date(2027, 8, 31), 51),
    ]


def test_birthday_on_the_start_date(refs: Referentials) -> None:
    assert schedule(refs, date(2007, 9, 1), date(2025, 9, 1), date(2026, 8, 31)) == [
        ("1.1", date(2025, 9, 1), date(2026, 8, 31), 43),
    ]


def test_birthday_on_a_year_boundary_changes_at_the_boundary(refs: Referentials) -> None:
    assert schedule(refs, date(2008, 9, 1), date(2025, 9, 1), date(2027, 8, 31)) == [
        ("1.1", date(2025, 9, 1), date(2026, 8, 31), 27),
        ("2.1", date(2026, 9, 1), date(2027, 8, 31), 51),
    ]


def test_birthday_just_before_a_year_boundary_applies_next_month(refs: Referentials) -> None:
    # 21 on 10/09/2026; year 2 starts 15/09/2026; the new bracket applies from 01/10/2026
    assert schedule(refs, date(2005, 9, 10), date(2025, 9, 15), date(2027, 9, 14)) == [
        ("1.1", date(2025, 9, 15), date(2026, 9, 14), 43),
        ("2.1", date(2026, 9, 15), date(2026, 9, 30), 51),
        ("2.2", date(2026, 10, 1), date(2027, 9, 14), 61),
    ]


def test_29_february_birthday(refs: Referentials) -> None:
    # 18 on 01/03/2026 (common year): new rate from 01/04/2026
    periods = schedule(refs, date(2008, 2, 29), date(2025, 9, 1), date(2026, 8, 31))
    assert periods[1][:2] == ("1.2", date(2026, 4, 1))


def test_succession_years_continue(refs: Referentials) -> None:
    assert (
        schedule(refs, date(2004, 1, 1), date(2025, 9, 1), date(2026, 8, 31), first_year=2)[0][3]
        == 61
    )


def test_schedule_as_wire_covers_the_contract(refs: Referentials) -> None:
    wire = schedule_as_wire(
        minimum_schedule(date(2008, 3, 10), date(2025, 9, 1), date(2027, 8, 31), refs.wage_grid)
    )
    assert wire[0]["dateDebut"] == "2025-09-01" and wire[-1]["dateFin"] == "2027-08-31"
    assert [p["ordre"] for p in wire] == ["1.1", "1.2", "2.1"]


# The base dossier: born 2007-03-15, contract 2026-12-01 -> 2028-08-31; 21 on 2028-03-15, so
# year 2 splits into 2.1 (51 %) and 2.2 (61 % from 2028-04-01).


def test_base_dossier_schedule_has_the_split(dossier: dict[str, Any]) -> None:
    periods = dossier["contrat"]["remunerationsAnnuelles"]
    assert [(p["ordre"], p["taux"]) for p in periods] == [("1.1", 43), ("2.1", 51), ("2.2", 61)]


@pytest.mark.parametrize(
    ("index", "taux", "bad"),
    [
        (0, 43, False),
        (0, 42.99, True),
        (1, 50, True),
        (2, 51, True),
        (2, 61, False),
        (2, 100, False),
    ],
)
def test_rate_below_the_legal_minimum(
    run: Run, dossier: dict[str, Any], index: int, taux: float, bad: bool
) -> None:
    set_path(dossier, f"contrat.remunerationsAnnuelles[{index}].taux", taux)
    set_path(dossier, "contrat.salaireEmbauche", 2000)
    found = (
        "error",
        "REMUNERATION_TAUX_INFERIEUR_MINIMUM",
        f"contrat.remunerationsAnnuelles[{index}].taux",
    ) in codes(run(dossier))
    assert found is bad


def test_period_declared_without_the_bracket_split_is_underpaid(
    run: Run, dossier: dict[str, Any]
) -> None:
    periods = dossier["contrat"]["remunerationsAnnuelles"]
    periods[1]["dateFin"] = periods[2]["dateFin"]
    del periods[2]
    found = codes(run(dossier))
    assert (
        "error",
        "REMUNERATION_TAUX_INFERIEUR_MINIMUM",
        "contrat.remunerationsAnnuelles[1].taux",
    ) in found


def test_periods_must_be_contiguous_and_cover_the_contract(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "contrat.remunerationsAnnuelles[0].dateDebut", "2026-12-02")
    set_path(dossier, "contrat.remunerationsAnnuelles[1].dateDebut", "2027-12-02")
    set_path(dossier, "contrat.remunerationsAnnuelles[2].dateFin", "2028-08-30")
    found = codes(run(dossier))
    assert {
        ("error", "REMUNERATION_DEBUT_CONTRAT", "contrat.remunerationsAnnuelles[0].dateDebut"),
        (
            "error",
            "REMUNERATION_PERIODES_DISCONTINUES",
            "contrat.remunerationsAnnuelles[1].dateDebut",
        ),
        ("error", "REMUNERATION_FIN_CONTRAT", "contrat.remunerationsAnnuelles[2].dateFin"),
    } <= found


def test_inverted_period(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.remunerationsAnnuelles[1].dateFin", "2027-11-01")
    assert "REMUNERATION_DATES_INVERSEES" in only_codes(run(dossier))


def test_first_contract_starts_in_year_one(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.remunerationsAnnuelles[0].ordre", "2.1")
    assert (
        "warning",
        "REMUNERATION_PREMIERE_ANNEE",
        "contrat.remunerationsAnnuelles[0].ordre",
    ) in codes(run(dossier))


def test_older_apprentice_needs_100_percent(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(2000, 1, 5))  # 26 at the start
    found = only_codes(run(dossier))
    assert "REMUNERATION_TAUX_INFERIEUR_MINIMUM" in found


def test_salary_at_hiring(run: Run, dossier: dict[str, Any]) -> None:
    # 43 % of the SMIC in force on 2026-12-01 (1823.03 €) = 783.90 €
    set_path(dossier, "contrat.salaireEmbauche", 782.91)
    assert run(dossier).valid  # within 1 € of rounding
    set_path(dossier, "contrat.salaireEmbauche", 782.80)
    assert ("error", "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR", "contrat.salaireEmbauche") in codes(
        run(dossier)
    )


def test_salary_at_hiring_in_mayotte_uses_its_smic(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "employeur.adresse.codePostal", "97600")
    set_path(dossier, "contrat.salaireEmbauche", 0.43 * 1415.05)
    assert "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR" not in only_codes(run(dossier))


def test_part_time_salary_is_prorated(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dureeTravailHebdoHeures", 28)
    set_path(dossier, "contrat.salaireEmbauche", round(0.43 * 1823.03 * 28 / 35, 2))
    assert "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR" not in only_codes(run(dossier))


def test_smc_above_smic_from_21_is_a_warning(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.smc", 2100.0)
    result = run(dossier)
    assert result.valid
    # only the period starting after the 21st birthday (2.2, from 2028-04-01) is concerned
    assert {c for c in codes(result) if c[1] == "REMUNERATION_SMC_PLUS_FAVORABLE"} == {
        (
            "warning",
            "REMUNERATION_SMC_PLUS_FAVORABLE",
            "contrat.remunerationsAnnuelles[2].typeSalaire",
        )
    }
    set_path(dossier, "contrat.remunerationsAnnuelles[2].typeSalaire", "SMC")
    assert run(dossier).findings == []
