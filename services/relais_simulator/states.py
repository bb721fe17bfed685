"""The dossier and facture state machines of an OPCO (convergence README, "Dossier etats").

dossier:  TRANSMIS -> EN_COURS_INSTRUCTION -> ENGAGE | REFUSE
          TRANSMIS | EN_COURS_INSTRUCTION -> ANNULE
          ENGAGE -> RUPTURE (rupture route) | SOLDE (every échéance paid)
facture:  TRANSMIS -> EN_COURS_INSTRUCTION -> REGLE | REFUSE
"""

from __future__ import annotations

from enum import StrEnum


class DossierEtat(StrEnum):
    TRANSMIS = "TRANSMIS"
    EN_COURS_INSTRUCTION = "EN_COURS_INSTRUCTION"
    ENGAGE = "ENGAGE"
    REFUSE = "REFUSE"
    ANNULE = "ANNULE"
    RUPTURE = "RUPTURE"
    SOLDE = "SOLDE"


class FactureEtat(StrEnum):
    TRANSMIS = "TRANSMIS"
    EN_COURS_INSTRUCTION = "EN_COURS_INSTRUCTION"
    REGLE = "REGLE"
    REFUSE = "REFUSE"


DOSSIER_TRANSITIONS: dict[DossierEtat, frozenset[DossierEtat]] = {
    DossierEtat.TRANSMIS: frozenset({DossierEtat.EN_COURS_INSTRUCTION, DossierEtat.ANNULE}),
    DossierEtat.EN_COURS_INSTRUCTION: frozenset(
        {DossierEtat.ENGAGE, DossierEtat.REFUSE, DossierEtat.ANNULE}
    ),
    DossierEtat.ENGAGE: frozenset({DossierEtat.RUPTURE, DossierEtat.SOLDE}),
    DossierEtat.REFUSE: frozenset(),
    DossierEtat.ANNULE: frozenset(),
    DossierEtat.RUPTURE: frozenset(),
    DossierEtat.SOLDE: frozenset(),
}

FACTURE_TRANSITIONS: dict[FactureEtat, frozenset[FactureEtat]] = {
    FactureEtat.TRANSMIS: frozenset({FactureEtat.EN_COURS_INSTRUCTION}),
    FactureEtat.EN_COURS_INSTRUCTION: frozenset({FactureEtat.REGLE, FactureEtat.REFUSE}),
    FactureEtat.REGLE: frozenset(),
    FactureEtat.REFUSE: frozenset(),
}


class TransitionError(ValueError):
    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"{kind}: transition {current} -> {target} not allowed")
        self.current = current
        self.target = target


def dossier_transition(current: DossierEtat, target: DossierEtat) -> DossierEtat:
    if target not in DOSSIER_TRANSITIONS[current]:
        raise TransitionError("dossier", current, target)
    return target


def facture_transition(current: FactureEtat, target: FactureEtat) -> FactureEtat:
    if target not in FACTURE_TRANSITIONS[current]:
        raise TransitionError("facture", current, target)
    return target


def is_final(etat: DossierEtat) -> bool:
    return not DOSSIER_TRANSITIONS[etat]
