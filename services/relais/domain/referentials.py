"""Referential data the control rules and routing read: IDCC -> OPCO, SMIC, apprentice wage grid.

Each lives in a data file under ``schemas/referentials/`` (replaceable without a code change:
the operator mounts newer files and points settings at them). ``load_referentials`` reads them
once at start; the rules receive the loaded ``Referentials`` and never touch the disk.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from relais.domain.npec import NpecTable
from relais.domain.routing import IdccTable

IDCC_FILE = "idcc-opco.csv"
SMIC_FILE = "smic.csv"
WAGE_GRID_FILE = "remuneration-apprentis.csv"


NPEC_FILE = "npec.csv"
"""The official NPEC referential (a France Compétences export), when the operator installs it."""
NPEC_SYNTHETIC_FILE = "npec-synthetic.csv"
"""The synthetic NPEC table shipped for tests and the demo (invented values)."""
VALID_UNTIL = "valid-until"


@dataclass(frozen=True)
class Validity:
    """What a referential file says about its own age (its ``# valid-until:`` header line)."""

    file: str
    valid_until: date | None
    """The last day the file is known to be right; ``None`` when it does not say."""

    def stale(self, today: date) -> bool:
        """Past its validity, or silent about it (a file that says nothing is not trusted)."""
        return self.valid_until is None or self.valid_until < today


def split_header(text: str) -> tuple[dict[str, str], str, int]:
    """The ``# key: value`` lines heading a referential file, its body, and how many lines the
    header took (so that errors name the file's own line numbers)."""
    meta: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    skipped = 0
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        skipped += 1
        key, sep, value = stripped.lstrip("#").partition(":")
        if sep and key.strip() and " " not in key.strip():
            meta[key.strip().lower()] = value.strip()
    return meta, "".join(lines[skipped:]), skipped


def validity_of(file: str, text: str) -> Validity:
    meta, _, _ = split_header(text)
    raw = meta.get(VALID_UNTIL, "")
    try:
        until = date.fromisoformat(raw) if raw else None
    except ValueError:
        until = None
    return Validity(file, until)


def stale_referentials(validities: tuple[Validity, ...], today: date) -> list[Validity]:
    return [v for v in validities if v.stale(today)]


def default_schemas_dir() -> Path:
    """The repository's ``schemas/`` folder (settings may point elsewhere, e.g. in an image)."""
    return Path(__file__).resolve().parents[3] / "schemas"


def referential(name: str, schemas_dir: Path | None = None) -> Path:
    return (schemas_dir or default_schemas_dir()) / "referentials" / name


@dataclass(frozen=True)
class SmicRate:
    date_effet: date
    mensuel: float
    """Gross monthly SMIC for 35 h/week (151.67 h)."""
    horaire: float
    mensuel_mayotte: float | None = None
    horaire_mayotte: float | None = None

    def monthly(self, *, mayotte: bool = False) -> float:
        if mayotte and self.mensuel_mayotte is not None:
            return self.mensuel_mayotte
        return self.mensuel


@dataclass(frozen=True)
class SmicTable:
    """SMIC values by effective date (``date_effet,mensuel_35h,horaire,...``), oldest first."""

    rates: tuple[SmicRate, ...] = ()

    @classmethod
    def from_csv_text(cls, text: str) -> SmicTable:
        rates: list[SmicRate] = []
        _, body, skipped = split_header(text)
        for line, row in enumerate(csv.DictReader(io.StringIO(body)), start=2 + skipped):
            try:
                rates.append(
                    SmicRate(
                        date_effet=date.fromisoformat(row["date_effet"]),
                        mensuel=float(row["mensuel_35h"]),
                        horaire=float(row["horaire"]),
                        mensuel_mayotte=_opt_float(row.get("mensuel_35h_mayotte")),
                        horaire_mayotte=_opt_float(row.get("horaire_mayotte")),
                    )
                )
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"SMIC referential line {line}: bad row") from None
        return cls(tuple(sorted(rates, key=lambda r: r.date_effet)))

    @classmethod
    def load(cls, path: Path) -> SmicTable:
        return cls.from_csv_text(path.read_text(encoding="utf-8"))

    def at(self, day: date) -> SmicRate | None:
        """The SMIC in force on ``day`` (None before the first known value)."""
        found: SmicRate | None = None
        for rate in self.rates:
            if rate.date_effet <= day:
                found = rate
            else:
                break
        return found


