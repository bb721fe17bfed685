"""The money before any call (issue 15, item 4): convention cost vs NPEC, facture vs échéancier."""

from __future__ import annotations

from datetime import date

import pytest

from relais.domain.followups import Convention, Facture
from relais.domain.npec import NpecTable
from relais.domain.referentials import load_referentials
from relais.domain.rules.money import (
    DossierFacts,
    Echeance,
    KnownDossier,
    check_convention_money,
    check_facture_money,
    convention_financing,
    echeancier_from_opco,
)

NPEC_CSV = """# valid-until: 2027-06-30
certification,idcc,npec,date_applicabilite
*,*,7000,2019-01-01
35340,*,8000,2019-01-01
35340,1486,9000,2019-01-01
35340,1486,9500,2026-09-01
"""
TABLE = NpecTable.from_csv_text(NPEC_CSV)


def facts(**over: object) -> DossierFacts:
    base: dict[str, object] = {
        "certifications": ("RNCP35340", "32031213"),
        "idcc": "1486",
        "conclusion": date(2026, 11, 20),
        "start": date(2026, 12, 1),
        "end": date(2028, 11, 30),  # 730 days: two years
    }
    base.update(over)
    return DossierFacts(**base)  # type: ignore[arg-type]


def convention(cost: float) -> Convention:
    return Convention.model_validate({"couts": {"coutTotalPedagogieCFA": cost}})


def codes(found: list) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(f.severity, f.code, f.path) for f in found}


def test_the_most_specific_npec_row_in_force_at_conclusion() -> None:
    assert TABLE.lookup(["RNCP35340"], "1486", date(2026, 8, 31)).npec_cents == 900_000  # type: ignore[union-attr]
    assert TABLE.lookup(["RNCP35340"], "1486", date(2026, 9, 1)).npec_cents == 950_000  # type: ignore[union-attr]
    assert TABLE.lookup(["35340"], "0016", date(2026, 9, 1)).npec_cents == 800_000  # type: ignore[union-attr]
    assert TABLE.lookup(["99999"], "0016", date(2026, 9, 1)).npec_cents == 700_000  # type: ignore[union-attr]
    assert (
        NpecTable.from_csv_text("certification,idcc,npec\n1,*,5\n").lookup(
            [], None, date(2026, 1, 1)
        )
        is None
    )


def test_a_convention_above_its_npec_is_refused_with_the_employers_share() -> None:
    # two years at 9 500 €: 19 000 € at most from the OPCO (730 days / 365)
    found, money = check_convention_money(convention(19_000.01), facts(), TABLE)
    assert codes(found) == {
        ("error", "CONVENTION_COUT_SUPERIEUR_NPEC", "couts.coutTotalPedagogieCFA")
    }
    assert money is not None
    assert (money.ceiling_cents, money.employer_share_cents) == (1_900_000, 1)
    assert "19 000,00 €" in found[0].message
    found, money = check_convention_money(convention(19_000), facts(), TABLE)
    assert found == [] and money is not None and money.opco_share_cents == 1_900_000


def test_distance_learning_reduces_the_npec_by_20_percent() -> None:
    found, money = check_convention_money(convention(16_000), facts(distance_share=0.8), TABLE)
    assert money is not None and money.annual_cents == 760_000
    assert [f.code for f in found] == ["CONVENTION_COUT_SUPERIEUR_NPEC"]
    assert "distance" in found[0].message
    found, _ = check_convention_money(convention(16_000), facts(distance_share=0.79), TABLE)
    assert found == []


def test_before_the_reform_every_started_month_counts() -> None:
    f = facts(conclusion=date(2025, 6, 1), start=date(2025, 6, 15), end=date(2026, 1, 3))
    money = convention_financing(0, f, TABLE.lookup(f.certifications, f.idcc, f.conclusion))  # type: ignore[arg-type]
    assert money.ceiling_cents == round(900_000 * 7 / 12)  # 6 whole months + a started one


def test_level_6_contracts_from_july_2025_carry_the_employer_participation() -> None:
    found, money = check_convention_money(convention(10_000), facts(level_6=True), TABLE)
    assert money is not None and money.employer_participation_cents == 75_000
    assert [f.code for f in found] == ["CONVENTION_PARTICIPATION_EMPLOYEUR"]


def test_no_npec_is_a_warning_and_the_synthetic_table_says_so() -> None:
    found, _ = check_convention_money(convention(1), facts(), NpecTable())
    assert codes(found) == {("warning", "CONVENTION_NPEC_INCONNU", "couts.coutTotalPedagogieCFA")}
    shipped = load_referentials().npec
    assert shipped.synthetic and len(shipped) > 10
    found, _ = check_convention_money(convention(10**6), facts(), shipped)
    assert "synthétique" in found[0].message


