"""Ids in the shape an OPCO's profile gives (``identifiers``: ``#`` a digit, ``@`` a letter), or
the simulator's own older shapes where the profile knows none."""

from __future__ import annotations

from string import ascii_uppercase

from relais.domain.profiles import IdentifierFormats


def mint(template: str, n: int, letters: str) -> str:
    """``template`` filled from the counter ``n`` (its last digits, zero-padded; unique while
    ``n`` fits) and the OPCO's ``letters`` (repeated): ``####@@######`` -> ``0000AK000042``."""
    digits = str(n).zfill(template.count("#"))[-template.count("#") :] if "#" in template else ""
    letters = "".join(ch for ch in letters.upper() if ch in ascii_uppercase) or "X"
    out: list[str] = []
    d = ell = 0
    for ch in template:
        if ch == "#":
            out.append(digits[d])
            d += 1
        elif ch == "@":
            out.append(letters[ell % len(letters)])
            ell += 1
        else:
            out.append(ch)
    return "".join(out)


class IdMinter:
    def __init__(self, formats: IdentifierFormats, opco: str) -> None:
        self._formats = formats
        self._opco = opco

    def numero_interne(self, n: int) -> str:
        template = self._formats.numero_interne
        return f"{n:012d}" if template is None else mint(template, n, self._opco)

    def numero_externe(self, n: int, year: int) -> str:
        template = self._formats.numero_externe
        if template is None:
            return f"{self._opco[:3]}-{year}-{n:08d}"
        if template == self._formats.numero_interne:  # the same id (MOBILITES's test host)
            return self.numero_interne(n)
        return mint(template, n, self._opco)

    def numero_interne_facture(self, n: int) -> str:
        template = self._formats.numero_interne_facture
        return f"F{n:011d}" if template is None else mint(template, n, self._opco)

    def numero_interne_document(self, n: int) -> str:
        template = self._formats.numero_interne_document
        return f"D{n:011d}" if template is None else mint(template, n, self._opco)
