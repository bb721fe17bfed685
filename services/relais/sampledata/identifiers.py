"""French identifiers with their real check digits: SIRET/SIREN (Luhn), UAI (check letter), NIR
(key mod 97, Corsica 2A/2B), IBAN (mod 97), DECA contract numbers.

The check functions are here so the generator can prove what it makes; the control rules of
``relais.domain`` have their own (the generator must not share a bug with the validator).
"""

from __future__ import annotations

import random
from datetime import date

LA_POSTE_SIREN = "356000000"
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(prefix: str) -> str:
    """``prefix`` + the digit that makes the whole Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError("unreachable: one digit always completes a Luhn number")


def siret_ok(siret: str) -> bool:
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in siret) % 5 == 0
    return luhn_ok(siret) and luhn_ok(siret[:9])


def make_siren(rng: random.Random) -> str:
    while True:
        siren = luhn_complete(f"{rng.randrange(10_000_000, 99_999_999):08d}")
        if siren != LA_POSTE_SIREN:  # La Poste has its own rule: never generated
            return siren


def make_siret(rng: random.Random, siren: str | None = None) -> str:
    siren = siren or make_siren(rng)
    return luhn_complete(f"{siren}{rng.randrange(1, 300):04d}")


def uai_letter(seven_digits: str) -> str:
    return UAI_LETTERS[int(seven_digits) % 23]


def uai_ok(uai: str) -> bool:
    return len(uai) == 8 and uai[:7].isdigit() and uai[7].upper() == uai_letter(uai[:7])


def make_uai(rng: random.Random, departement: str) -> str:
    dept = departement_for_uai(departement)
    body = f"{dept}{rng.randrange(0, 10_000):04d}"
    return body + uai_letter(body)


def departement_for_uai(departement: str) -> str:
    """A UAI starts with a 3-digit department: ``075``, ``2A`` -> ``620``, ``2B`` -> ``720``."""
    if departement == "2A":
        return "620"
    if departement == "2B":
        return "720"
    return departement.zfill(3)


def nir_key(nir13: str) -> str:
    numeric = nir13.upper().replace("2A", "19").replace("2B", "18")
    return f"{97 - int(numeric) % 97:02d}"


def nir_ok(nir: str) -> bool:
    return len(nir) == 15 and nir_key(nir[:13]) == nir[13:]


def make_nir(
    rng: random.Random, *, sexe: str, naissance: date, departement: str, commune_insee: str
) -> str:
    """A NIR consistent with sex, birth year/month and birth department (15 chars with key)."""
    sex_digit = "1" if sexe == "M" else "2"
    dept = departement if departement in ("2A", "2B") else departement.zfill(2)[-2:]
    commune = commune_insee[-3:]
    order = f"{rng.randrange(1, 1000):03d}"
    nir13 = f"{sex_digit}{naissance.year % 100:02d}{naissance.month:02d}{dept}{commune}{order}"
    return nir13 + nir_key(nir13)


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return int(numeric) % 97 == 1


def make_iban(rng: random.Random) -> str:
    """A French IBAN with a valid RIB key and IBAN check digits."""
    bank = f"{rng.choice((10_278, 30_002, 30_003, 30_004, 30_006, 20_041, 16_606, 17_515)):05d}"
    branch = f"{rng.randrange(1, 100_000):05d}"
    account = f"{rng.randrange(0, 10**11):011d}"
    rib = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib:02d}"
    return f"FR{_iban_check('FR', bban)}{bban}"


def make_deca(rng: random.Random, departement: str, month: date) -> str:
    """A DECA contract number: department (3) + year (4) + month (2) + code (2) + sequence (4)."""
    dept = departement_for_deca(departement)
    code = rng.choice(("00", "01", "02", "03", "04", "05", "06", "NC"))
    return f"{dept}{month.year:04d}{month.month:02d}{code}{rng.randrange(0, 10_000):04d}"


def departement_for_deca(departement: str) -> str:
    if departement in ("2A", "2B"):
        return f"0{departement}"
    return departement.zfill(3)
