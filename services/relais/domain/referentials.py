"""Where the referential data files live (IDCC -> OPCO, SMIC, OPCO profiles, NPEC)."""

from __future__ import annotations

from pathlib import Path


def default_schemas_dir() -> Path:
    """The repository's ``schemas/`` folder (settings may point elsewhere, e.g. in an image)."""
    return Path(__file__).resolve().parents[3] / "schemas"


def referential(name: str, schemas_dir: Path | None = None) -> Path:
    return (schemas_dir or default_schemas_dir()) / "referentials" / name
