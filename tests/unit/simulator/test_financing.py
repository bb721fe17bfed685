"""Engagement and échéancier (convergence-api.md §3.6, Appendix A) and the NPEC table."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from relais.domain.dates import add_months
from relais_simulator.config import default_npec_path
from relais_simulator.financing import (
    ContractTerms,
    NpecRow,
    NpecTable,
    compute_engagement,
    contract_years,
    frais_from_convention,
    load_npec_csv,
)


def terms(**overrides: object) -> ContractTerms:
    base: dict[str, object] = {
        "date_debut": date(2026, 9, 1),
        "date_fin": date(2028, 8, 31),
        "date_conclusion": date(2026, 8, 20),
        "npec_cents": 800_000,
        "duree_formation_h": 1200,
        "heures_distanciel": 0,
        "type_diplome": 54,
    }
    base.update(overrides)
    return ContractTerms(**base)  # type: ignore[arg-type]


def test_two_full_years_after_the_reform_pay_40_30_20_10_each_year() -> None:
    e = compute_engagement(terms())
    amounts = [x.montant_cents for x in e.echeances]
    assert amounts == [320_000, 240_000, 160_000, 80_000] * 2
    assert e.total_cents == 1_600_000
    first = e.echeances[:4]
    assert [x.date_ouverture for x in first] == [
        date(2026, 9, 1),
        date(2027, 3, 1),
        date(2027, 6, 1),
        date(2027, 8, 31),
    ]
    assert [x.numero for x in e.echeances] == list(range(1, 9))
    assert e.echeances[4].date_ouverture == date(2027, 9, 1)


def test_partial_last_year_is_prorated_by_day() -> None:
    e = compute_engagement(terms(date_fin=date(2027, 2, 28)))  # 181 days
    assert e.pedagogie_cents == 800_000 * 181 // 365
    assert all(x.date_ouverture <= date(2027, 2, 28) for x in e.echeances)


def test_before_the_reform_a_started_month_is_due_and_split_50_25_25() -> None:
    e = compute_engagement(
        terms(date_debut=date(2024, 9, 1), date_fin=date(2025, 2, 14), npec_cents=1_200_000)
    )
    # 6 months started (Sep..Feb) of 12
    assert e.pedagogie_cents == 600_000
    assert [x.montant_cents for x in e.echeances] == [300_000, 150_000, 150_000]


def test_remote_training_cuts_20_percent() -> None:
    e = compute_engagement(terms(heures_distanciel=1000))
    assert e.pedagogie_cents == 2 * 640_000


def test_level_6_deducts_750_euros_from_the_first_echeance() -> None:
    e = compute_engagement(terms(type_diplome=62))
    assert e.echeances[0].montant_cents == 320_000 - 75_000
    assert e.echeances[1].montant_cents == 240_000


def test_convention_cost_caps_the_npec() -> None:
    e = compute_engagement(terms(cout_pedagogie_cents=500_000))
    assert e.pedagogie_cents == 1_000_000


def test_frais_annexes_from_the_convention() -> None:
    frais = frais_from_convention(
        {
            "nombreRepasTotaux": 100,
            "nombreHebergementTotaux": 10,
            "montantPremierEquipement": 800,
            "mentionMobiliteInternationale": False,
        }
    )
    by_nature = {f.nature: f.montant_cents for f in frais}
    assert by_nature == {"RESTAURATION": 30_000, "HEBERGEMENT": 6_000, "PREMIEREQUIPEMENT": 50_000}
    e = compute_engagement(terms(), frais)
    assert e.total_cents == 1_600_000 + 86_000


def test_contract_years_cover_the_contract_without_gaps() -> None:
    years = contract_years(date(2024, 2, 29), date(2027, 1, 15))
    assert years[0] == (date(2024, 2, 29), date(2025, 2, 27))
    assert years[-1][1] == date(2027, 1, 15)
    for (_, end), (start, _) in itertools.pairwise(years):
        assert (start - end).days == 1


def test_npec_lookup_most_specific_then_applicable_date(tmp_path: Path) -> None:
    table = NpecTable(
        [
            NpecRow("*", "*", 700_000, date(2019, 1, 1)),
            NpecRow("34828", "*", 900_000, date(2019, 1, 1)),
            NpecRow("34828", "*", 855_000, date(2024, 4, 1)),
            NpecRow("34828", "1486", 990_000, date(2019, 1, 1)),
        ]
    )
    assert table.lookup(["RNCP34828"], "1486", date(2025, 1, 1)) == 990_000
    assert table.lookup(["RNCP34828"], "0043", date(2025, 1, 1)) == 855_000
    assert table.lookup(["34828"], "0043", date(2023, 1, 1)) == 900_000
    assert table.lookup(["99999"], "", date(2025, 1, 1)) == 700_000


def test_shipped_npec_table_is_marked_synthetic_and_loads() -> None:
    path = default_npec_path()
    assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0]
    table = load_npec_csv(path)
    assert len(table) > 10
    assert table.lookup(["RNCP34828"], "0043", date(2026, 1, 1)) == 855_000
    assert table.lookup(["RNCP1"], "1486", date(2026, 1, 1)) == 780_000


@given(
    debut=st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)),
    months=st.integers(min_value=6, max_value=54),
    npec=st.integers(min_value=0, max_value=3_000_000),
    diplome=st.sampled_from([33, 54, 64, 73]),
    remote=st.booleans(),
)
def test_echeancier_invariants(
    debut: date, months: int, npec: int, diplome: int, remote: bool
) -> None:
    fin = add_months(debut, months) - timedelta(days=1)
    e = compute_engagement(
        terms(
            date_debut=debut,
            date_fin=fin,
            npec_cents=npec,
            type_diplome=diplome,
            heures_distanciel=1000 if remote else 0,
        )
    )
    years = contract_years(debut, fin)
    per_year = 4 if debut >= date(2025, 7, 1) else 3
    assert len(e.echeances) == per_year * len(years)
    assert [x.numero for x in e.echeances] == list(range(1, len(e.echeances) + 1))
    assert all(x.montant_cents >= 0 for x in e.echeances)
    for x in e.echeances:
        assert debut <= x.date_ouverture <= fin
        assert debut <= x.date_debut <= x.date_fin <= fin
    annual = round(npec * 0.8) if remote else npec
    # never more than the NPEC per started contract year
    assert e.pedagogie_cents <= annual * len(years)
    ouvertures = [x.date_ouverture for x in e.echeances]
    assert ouvertures == sorted(ouvertures)
