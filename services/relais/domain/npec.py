"""The NPEC referential (niveau de prise en charge, convergence-api.md 3.6): the annual amount an
OPCO finances for a certification under an employer's IDCC.

One row per (certification, IDCC, date d'applicabilité): ``certification`` is RNCP digits (an
``RNCP`` prefix is dropped) or a CFD, ``*`` for any; ``idcc`` a 4-digit code, ``*`` for any, or a
``;`` list. The most specific row wins ((cert, idcc) > (cert, *) > (*, idcc) > (*, *), the last
being the "valeur d'amorçage"), in its version applicable at the contract's ``dateConclusion``.

The file is ``schemas/referentials/npec.csv`` when the operator installs France Compétences' export,
else the shipped ``npec-synthetic.csv`` (invented values: ``synthetic`` is then true and findings
say so). Money is integer cents.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

WILDCARD = "*"
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class NpecRow:
    certification: str
    idcc: str
    npec_cents: int
    since: date


@dataclass(frozen=True, slots=True)
class NpecMatch:
    npec_cents: int
    certification: str
    idcc: str
    since: date
    synthetic: bool


def normalise_certification(value: object) -> str:
    text = str(value or "").strip().upper()
    return text[4:] if text.startswith("RNCP") else text


def normalise_idcc(value: object) -> str:
    text = str(value or "").strip()
    if text == WILDCARD:
        return text
    return text.zfill(4) if text.isascii() and text.isdigit() else text


@dataclass(frozen=True)
class NpecTable:
    rows: dict[tuple[str, str], tuple[NpecRow, ...]] = field(default_factory=dict)
    synthetic: bool = False

    @classmethod
    def from_rows(cls, rows: Iterable[NpecRow], *, synthetic: bool = False) -> NpecTable:
        grouped: dict[tuple[str, str], list[NpecRow]] = {}
        for row in rows:
            grouped.setdefault((row.certification, row.idcc), []).append(row)
        return cls(
            {k: tuple(sorted(v, key=lambda r: r.since)) for k, v in grouped.items()},
            synthetic=synthetic,
        )

    @classmethod
    def from_csv_text(cls, text: str, *, synthetic: bool = False) -> NpecTable:
        """Rows ``certification|rncp, idcc, npec, date_applicabilite``; ``#`` lines skipped.

        Raises ``ValueError`` naming the line of a bad row (a configuration error, found at start).
        """
        numbered = [
            (n, line)
            for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if len(numbered) > MAX_ROWS:
            raise ValueError(f"NPEC referential: more than {MAX_ROWS} rows")
        reader = csv.DictReader(io.StringIO("\n".join(line for _, line in numbered)))
        rows: list[NpecRow] = []
        for (line, _), raw in zip(numbered[1:], reader, strict=False):
            try:
                cert = raw.get("certification") or raw.get("rncp") or WILDCARD
                since = date.fromisoformat((raw.get("date_applicabilite") or "2019-01-01")[:10])
                cents = round(float(raw["npec"]) * 100)
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"NPEC referential line {line}: bad row") from None
            if cents <= 0:
                raise ValueError(f"NPEC referential line {line}: NPEC not positive")
            for idcc in (raw.get("idcc") or WILDCARD).replace(",", ";").split(";"):
                rows.append(
                    NpecRow(
                        normalise_certification(cert) or WILDCARD,
                        normalise_idcc(idcc),
                        cents,
                        since,
                    )
                )
        return cls.from_rows(rows, synthetic=synthetic)

    def __len__(self) -> int:
        return sum(len(v) for v in self.rows.values())

    def lookup(self, certifications: Iterable[object], idcc: object, at: date) -> NpecMatch | None:
        """The most specific row's version applicable at ``at`` (its first one before that)."""
        certs = [c for c in (normalise_certification(x) for x in certifications) if c]
        idcc_n = normalise_idcc(idcc) or WILDCARD
        keys = [(c, idcc_n) for c in certs] + [(c, WILDCARD) for c in certs]
        keys += [(WILDCARD, idcc_n), (WILDCARD, WILDCARD)]
        for key in keys:
            versions = self.rows.get(key)
            if not versions:
                continue
            applicable = [r for r in versions if r.since <= at] or list(versions[:1])
            row = applicable[-1]
            return NpecMatch(row.npec_cents, row.certification, row.idcc, row.since, self.synthetic)
        return None
