"""Referential files say their age (issue 15, item 5); "today" is always injected here."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from relais.domain.referentials import (
    IDCC_FILE,
    NPEC_FILE,
    NPEC_SYNTHETIC_FILE,
    SMIC_FILE,
    WAGE_GRID_FILE,
    Validity,
    default_schemas_dir,
    load_referentials,
    read_validity,
    split_header,
    stale_referentials,
    validity_of,
)

WATCHED = {IDCC_FILE, SMIC_FILE, WAGE_GRID_FILE, NPEC_SYNTHETIC_FILE}


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(default_schemas_dir() / "referentials", target / "referentials")
    return target


def test_every_shipped_file_carries_a_validity_date() -> None:
    validities = read_validity()
    assert {v.file for v in validities} == WATCHED
    assert all(v.valid_until is not None for v in validities), validities
    assert load_referentials().validity == validities


def test_stale_means_past_the_date_or_silent() -> None:
    dated = Validity("smic.csv", date(2026, 12, 31))
    silent = Validity("idcc-opco.csv", None)
    assert not dated.stale(date(2026, 12, 31))
    assert dated.stale(date(2027, 1, 1))
    assert silent.stale(date(2000, 1, 1))
    assert stale_referentials((dated, silent), date(2027, 1, 1)) == [dated, silent]
    assert stale_referentials((dated,), date(2026, 6, 1)) == []


def test_the_header_is_read_and_the_body_keeps_its_line_numbers() -> None:
    text = "# valid-until: 2027-06-30\n# source: JO\nannee,age_min,age_max,taux\n1,0,17,x\n"
    meta, body, skipped = split_header(text)
    assert meta == {"valid-until": "2027-06-30", "source": "JO"}
    assert body.startswith("annee,") and skipped == 2
    assert validity_of("f.csv", text) == Validity("f.csv", date(2027, 6, 30))
    assert validity_of("f.csv", "# valid-until: soon\na\n").valid_until is None
    from relais.domain.referentials import WageGrid

    with pytest.raises(ValueError, match="line 4"):
        WageGrid.from_csv_text(text)


def test_the_shipped_files_are_stale_after_their_dates(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    smic = schemas / "referentials" / SMIC_FILE
    smic.write_text(
        smic.read_text(encoding="utf-8").replace(
            "# valid-until: ", "# valid-until: 2020-01-01\n# was: "
        ),
        encoding="utf-8",
    )
    found = {v.file for v in stale_referentials(read_validity(schemas), date(2026, 11, 27))}
    assert found == {SMIC_FILE}
    assert load_referentials(schemas).smic.at(date(2026, 11, 27)) is not None  # still loads


def test_an_official_npec_file_replaces_the_synthetic_one(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    (schemas / "referentials" / NPEC_FILE).write_text(
        "# valid-until: 2027-09-30\n"
        "certification,idcc,npec,date_applicabilite\n"
        "*,*,7000,2025-07-01\n",
        encoding="utf-8",
    )
    files = {v.file: v.valid_until for v in read_validity(schemas)}
    assert files[NPEC_FILE] == date(2027, 9, 30)
    assert NPEC_SYNTHETIC_FILE not in files


def test_a_missing_file_is_reported_as_silent(tmp_path: Path) -> None:
    schemas = copy_schemas(tmp_path)
    (schemas / "referentials" / IDCC_FILE).unlink()
    assert Validity(IDCC_FILE, None) in read_validity(schemas)
