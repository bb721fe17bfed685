"""Check keys and formats of the identifiers the standard carries (convergence-api.md 3.1).

Pure predicates on strings, reused by the cerfa and follow-up rules and by test-data generators.
"""

from __future__ import annotations

import re
from enum import Enum

LA_POSTE_SIREN = "356000000"
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

_UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")
_NIR_RE = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}(?:[0-9]{2})?$")
_DECA_RE = re.compile(
    r"^(0[0-9][0-9]|02[ABab]|9[012345]|97[12346])([0-9]{4})([0-1][0-9])((NC|nc)|[0-9]{2})([0-9]{4})$"
)
_IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


class Check(Enum):
    OK = "ok"
    FORMAT = "format"
    KEY = "key"


def luhn(digits: str) -> bool:
    """Luhn checksum over a string of digits (double every second digit from the right)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def check_siret(value: str) -> Check:
    """14 digits and a valid Luhn key; La Poste establishments (SIREN 356000000) are valid when
    the sum of their 14 digits is a multiple of 5."""
    if len(value) != 14 or not value.isascii() or not value.isdigit():
        return Check.FORMAT
    if value.startswith(LA_POSTE_SIREN):
        return Check.OK if sum(int(c) for c in value) % 5 == 0 else Check.KEY
    return Check.OK if luhn(value) else Check.KEY


def check_siren(value: str) -> Check:
    """9 digits, Luhn (La Poste's SIREN is valid)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return Check.FORMAT
    return Check.OK if value == LA_POSTE_SIREN or luhn(value) else Check.KEY


def uai_letter(digits7: str) -> str:
    return UAI_LETTERS[int(digits7) % 23]


def check_uai(value: str) -> Check:
    """``^[0-9]{7}[A-Z]$`` and the check letter ``UAI_LETTERS[int(7 digits) mod 23]``."""
    if not _UAI_RE.match(value):
        return Check.FORMAT
    return Check.OK if uai_letter(value[:7]) == value[7] else Check.KEY


def nir_number(nir13: str) -> int:
    """The 13 first characters as a number, Corsica's 2A/2B replaced by 19/18 (for the key)."""
    return int(nir13.replace("2A", "19").replace("2B", "18"))


def nir_key(nir13: str) -> int:
    return 97 - nir_number(nir13) % 97


def check_nir(value: str) -> Check:
    """13 characters (+ optional 2-digit key): sex, yy, mm, department (2A/2B), commune, order."""
    if not _NIR_RE.match(value):
        return Check.FORMAT
    if len(value) == 13:
        return Check.OK
    return Check.OK if int(value[13:]) == nir_key(value[:13]) else Check.KEY


def check_deca(value: str) -> Check:
    """DECA contract number: department (3) + year (4) + month (2) + code (2) + sequence (4)."""
    return Check.OK if _DECA_RE.match(value) else Check.FORMAT


def check_iban(value: str) -> Check:
    """Country, 2 check digits, BBAN; ISO 13616 mod-97 == 1 (spaces are ignored)."""
    compact = value.replace(" ", "").upper()
    if not _IBAN_RE.match(compact):
        return Check.FORMAT
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return Check.OK if int(number) % 97 == 1 else Check.KEY


def luhn_digit(digits: str) -> str:
    """The digit that makes ``digits + digit`` Luhn-valid."""
    for candidate in "0123456789":
        if luhn(digits + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


def complete_siren(first8: str) -> str:
    """A valid SIREN from its first 8 digits (for test data and examples)."""
    return first8 + luhn_digit(first8)


def complete_siret(first13: str) -> str:
    """A valid SIRET from its first 13 digits (the SIREN part should itself be valid)."""
    return first13 + luhn_digit(first13)


def complete_nir(nir13: str) -> str:
    """The 15-character NIR (with its key) from the 13 first characters."""
    return f"{nir13}{nir_key(nir13):02d}"


def complete_uai(digits7: str) -> str:
    """A valid UAI from its 7 digits."""
    return digits7 + uai_letter(digits7)
