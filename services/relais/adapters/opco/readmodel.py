"""Reading what an OPCO returns: the per-OPCO differences undone, dates parsed leniently.

* ``natureFrais`` / ``nature`` values compared case-insensitively: normalised to upper case
  (``"Restauration"`` -> ``"RESTAURATION"``);
* ``IBAN`` keys renamed ``iban`` (AKTO answers ``IBAN``);
* one-element arrays wrapping an object unwrapped (done by ``pages.unwrap`` where relevant).
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from relais.domain.dates import parse_date as domain_parse_date
from relais.domain.dossier_read import read_dossier
from relais.services.opco_port import DossierEtat, FactureEtat

NATURE_KEYS = frozenset({"natureFrais", "nature"})


def normalise(value: Any) -> Any:
    """A copy of an OPCO answer with the casing quirks undone (recursively)."""
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = "iban" if key == "IBAN" and "iban" not in value else key
        if name in NATURE_KEYS and isinstance(item, str):
            out[name] = item.strip().upper()
        else:
            out[name] = normalise(item)
    return out


def dossier_etat(item: dict[str, Any]) -> DossierEtat:
    return DossierEtat(
        numero_interne=str(item.get("numeroInterne", "")),
        numero_externe=_opt_str(item.get("numeroExterne")),
        numero_deca=_opt_str(item.get("numeroDeca")),
        etat=str(item.get("etat", "")).upper(),
        commentaire=_opt_str(item.get("commentaireEtat")),
    )


def facture_etat(item: dict[str, Any]) -> FactureEtat:
    body = normalise(item)
    return FactureEtat(
        numero_interne_facture=str(body.get("numeroInterneFacture", "")),
        reference_facture_cfa=_opt_str(body.get("referenceFactureCFA")),
        etat=str(body.get("etatFacture", body.get("etat", ""))).upper(),
        body=body,
    )


def parse_date(value: Any) -> date | None:
    """A lenient wire date (``2026-09-01``, ``...T00:00:00Z``, ``+0000``, ``+00:00``) or None."""
    try:
        return domain_parse_date(value)
    except ValueError:
        return None


def same_name(a: Any, b: Any) -> bool:
    """Names compared without case, accents, spaces, hyphens or apostrophes."""
    return isinstance(a, str) and isinstance(b, str) and _fold(a) == _fold(b) != ""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    letters = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in letters if c.isalnum()).casefold()


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# The whole read model of a dossier (échéances with their amounts and codification, billing
# details, frais annexes), parsed from what ``normalise`` gives back: ``domain/dossier_read.py``
# (pure, so dispatch's money checks read it too).
__all__ = ["dossier_etat", "facture_etat", "normalise", "parse_date", "read_dossier", "same_name"]