ECHEANCIER = (
    Echeance(1, date(2026, 12, 1), 380_000, regle_cents=380_000),
    Echeance(2, date(2027, 6, 1), 285_000, en_cours_cents=100_000),
    Echeance(3, date(2027, 9, 1), 190_000),
)
KNOWN = KnownDossier(ECHEANCIER, start=date(2026, 12, 1), end=date(2028, 11, 30))


def facture(numero: int, montant: float, day: str = "2027-07-01") -> Facture:
    return Facture.model_validate(
        {
            "dateFacture": day,
            "dossiers": [
                {"numeroInterneDossier": "D1", "numeroEcheance": numero, "montant": montant}
            ],
        }
    )


def test_a_facture_above_what_remains_is_refused() -> None:
    found = check_facture_money(facture(2, 1850.01), {"D1": KNOWN}, today=date(2027, 7, 1))
    assert codes(found) == {("error", "FACTURE_MONTANT_SUPERIEUR_RESTANT", "dossiers[0].montant")}
    assert "1 850,00 €" in found[0].message
    assert check_facture_money(facture(2, 1850), {"D1": KNOWN}, today=date(2027, 7, 1)) == []
    paid = check_facture_money(facture(1, 1), {"D1": KNOWN}, today=date(2027, 7, 1))
    assert [f.code for f in paid] == ["FACTURE_MONTANT_SUPERIEUR_RESTANT"]


@pytest.mark.parametrize(
    ("numero", "day", "code"),
    [
        (3, "2027-07-01", "FACTURE_ECHEANCE_NON_OUVERTE"),
        (4, "2027-07-01", "FACTURE_ECHEANCE_INCONNUE"),
        (1, "2026-11-30", "FACTURE_DATE_HORS_CONTRAT"),
    ],
)
def test_echeance_open_known_and_within_the_contract(numero: int, day: str, code: str) -> None:
    found = check_facture_money(facture(numero, 1, day), {"D1": KNOWN}, today=date(2027, 7, 1))
    assert code in {f.code for f in found}
    assert all(f.severity == "error" for f in found)


def test_an_echeance_opening_after_a_rupture_is_refused() -> None:
    ruptured = KnownDossier(ECHEANCIER, start=date(2026, 12, 1), end=date(2027, 8, 15))
    found = check_facture_money(
        facture(3, 1, "2027-09-02"), {"D1": ruptured}, today=date(2027, 9, 2)
    )
    assert {f.code for f in found} == {"FACTURE_ECHEANCE_HORS_CONTRAT"}


def test_an_unknown_echeancier_is_a_warning_not_a_block() -> None:
    for known in ({}, {"D1": None}, {"D1": KnownDossier(None)}):
        found = check_facture_money(facture(2, 10**6), known, today=date(2027, 7, 1))
        assert codes(found) == {
            ("warning", "FACTURE_ECHEANCIER_INCONNU", "dossiers[0].numeroEcheance")
        }


def test_the_echeancier_is_read_from_the_opcos_dossier() -> None:
    doc = {
        "cerfa": {"numeroInterne": "1234567"},
        "echeances": [
            {
                "numero": 1,
                "dateOuverture": "2026-12-01T00:00:00+01:00",
                "montantTotal": 3800,
                "montantRegle": 3800,
                "montantEnCoursInstruction": 0,
            },
            {"numero": "x"},
            {"numero": 2, "dateOuverture": "not a date", "montantTotal": 1},
        ],
    }
    assert echeancier_from_opco(doc) == (Echeance(1, date(2026, 12, 1), 380_000, 380_000, 0),)
    assert echeancier_from_opco({"cerfa": {}}) is None


def test_codification_99_only_on_the_last_echeance() -> None:
    """convergence-api.md 0: a line's codificationEcheance is its number, 99 for the last."""

    def coded(numero: int, code: int) -> Facture:
        line = {"numeroInterneDossier": "D1", "numeroEcheance": numero, "montant": 1}
        return Facture.model_validate(
            {"dateFacture": "2027-09-02", "dossiers": [{**line, "codificationEcheance": code}]}
        )

    today = date(2027, 9, 2)
    found = check_facture_money(coded(2, 99), {"D1": KNOWN}, today=today)
    assert codes(found) == {
        ("error", "FACTURE_CODIFICATION_99_PAS_DERNIERE", "dossiers[0].codificationEcheance")
    }
    assert check_facture_money(coded(3, 99), {"D1": KNOWN}, today=today) == []
    assert check_facture_money(coded(2, 2), {"D1": KNOWN}, today=today) == []
