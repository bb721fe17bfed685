import pytest

from relais.domain.rules.identifiers import (
    Check,
    check_deca,
    check_iban,
    check_nir,
    check_siren,
    check_siret,
    check_uai,
    luhn,
    nir_key,
    uai_letter,
)


@pytest.mark.parametrize(
    ("siret", "expected"),
    [
        ("73282932000074", Check.OK),  # vector of the notes
        ("98765432400019", Check.OK),  # spec example
        ("12345678912345", Check.KEY),
        ("35600000049837", Check.OK),  # La Poste: digits sum 45, a multiple of 5 (Luhn fails)
        ("35600000049838", Check.KEY),  # La Poste, sum 46
        ("35600000000047", Check.OK),  # La Poste establishment, sum 25
        ("7328293200007", Check.FORMAT),
        ("732829320000740", Check.FORMAT),
        ("7328293200007A", Check.FORMAT),
        ("７３２８２９３２０００００７４", Check.FORMAT),  # full-width digits are not ASCII
    ],
)
def test_siret(siret: str, expected: Check) -> None:
    assert check_siret(siret) is expected


def test_la_poste_siret_is_not_luhn_valid() -> None:
    assert not luhn("35600000049837")
    assert check_siret("35600000049837") is Check.OK


def test_siren() -> None:
    assert check_siren("732829320") is Check.OK
    assert check_siren("356000000") is Check.OK
    assert check_siren("123456789") is Check.KEY
    assert check_siren("12345678") is Check.FORMAT


@pytest.mark.parametrize(
    ("uai", "expected"),
    [
        ("0755123L", Check.OK),
        ("0134567U", Check.OK),
        ("0755123A", Check.KEY),
        ("0755123l", Check.FORMAT),
        ("075512L", Check.FORMAT),
        ("07551234", Check.FORMAT),
    ],
)
def test_uai(uai: str, expected: Check) -> None:
    assert check_uai(uai) is expected


def test_uai_letter_table_skips_i_o_q() -> None:
    assert uai_letter("0000000") == "A"
    assert uai_letter("0000008") == "J"  # 8 mod 23 skips I
    assert uai_letter("0000022") == "Z"


@pytest.mark.parametrize(
    ("nir", "expected"),
    [
        ("101010100100153", Check.OK),  # spec example: key 53
        ("101010100100154", Check.KEY),
        ("1010101001001", Check.OK),  # 13 characters, no key
        ("209052A04012034", Check.OK),  # Corse-du-Sud: 2A -> 19 for the key
        ("209052B04012034", Check.KEY),
        ("10101010010015", Check.FORMAT),
        ("1010101001001533", Check.FORMAT),
        ("10101A0100153XX", Check.FORMAT),
        ("1010102C0010015", Check.FORMAT),
    ],
)
def test_nir(nir: str, expected: Check) -> None:
    assert check_nir(nir) is expected


def test_nir_corsica_keys() -> None:
    # 2A is read as 19 and 2B as 18 before the modulo
    assert nir_key("209052A040120") == 97 - int("2090519040120") % 97
    assert nir_key("209052B040120") == 97 - int("2090518040120") % 97
    assert nir_key("1010101001001") == 53


@pytest.mark.parametrize(
    ("deca", "ok"),
    [
        ("02B202212000000", True),  # example of the notes
        ("075202509000456", True),
        ("02A202409NC0123", True),
        ("971202301990001", True),
        ("02C202212000000", False),
        ("075202520000456", False),  # month 20
        ("07520250900045", False),
        ("975202509000456", False),
    ],
)
def test_deca(deca: str, ok: bool) -> None:
    assert (check_deca(deca) is Check.OK) is ok


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        ("FR7630006000011234567890189", Check.OK),
        ("FR76 3000 6000 0112 3456 7890 189", Check.OK),
        ("FR7630006000011234567890188", Check.KEY),
        ("FR76", Check.FORMAT),
        ("7630006000011234567890189FR", Check.FORMAT),
    ],
)
def test_iban(iban: str, expected: Check) -> None:
    assert check_iban(iban) is expected


def test_completion_helpers_make_valid_identifiers() -> None:
    from relais.domain.rules.identifiers import (
        complete_nir,
        complete_siren,
        complete_siret,
        complete_uai,
    )

    siren = complete_siren("82834757")
    assert check_siren(siren) is Check.OK
    assert check_siret(complete_siret(siren + "0001")) is Check.OK
    assert complete_nir("1010101001001") == "101010100100153"
    assert check_nir(complete_nir("209052A040120")) is Check.OK
    assert check_uai(complete_uai("0755123")) is Check.OK
