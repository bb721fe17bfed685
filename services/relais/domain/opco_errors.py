"""A normalized OPCO error: what an OPCO says went wrong, whatever the shape of its error body.

Every OPCO has its own error body (``{"message": ...}``, ``{"errors": [{"code", "champ",
"libelle"}]}``, ``{"errors": {"champ": "message"}}``, RFC 7807 ``problem+json``...); the OPCO
adapter reads each into a tuple of ``OpcoErrorDetail``, bounded and sanitized (whitespace
collapsed, each text cut), and the CFA's status carries them (``opcoErrors``). The texts may name
the apprentice: they travel to the CFA's own status only, never into logs, metrics or errors.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpcoErrorDetail:
    """One error as the OPCO gave it: its code, its text, the field it is about (each optional)."""

    code: str | None
    message: str | None
    field: str | None
