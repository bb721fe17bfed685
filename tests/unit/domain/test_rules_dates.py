"""Contract and training dates. Base: conclusion 2026-11-20, start 2026-12-01 (a Tuesday),
end 2028-08-31, training 2026-12-01 -> 2028-06-30, today 2026-11-27."""

from datetime import date
from typing import Any

import pytest

from .conftest import Run, codes, only_codes, set_path


def findings_for(
    run: Run, doc: dict[str, Any], prefix: tuple[str, ...], today: date | None = None
) -> set[tuple[str, str, str]]:
    result = run(doc) if today is None else run(doc, today=today)
    return {c for c in codes(result) if c[1].startswith(prefix)}


def test_conclusion_after_start(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateConclusion", "2026-12-02")
    found = codes(run(dossier, today=date(2026, 12, 2)))
    assert ("error", "CONTRAT_CONCLUSION_APRES_DEBUT", "contrat.dateConclusion") in found


def test_conclusion_after_start_is_fine_for_an_avenant(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.typeContratApp", 36)
    set_path(dossier, "contrat.numeroContratPrecedent", "075202612000001")
    set_path(dossier, "contrat.dateEffetAvenant", "2027-01-01")
    set_path(dossier, "contrat.dateConclusion", "2026-12-15")
    assert run(dossier, today=date(2026, 12, 20)).valid


def test_conclusion_in_the_future_is_a_warning(run: Run, dossier: dict[str, Any]) -> None:
    result = run(dossier, today=date(2026, 11, 19))
    assert result.valid
    assert ("warning", "CONTRAT_CONCLUSION_FUTURE", "contrat.dateConclusion") in codes(result)


def test_end_before_start(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateFinContrat", "2026-12-01")
    assert ("error", "CONTRAT_FIN_AVANT_DEBUT", "contrat.dateFinContrat") in codes(run(dossier))


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("2027-06-01", set()),  # exactly 6 whole months
        (
            "2027-05-31",
            {("error", "CONTRAT_DUREE_MIN")},
        ),  # 6 months only counting the last day: the state form's measure decides
        ("2027-05-30", {("error", "CONTRAT_DUREE_MIN")}),
        ("2031-06-01", set()),  # exactly 54 whole months
        (
            "2031-06-30",
            {("warning", "CONTRAT_DUREE_MAX_STRICTE")},
        ),  # 54 whole, 55 counting the last day
        ("2031-07-01", {("error", "CONTRAT_DUREE_MAX")}),
    ],
)
def test_contract_duration_6_to_54_months(
    run: Run, dossier: dict[str, Any], end: str, expected: set[tuple[str, str]]
) -> None:
    set_path(dossier, "contrat.dateFinContrat", end)
    found = {(s, c) for s, c, _ in findings_for(run, dossier, ("CONTRAT_DUREE",))}
    assert found == expected


def test_end_in_the_past(run: Run, dossier: dict[str, Any]) -> None:
    found = codes(run(dossier, today=date(2028, 9, 1)))
    assert ("error", "CONTRAT_FIN_PASSEE", "contrat.dateFinContrat") in found


def test_avenant_effect_date_within_the_contract(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.typeContratApp", 35)
    set_path(dossier, "contrat.numeroContratPrecedent", "075202612000001")
    for effet, bad in (
        ("2026-12-01", False),
        ("2028-08-31", False),
        ("2026-11-30", True),
        ("2028-09-01", True),
    ):
        set_path(dossier, "contrat.dateEffetAvenant", effet)
        found = findings_for(run, dossier, ("CONTRAT_EFFET_AVENANT",))
        assert bool(found) is bad, effet


@pytest.mark.parametrize(
    ("pratique", "code"),
    [
        ("2026-12-01", None),
        ("2027-03-01", None),  # start + 3 months
        ("2027-03-02", "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI"),
        ("2026-11-30", "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI"),
    ],
)
def test_practical_training_start(
    run: Run, dossier: dict[str, Any], pratique: str, code: str | None
) -> None:
    set_path(dossier, "contrat.dateDebutFormationPratique", pratique)
    found = {c for _, c, _ in findings_for(run, dossier, ("CONTRAT_DEBUT_PRATIQUE",))}
    assert found == ({code} if code else set())


def test_practical_training_start_under_wedof_name(run: Run, dossier: dict[str, Any]) -> None:
    del dossier["contrat"]["dateDebutFormationPratique"]
    dossier["contrat"]["dateFormationPratiqueEmployeur"] = "2027-04-01"
    assert "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI" in only_codes(run(dossier))


@pytest.mark.parametrize(
    ("today", "late"),
    # 5 jours ouvrables (Monday-Saturday) after Tue 1 Dec: Wed 2 ... Mon 7
    [(date(2026, 12, 7), False), (date(2026, 12, 8), True)],
)
def test_deposit_within_5_working_days(
    run: Run, dossier: dict[str, Any], today: date, late: bool
) -> None:
    found = findings_for(run, dossier, ("CONTRAT_DEPOT_TARDIF",), today=today)
    assert bool(found) is late
    assert all(s == "warning" for s, _, _ in found)


def test_deposit_deadline_skips_public_holidays(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "contrat.dateDebutContrat", "2026-12-24")  # Thu; 25/12 off: Sat 26 ... Thu 31
    assert not findings_for(run, dossier, ("CONTRAT_DEPOT_TARDIF",), today=date(2026, 12, 31))
    assert findings_for(run, dossier, ("CONTRAT_DEPOT_TARDIF",), today=date(2027, 1, 1))


def test_training_end_before_start(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.dateFinFormation", "2026-11-30")
    assert ("error", "FORMATION_FIN_AVANT_DEBUT", "formation.dateFinFormation") in codes(
        run(dossier)
    )


@pytest.mark.parametrize(
    ("fend", "expected"),
    [
        ("2027-06-01", set()),
        ("2027-05-31", {("error", "FORMATION_DUREE_CYCLE_MIN")}),  # 6 only counting the end day
        ("2027-05-30", {("error", "FORMATION_DUREE_CYCLE_MIN")}),
        ("2030-12-01", set()),
        ("2030-12-31", {("warning", "FORMATION_DUREE_CYCLE_MAX_STRICTE")}),
        ("2031-01-01", {("error", "FORMATION_DUREE_CYCLE_MAX")}),
    ],
)
def test_training_cycle_6_months_to_4_years(
    run: Run, dossier: dict[str, Any], fend: str, expected: set[tuple[str, str]]
) -> None:
    set_path(dossier, "formation.dateFinFormation", fend)
    found = {(s, c) for s, c, _ in findings_for(run, dossier, ("FORMATION_DUREE_CYCLE",))}
    assert found == expected


@pytest.mark.parametrize(("hours", "bad"), [(0, True), (1, False), (9999, False), (10000, True)])
def test_training_hours_bounds(run: Run, dossier: dict[str, Any], hours: int, bad: bool) -> None:
    set_path(dossier, "formation.dureeFormation", hours)
    set_path(dossier, "formation.nombreHeuresEnDistanciel", 0)
    assert ("FORMATION_DUREE_BORNES" in only_codes(run(dossier))) is bad


def test_distance_hours(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.nombreHeuresEnDistanciel", 1351)
    assert (
        "error",
        "FORMATION_DISTANCIEL_SUPERIEUR",
        "formation.nombreHeuresEnDistanciel",
    ) in codes(run(dossier))
    set_path(dossier, "formation.nombreHeuresEnDistanciel", 1080)  # exactly 80 %
    result = run(dossier)
    assert result.valid
    assert ("warning", "FORMATION_DISTANCIEL_80", "formation.nombreHeuresEnDistanciel") in codes(
        result
    )


def test_contract_ends_at_most_3_months_after_training(run: Run, dossier: dict[str, Any]) -> None:
    set_path(dossier, "formation.dateFinFormation", "2028-05-31")  # + 3 months = 2028-08-31
    assert "CONTRAT_FIN_APRES_FORMATION" not in only_codes(run(dossier))
    set_path(dossier, "formation.dateFinFormation", "2028-05-30")
    assert ("error", "CONTRAT_FIN_APRES_FORMATION", "contrat.dateFinContrat") in codes(run(dossier))


@pytest.mark.parametrize(
    ("fstart", "code"),
    [
        ("2026-09-01", None),  # 3 months before the start
        ("2026-08-31", "FORMATION_DEBUT_ECART_CONTRAT"),
        ("2027-03-01", None),  # 3 months after
        ("2027-03-02", "FORMATION_DEBUT_ECART_CONTRAT"),
    ],
)
def test_training_start_within_3_months_of_contract(
    run: Run, dossier: dict[str, Any], fstart: str, code: str | None
) -> None:
    set_path(dossier, "formation.dateDebutFormation", fstart)
    found = {c for _, c, _ in findings_for(run, dossier, ("FORMATION_DEBUT_ECART",))}
    assert found == ({code} if code else set())


def test_training_before_signature_is_an_error(run: Run, dossier: dict[str, Any]) -> None:
    """The state form refuses it (the vade-mecum's 3 months are named in the message)."""
    set_path(dossier, "formation.dateDebutFormation", "2026-11-02")
    result = run(dossier)
    assert ("error", "FORMATION_DEBUT_AVANT_CONCLUSION", "formation.dateDebutFormation") in codes(
        result
    )
    assert [f.code for f in result.errors] == ["FORMATION_DEBUT_AVANT_CONCLUSION"]


def test_theoretical_training_below_25_percent_is_a_warning(
    run: Run, dossier: dict[str, Any]
) -> None:
    set_path(dossier, "formation.nombreHeuresEnDistanciel", 0)
    set_path(dossier, "formation.dureeFormation", 600)  # 21 months ~ 2817 h of work: 25 % = 704
    result = run(dossier)
    assert result.valid
    assert ("warning", "FORMATION_DUREE_25_POURCENT", "formation.dureeFormation") in codes(result)
