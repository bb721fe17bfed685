"""The check-digit algorithms of the generator, on the spec's published test vectors."""

from __future__ import annotations

import random
from datetime import date

import pytest

from relais.sampledata import identifiers as ids


@pytest.mark.parametrize(
    ("siret", "valid"),
    [
        ("73282932000074", True),
        ("98765432400019", True),
        ("12345678912345", False),
        ("35600000049837", True),  # La Poste: digit sum multiple of 5
        ("35600000049838", False),
        ("7328293200007", False),
    ],
)
def test_siret_vectors(siret: str, valid: bool) -> None:
    assert ids.siret_ok(siret) is valid


def test_nir_key_of_the_spec_example() -> None:
    assert ids.nir_key("1010101001001") == "53"
    assert ids.nir_ok("101010100100153")


def test_corsican_nir_key_replaces_2a_and_2b() -> None:
    assert ids.nir_key("199012A004123") == f"{97 - int('1990119004123') % 97:02d}"
    assert ids.nir_key("299012B033123") == f"{97 - int('2990118033123') % 97:02d}"


def test_uai_check_letter() -> None:
    assert ids.uai_letter("0751234") == "ABCDEFGHJKLMNPRSTUVWXYZ"[751234 % 23]
    assert ids.uai_ok("0751234" + ids.uai_letter("0751234"))
    assert not ids.uai_ok("0751234Z" if ids.uai_letter("0751234") != "Z" else "0751234A")


def test_iban_check_digits() -> None:
    assert ids.iban_ok("FR7630006000011234567890189")
    assert not ids.iban_ok("FR7630006000011234567890188")


def test_generated_identifiers_are_valid_and_never_la_poste() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        siret = ids.make_siret(rng)
        assert ids.siret_ok(siret)
        assert not siret.startswith(ids.LA_POSTE_SIREN)
        assert ids.uai_ok(ids.make_uai(rng, rng.choice(["75", "2A", "2B", "01", "69"])))
        assert ids.iban_ok(ids.make_iban(rng))


def test_generated_nir_is_consistent_with_the_person() -> None:
    rng = random.Random(3)
    nir = ids.make_nir(
        rng, sexe="F", naissance=date(2007, 3, 9), departement="2B", commune_insee="2B033"
    )
    assert nir.startswith("207032B033")
    assert ids.nir_ok(nir)
    nir_m = ids.make_nir(
        rng, sexe="M", naissance=date(1999, 12, 31), departement="01", commune_insee="01053"
    )
    assert nir_m.startswith("1991201053")
    assert ids.nir_ok(nir_m)


def test_deca_number_shape() -> None:
    rng = random.Random(1)
    for dept in ("75", "2A", "01"):
        deca = ids.make_deca(rng, dept, date(2026, 9, 1))
        assert len(deca) == 15
        assert deca[3:9] == "202609"
