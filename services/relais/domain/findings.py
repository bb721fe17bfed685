"""A finding: one thing wrong (error) or doubtful (warning) about a payload, at one field path.

Paths are dotted from the validated object with list indexes in brackets:
``apprenti.nir``, ``contrat.remunerationsAnnuelles[0].taux``. Codes are stable identifiers a CFA's
software can map; messages are French sentences a CFA user understands and never carry the value
itself (no NIR, name, birth date or IBAN in a finding).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

Loc = Sequence[str | int]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


def error(code: str, path: str, message: str) -> Finding:
    return Finding(code, ERROR, path, message)


def warning(code: str, path: str, message: str) -> Finding:
    return Finding(code, WARNING, path, message)


def path_of(loc: Loc) -> str:
    """A pydantic ``loc`` as a path: ``("contrat", "r", 0, "taux")`` -> ``contrat.r[0].taux``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def join(base: str, *parts: str | int) -> str:
    """Extend a path: ``join("contrat", "remunerationsAnnuelles", 0)``."""
    out = base
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def is_under(path: str, prefix: str) -> bool:
    """``apprenti.nir`` is under ``apprenti`` and under itself; ``apprentiX`` is not."""
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop exact repeats, keep the first occurrence's order."""
    seen: set[Finding] = set()
    out: list[Finding] = []
    for f in findings:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out
