"""Age rules. The base dossier's contract starts on 2026-12-01 and was concluded on 2026-11-20."""

from datetime import date
from typing import Any

import pytest

from .conftest import Run, codes, only_codes, set_birth, set_path

START = date(2026, 12, 1)
AGE_CODES = {
    "APPRENTI_DATE_NAISSANCE_FUTURE",
    "APPRENTI_AGE_MINIMUM",
    "APPRENTI_MOINS_16_SANS_DEROGATION",
    "CONTRAT_DEROGATION_11_AGE",
    "CONTRAT_DEROGATION_12_AGE",
    "APPRENTI_AGE_MAXIMUM",
    "APPRENTI_AGE_SUCCESSION_UN_AN",
    "CONTRAT_DEROGATION_12_SANS_CAS",
    "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE",
    "APPRENTI_MINEUR_HORS_UE",
    "MAITRE_AGE_MINIMUM",
}


def age_codes(run: Run, doc: dict[str, Any]) -> set[str]:
    return only_codes(run(doc)) & AGE_CODES


def adult_guardian(doc: dict[str, Any]) -> dict[str, Any]:
    doc["apprenti"]["responsableLegal"] = {"nom": "Martin", "prenom": "Anne"}
    return doc


def test_birth_date_in_the_future(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(2026, 11, 28))
    assert ("error", "APPRENTI_DATE_NAISSANCE_FUTURE", "apprenti.dateNaissance") in codes(
        run(dossier)
    )


@pytest.mark.parametrize(
    ("birth", "derogation", "expected"),
    [
        (date(2011, 12, 2), 11, {"APPRENTI_AGE_MINIMUM"}),  # 14 on the start date
        (date(2011, 12, 1), None, {"APPRENTI_MOINS_16_SANS_DEROGATION"}),  # 15 on the start date
        (date(2011, 12, 1), 11, set()),
        (date(2011, 12, 1), 50, set()),
        (date(2010, 12, 2), None, {"APPRENTI_MOINS_16_SANS_DEROGATION"}),  # 16 the next day
        (date(2010, 12, 1), None, set()),  # 16th birthday on the start date
        (date(2010, 12, 1), 11, set()),  # exactly 16: derogation 11 still admitted
        (date(2010, 11, 30), 11, {"CONTRAT_DEROGATION_11_AGE"}),  # 16 and a day
    ],
)
def test_lower_age_limits(
    run: Run, dossier: dict[str, Any], birth: date, derogation: int | None, expected: set[str]
) -> None:
    set_birth(adult_guardian(dossier), birth)
    set_path(dossier, "contrat.typeDerogation", derogation)
    assert age_codes(run, dossier) == expected


@pytest.mark.parametrize(
    ("birth", "flags", "derogation", "expected"),
    [
        (date(1997, 12, 2), {}, None, set()),  # 28
        (date(1997, 12, 1), {}, None, set()),  # 29th birthday on the start date
        (date(1996, 12, 2), {}, None, set()),  # 29 and 364 days: "29 ans révolus"
        (date(1996, 12, 1), {}, None, {"APPRENTI_AGE_MAXIMUM"}),  # 30 on the first day
        (date(1995, 12, 2), {}, None, {"APPRENTI_AGE_MAXIMUM"}),  # 30 and 364 days
        (date(1995, 12, 1), {}, None, {"APPRENTI_AGE_MAXIMUM"}),  # 31
        (date(1995, 12, 1), {"handicap": True}, None, set()),
        (date(1995, 12, 1), {"inscriptionSportifDeHautNiveau": True}, None, set()),
        (date(1995, 12, 1), {"projetCreationRepriseEntreprise": True}, None, set()),
        (date(1995, 12, 1), {}, 12, {"APPRENTI_AGE_MAXIMUM", "CONTRAT_DEROGATION_12_SANS_CAS"}),
        (date(1995, 12, 1), {"handicap": True}, 12, set()),
        (date(1997, 12, 2), {}, 12, {"CONTRAT_DEROGATION_12_AGE"}),  # 28: derogation 12 refused
        (date(1997, 12, 1), {}, 12, set()),  # 29 on the start date
    ],
)
def test_upper_age_limits(
    run: Run,
    dossier: dict[str, Any],
    birth: date,
    flags: dict[str, bool],
    derogation: int | None,
    expected: set[str],
) -> None:
    set_birth(dossier, birth)
    dossier["apprenti"].update(flags)
    set_path(dossier, "contrat.typeDerogation", derogation)
    result = run(dossier)
    assert only_codes(result) & AGE_CODES == expected
    for finding in result.findings:
        if finding.code in AGE_CODES:
            assert finding.severity == "error"


def test_minor_needs_a_legal_representative(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(2009, 3, 15))
    assert (
        "error",
        "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE",
        "apprenti.responsableLegal",
    ) in codes(run(dossier))
    set_path(dossier, "apprenti.apprentiMineurNonEmancipe", False)  # emancipated
    assert "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE" not in age_codes(run, dossier)
    set_path(dossier, "apprenti.apprentiMineurNonEmancipe", True)
    adult_guardian(dossier)
    assert age_codes(run, dossier) == set()


def test_minority_is_judged_at_conclusion_29_february(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(dossier, date(2008, 2, 29))
    set_path(dossier, "contrat.dateConclusion", "2026-02-28")
    # 28/02/2026: still 17 (born 29/02, 18 on 1 March in a common year)
    assert "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE" in age_codes(run, dossier)
    set_path(dossier, "contrat.dateConclusion", "2026-03-01")
    assert "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE" not in age_codes(run, dossier)


def test_non_eu_minor_is_a_warning(run: Run, dossier: dict[str, Any]) -> None:
    set_birth(adult_guardian(dossier), date(2009, 3, 15))
    set_path(dossier, "apprenti.nationalite", 3)
    result = run(dossier)
    assert ("warning", "APPRENTI_MINEUR_HORS_UE", "apprenti.nationalite") in codes(result)


@pytest.mark.parametrize("section", ["maitre1", "maitre2"])
def test_maitre_must_be_adult(run: Run, dossier: dict[str, Any], section: str) -> None:
    # Checked at the start of execution (2026-12-01), as the state form does, not at conclusion.
    dossier[section] = {"nom": "Durand", "prenom": "Léa", "dateNaissance": "2008-12-02"}
    assert ("error", "MAITRE_AGE_MINIMUM", f"{section}.dateNaissance") in codes(run(dossier))
    dossier[section]["dateNaissance"] = "2008-12-01"  # 18 on the start date (17 at conclusion)
    assert "MAITRE_AGE_MINIMUM" not in only_codes(run(dossier))
