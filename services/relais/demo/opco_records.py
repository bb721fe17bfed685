"""The simulator's request record as the demo's invariants read it: what makes two creations the
same object at the OPCO (its own duplicate rules), so an object created twice is a duplicate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

_IDENTITY = {
    "conventions": ("numeroInterneDossier",),
    "factures": ("referenceFactureCFA",),
    "rupture": ("numeroInterne",),
    "certificats": ("numeroInterneDossier", "numeroEcheance"),
}


def _identity(record: Mapping[str, Any]) -> str:
    """What makes two creations the same object (the simulator's own duplicate rules)."""
    ids = record.get("ids") or {}
    file = record.get("file") or {}
    if record.get("route") == "documents" and file.get("sha256"):
        # the same file for the same objects (typeFichier aside: one file is one document here)
        objets = sorted(f"{k}={v}" for k, v in ids.items() if k != "numeroInterneDocument")
        return f"{record.get('cfaSiret')}|" + "|".join([*objets, str(file["sha256"])])
    names = _IDENTITY.get(str(record.get("route")))
    if names and all(n in ids for n in names):
        return f"{record.get('cfaSiret')}|" + "|".join(str(ids[n]) for n in names)
    if record.get("naturalKey"):
        return str(record["naturalKey"])
    return "|".join(f"{k}={v}" for k, v in sorted(ids.items()))


def created_twice(records: list[Mapping[str, Any]]) -> list[str]:
    """The objects the simulator created more than once (``opco:route:identity``)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for r in records:
        if r.get("created"):
            seen[(str(r.get("opco")), str(r.get("route")), _identity(r))] += 1
    return [f"{o}:{route}:{ident}" for (o, route, ident), n in sorted(seen.items()) if n > 1]
