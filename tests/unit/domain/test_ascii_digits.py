"""Dates and numeric codes accept ASCII digits only: full-width ("２０２５") or Arabic-Indic
("٢٠٢٥") digits are digits to Python's ``\\d``, ``int()`` and ``str.isdigit()``, but no OPCO
reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from relais.adapters.credentials import CredentialStore
from relais.domain.cerfa import Cerfa
from relais.domain.dates import parse_date, parse_wire_date

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC])
@pytest.mark.parametrize("text", ["2025-01-01", "2025-01-01T00:00:00+0000"])
def test_dates_in_other_digits_are_refused(text: str, digits: dict[int, int]) -> None:
    assert parse_date(text).year == 2025  # the ASCII form is fine
    for parse in (parse_date, parse_wire_date):
        with pytest.raises(ValueError, match="AAAA-MM-JJ"):
            parse(text.translate(digits))


def test_a_cerfa_date_in_full_width_digits_is_a_validation_error() -> None:
    apprenti = {"dateNaissance": "2007-03-15".translate(FULL_WIDTH)}
    with pytest.raises(ValidationError) as exc:
        Cerfa.model_validate({"apprenti": apprenti})
    assert exc.value.errors()[0]["loc"] == ("apprenti", "dateNaissance")


def test_an_idcc_in_full_width_digits_is_not_normalised_into_a_code() -> None:
    ascii_idcc = Cerfa.model_validate({"employeur": {"codeIdcc": "843"}})
    assert ascii_idcc.employeur is not None and ascii_idcc.employeur.codeIdcc == "0843"
    wide = Cerfa.model_validate({"employeur": {"codeIdcc": "843".translate(FULL_WIDTH)}})
    assert wide.employeur is not None and wide.employeur.codeIdcc == "８４３"  # left as written


def test_a_siret_in_full_width_digits_is_not_a_siret(tmp_path: Path) -> None:
    siret = "12345678900011".translate(FULL_WIDTH)
    keys = tmp_path / "keys.csv"
    keys.write_text(f"siret,opco,key,expiry\n{siret},AKTO,k,\n", encoding="utf-8")
    keys.chmod(0o600)
    store = CredentialStore.load(keys_csv=keys)
    assert store.keys == {}
    assert any("not a SIRET" in p for p in store.problems)
