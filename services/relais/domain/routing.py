"""Which OPCO is competent for a dossier: the employer's branch (IDCC) -> OPCO, or an explicit OPCO.

The IDCC -> OPCO table is data (``schemas/referentials/idcc-opco.csv``, columns ``idcc,opco``),
replaceable without a code change (France Compétences publishes the referential). An OPCO named
explicitly by the CFA wins over the table; without one, IDCC 9999 (no collective agreement),
9998 (agreement under negotiation) or an IDCC missing from the table is an error on
``employeur.codeIdcc``: relais cannot guess, the CFA must name the OPCO.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from relais.domain.findings import Finding, error, warning
from relais.domain.opco import OpcoCode

IDCC_PATH = "employeur.codeIdcc"
NO_AGREEMENT = {
    "9999": "aucune convention collective",
    "9998": "convention en cours de négociation",
}

_IDCC_RE = re.compile(r"^[0-9]{1,4}$")

_OPCO_ALIASES: dict[str, OpcoCode] = {
    "OPCOATLAS": OpcoCode.ATLAS,
    "LOPCOMMERCE": OpcoCode.OPCOMMERCE,
    "OPCOCOMMERCE": OpcoCode.OPCOMMERCE,
    "OPCOMOBILITES": OpcoCode.MOBILITES,
    "OPCOMOBILITE": OpcoCode.MOBILITES,
    "OPCOSANTE": OpcoCode.SANTE,
    "OPCOCONSTRUCTION": OpcoCode.CONSTRUCTYS,
    "OPCOCOHESIONSOCIALE": OpcoCode.UNIFORMATION,
    "UNIFORMATIONCOHESIONSOCIALE": OpcoCode.UNIFORMATION,
    "OPCOENTREPRISESDEPROXIMITE": OpcoCode.OPCOEP,
}


def normalize_idcc(value: object) -> str | None:
    """``"43"``, ``43``, ``"0043"`` -> ``"0043"``; anything that is not 1-4 digits -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if not _IDCC_RE.match(text):
        return None
    return text.zfill(4)


def parse_opco(value: object) -> OpcoCode | None:
    """An OPCO code from its code or a usual label (``"OPCO EP"``, ``"L'Opcommerce"``...)."""
    if not isinstance(value, str):
        return None
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().upper()
    key = re.sub(r"[^A-Z0-9]", "", folded)
    if key in OpcoCode.__members__:
        return OpcoCode(key)
    return _OPCO_ALIASES.get(key)


@dataclass(frozen=True)
class IdccTable:
    """IDCC (4 characters, zero-padded) -> competent OPCO."""

    entries: Mapping[str, OpcoCode] = field(default_factory=dict)

    @classmethod
    def from_csv_text(cls, text: str) -> IdccTable:
        """Read ``idcc,opco`` rows (header required; OPCO by code or usual label).

        Raises ``ValueError`` naming the line of a bad row: a broken referential is a
        configuration error, found at start.
        """
        skipped = 0
        lines = text.splitlines(keepends=True)
        while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
            skipped += 1  # the file's "# valid-until:" header (relais.domain.referentials)
        reader = csv.DictReader(io.StringIO("".join(lines[skipped:])))
        if reader.fieldnames is None or not {"idcc", "opco"} <= set(reader.fieldnames):
            raise ValueError("IDCC referential: header 'idcc,opco' expected")
        entries: dict[str, OpcoCode] = {}
        for line, row in enumerate(reader, start=2 + skipped):
            idcc = normalize_idcc(row.get("idcc"))
            opco = parse_opco(row.get("opco"))
            if idcc is None or opco is None:
                raise ValueError(f"IDCC referential line {line}: bad idcc or unknown OPCO")
            entries[idcc] = opco
        return cls(entries)

    @classmethod
    def load(cls, path: Path) -> IdccTable:
        return cls.from_csv_text(path.read_text(encoding="utf-8"))

    def lookup(self, idcc: object) -> OpcoCode | None:
        key = normalize_idcc(idcc)
        return None if key is None else self.entries.get(key)

    def __len__(self) -> int:
        return len(self.entries)


def route_idcc(idcc: object, table: IdccTable) -> OpcoCode | None:
    """The OPCO of an IDCC, or None when the table does not know it (or for 9999/9998)."""
    key = normalize_idcc(idcc)
    if key is None or key in NO_AGREEMENT:
        return None
    return table.lookup(key)


def resolve_opco(
    idcc: object, table: IdccTable, explicit_opco: object = None
) -> tuple[OpcoCode | None, list[Finding]]:
    """The competent OPCO and the findings explaining a failure (or a doubt).

    An explicit OPCO wins; it is only doubted (warning) when the IDCC points elsewhere.
    """
    findings: list[Finding] = []
    key = normalize_idcc(idcc)
    from_table = route_idcc(idcc, table)
    if explicit_opco is not None:
        chosen = parse_opco(explicit_opco)
        if chosen is None:
            findings.append(
                error("OPCO_INCONNU", "opco", "L'OPCO indiqué ne fait pas partie des 11 OPCO.")
            )
            return None, findings
        if from_table is not None and from_table != chosen:
            findings.append(
                warning(
                    "OPCO_DIFFERENT_IDCC",
                    IDCC_PATH,
                    "L'OPCO indiqué n'est pas celui que le référentiel associe à cet IDCC "
                    "(possible pour une branche répartie entre plusieurs OPCO ; à vérifier).",
                )
            )
        elif key is not None and key not in NO_AGREEMENT and from_table is None:
            findings.append(
                warning(
                    "EMPLOYEUR_IDCC_HORS_REFERENTIEL",
                    IDCC_PATH,
                    "Cet IDCC est absent du référentiel IDCC -> OPCO ; l'OPCO indiqué est retenu.",
                )
            )
        return chosen, findings
    if key is None:
        # Missing or malformed IDCC: the format/required rules already report it.
        return None, findings
    if key in NO_AGREEMENT:
        findings.append(
            error(
                "EMPLOYEUR_IDCC_SANS_OPCO",
                IDCC_PATH,
                f"IDCC {key} ({NO_AGREEMENT[key]}) : l'OPCO ne peut pas être déduit de la "
                "convention collective ; indiquez l'OPCO compétent.",
            )
        )
        return None, findings
    if from_table is None:
        findings.append(
            error(
                "EMPLOYEUR_IDCC_INCONNU",
                IDCC_PATH,
                "Cet IDCC est absent du référentiel IDCC -> OPCO : vérifiez le code ou indiquez "
                "l'OPCO compétent.",
            )
        )
        return None, findings
    return from_table, findings