@dataclass(frozen=True)
class WageBand:
    annee: int
    age_min: int
    age_max: int | None
    taux: float


@dataclass(frozen=True)
class WageGrid:
    """Legal minimum apprentice wage, % of SMIC, by contract year and age (convergence-api 3.5)."""

    bands: tuple[WageBand, ...] = ()

    @classmethod
    def from_csv_text(cls, text: str) -> WageGrid:
        bands: list[WageBand] = []
        _, body, skipped = split_header(text)
        for line, row in enumerate(csv.DictReader(io.StringIO(body)), start=2 + skipped):
            try:
                age_max = row.get("age_max") or ""
                bands.append(
                    WageBand(
                        annee=int(row["annee"]),
                        age_min=int(row["age_min"]),
                        age_max=int(age_max) if age_max.strip() else None,
                        taux=float(row["taux"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"wage grid line {line}: bad row") from None
        return cls(tuple(bands))

    @classmethod
    def load(cls, path: Path) -> WageGrid:
        return cls.from_csv_text(path.read_text(encoding="utf-8"))

    def minimum(self, annee: int, age: int) -> float | None:
        """Minimum rate (%) in contract year ``annee`` (past the grid: its last year) at ``age``."""
        if not self.bands:
            return None
        last_year = max(b.annee for b in self.bands)
        year = min(max(annee, 1), last_year)
        for band in self.bands:
            if (
                band.annee == year
                and age >= band.age_min
                and (band.age_max is None or age <= band.age_max)
            ):
                return band.taux
        return None

    def bracket(self, age: int) -> int:
        """Index of the age bracket (0 = youngest) of ``age`` in the grid's first year."""
        bounds = sorted({b.age_min for b in self.bands})
        index = 0
        for i, bound in enumerate(bounds):
            if age >= bound:
                index = i
        return index


@dataclass(frozen=True)
class Referentials:
    idcc: IdccTable = field(default_factory=IdccTable)
    smic: SmicTable = field(default_factory=SmicTable)
    wage_grid: WageGrid = field(default_factory=WageGrid)
    npec: NpecTable = field(default_factory=NpecTable)
    validity: tuple[Validity, ...] = ()
    """What each file said about its age when loaded (``relais config check``, the start-up
    warning and the ``relais_referential_valid_until_timestamp_seconds`` gauge read it)."""


def npec_file(schemas_dir: Path | None = None) -> Path:
    """The official ``npec.csv`` when installed, else the synthetic table."""
    official = referential(NPEC_FILE, schemas_dir)
    return official if official.exists() else referential(NPEC_SYNTHETIC_FILE, schemas_dir)


def load_npec(schemas_dir: Path | None = None) -> NpecTable:
    path = npec_file(schemas_dir)
    synthetic = path.name == NPEC_SYNTHETIC_FILE
    return NpecTable.from_csv_text(path.read_text(encoding="utf-8"), synthetic=synthetic)


def referential_files(schemas_dir: Path | None = None) -> tuple[Path, ...]:
    """The files whose age relais watches."""
    return (
        referential(IDCC_FILE, schemas_dir),
        referential(SMIC_FILE, schemas_dir),
        referential(WAGE_GRID_FILE, schemas_dir),
        npec_file(schemas_dir),
    )


def read_validity(schemas_dir: Path | None = None) -> tuple[Validity, ...]:
    """Each watched file's validity; a missing or unreadable file says nothing (stale)."""
    out: list[Validity] = []
    for path in referential_files(schemas_dir):
        try:
            out.append(validity_of(path.name, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            out.append(Validity(path.name, None))
    return tuple(out)


def load_referentials(schemas_dir: Path | None = None) -> Referentials:
    """Read the referential files under ``<schemas_dir>/referentials/`` (default: the repo's)."""
    return Referentials(
        idcc=IdccTable.load(referential(IDCC_FILE, schemas_dir)),
        smic=SmicTable.load(referential(SMIC_FILE, schemas_dir)),
        wage_grid=WageGrid.load(referential(WAGE_GRID_FILE, schemas_dir)),
        npec=load_npec(schemas_dir),
        validity=read_validity(schemas_dir),
    )


def _opt_float(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    return float(value)
