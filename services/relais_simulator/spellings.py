"""The cerfa keys each OPCO spells its own way (``Quirks``, convergence-api.md 0): the simulator
reads the spelling of its profile and warns on the other one, never refuses it.

    cerfa_signature_key  CERFASignatureProbante | CERFAsignatureProbante   (the cerfa's top level)
    pratique_field       dateDebutFormationPratique | dateFormationPratiqueEmployeur  (contrat)

A warning, not a refusal: a real OPCO most likely drops an unknown key without a word (the flag or
the date silently lost), which is what the warning makes visible. It lands on the request's record
(``warnings``, the key names only: no value, no personal data), where a test asserts on it; the
dossier is still checked and stored as received (relais's rules read both spellings).
"""

from __future__ import annotations

from relais.domain.json_types import Json
from relais.domain.profiles import Quirks

SIGNATURE_KEYS = ("CERFASignatureProbante", "CERFAsignatureProbante")
PRATIQUE_KEYS = ("dateDebutFormationPratique", "dateFormationPratiqueEmployeur")


def _other(keys: tuple[str, str], wanted: str) -> str:
    return keys[1] if wanted == keys[0] else keys[0]


def spelling_warnings(cerfa: Json, quirks: Quirks) -> list[str]:
    """One line per key in the other OPCOs' spelling (empty: the body speaks this OPCO's)."""
    found: list[str] = []
    signature = _other(SIGNATURE_KEYS, quirks.cerfa_signature_key)
    if signature in cerfa:
        found.append(_warning(signature, quirks.cerfa_signature_key))
    contrat = cerfa.get("contrat")
    pratique = _other(PRATIQUE_KEYS, quirks.pratique_field)
    if isinstance(contrat, dict) and pratique in contrat:
        found.append(_warning(f"contrat.{pratique}", f"contrat.{quirks.pratique_field}"))
    return found


def _warning(seen: str, wanted: str) -> str:
    return f"{seen}: orthographe d'un autre OPCO, non lue (cet OPCO lit {wanted})"
