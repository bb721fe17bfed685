"""Shared helpers for the domain tests: the referentials, a valid dossier, a mutator, a runner."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from relais.domain.referentials import Referentials, load_referentials
from relais.domain.validation import ValidationReport, validate_cerfa

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TODAY = date(2026, 11, 27)

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def set_path(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set (or with ``...`` delete) the value at a dotted path like ``contrat.x[0].taux``."""
    keys: list[str | int] = [int(idx) if idx else name for name, idx in _TOKEN.findall(path)]
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return doc


def set_birth(doc: dict[str, Any], birth: date) -> dict[str, Any]:
    """Give the apprentice another birth date, with a NIR that stays consistent with it."""
    from relais.domain.rules.identifiers import nir_key

    sex = "1" if doc["apprenti"].get("sexe") == "M" else "2"
    nir13 = f"{sex}{birth.year % 100:02d}{birth.month:02d}75123456"
    doc["apprenti"]["nir"] = f"{nir13}{nir_key(nir13):02d}"
    doc["apprenti"]["departementNaissance"] = "75"
    doc["apprenti"]["dateNaissance"] = birth.isoformat()
    return doc


def load_example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "dossiers" / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def refs() -> Referentials:
    return load_referentials()


@pytest.fixture(scope="session")
def _initial() -> dict[str, Any]:
    return load_example("initial-11.json")


@pytest.fixture
def dossier(_initial: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the valid initial contract (no error, no warning on TODAY)."""
    return copy.deepcopy(_initial)


Run = Callable[..., ValidationReport]


@pytest.fixture
def run(refs: Referentials) -> Run:
    def _run(doc: object, today: date = TODAY, opco: str | None = None) -> ValidationReport:
        return validate_cerfa(doc, today=today, referentials=refs, explicit_opco=opco)

    return _run


def codes(report: ValidationReport) -> set[tuple[str, str, str]]:
    """(severity, code, path) of every finding."""
    return {(f.severity, f.code, f.path) for f in report.findings}


def only_codes(report: ValidationReport) -> set[str]:
    return {f.code for f in report.findings}
