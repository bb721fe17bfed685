"""Order per dossier at the OPCO: what a simulator record sent, what a CFA event asks to send.

Both sides are labelled the same way (``dossier``, ``convention``, ``facture:<reference>``,
``certificat:<échéance>``, ``rupture``, ``avenant``), so a test compares, per CFA dossier, the
simulator's record (in ``seq`` order) with the publication order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

# The OPCO calls that send something (lookups are not sends), and how a record names what it sent.
SENDS = ("dossiers_post", "conventions", "factures", "certificats", "rupture")


def sent_label(
    record: dict[str, Any], numeros: dict[str, str], contracts: set[str]
) -> tuple[str, str] | None:
    """(CFA dossier id, what was sent) of a simulator record, or None if it names nothing (a fault
    answered before the OPCO read the request, or a lookup). ``numeros``: numeroInterne -> CFA
    dossier id; ``contracts``: the numeroInterne of the contracts (a dossier post creating another
    one is an avenant)."""
    route, ids = record["route"], record["ids"]
    if route not in SENDS:
        return None
    numero = ids.get("numeroInterne") or ids.get("numeroInterneDossier")
    if route == "factures":
        reference = ids.get("referenceFactureCFA")
        return (numeros[numero], f"facture:{reference}") if numero and reference else None
    if numero is None:
        return None
    if route == "certificats":
        return numeros[numero], f"certificat:{ids['numeroEcheance']}"
    label = {"dossiers_post": "dossier", "conventions": "convention", "rupture": "rupture"}
    if route == "dossiers_post" and numero not in contracts:
        return numeros[numero], "avenant"
    return numeros[numero], label[route]


def published_label(event: dict[str, Any]) -> str:
    data = event["data"]
    if "facture" in data:
        return f"facture:{data['facture']['referenceFactureCFA']}"
    if "certificat" in data:
        return f"certificat:{data['certificat']['echeance']['numero']}"
    for kind in ("convention", "rupture"):
        if kind in data:
            return kind
    return "avenant" if 31 <= data["cerfa"]["contrat"]["typeContratApp"] <= 38 else "dossier"


def received_order(
    records: list[dict[str, Any]], numeros: dict[str, str], contracts: set[str]
) -> dict[str, list[str]]:
    """Per CFA dossier id, what the OPCO received, in ``seq`` order; the attempts of one call
    (retries, a resend after a doubt) count once."""
    received: dict[str, list[str]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r["seq"]):
        named = sent_label(r, numeros, contracts)
        if named is None:
            continue
        dossier_id, label = named
        if not received[dossier_id] or received[dossier_id][-1] != label:
            received[dossier_id].append(label)
    return dict(received)
