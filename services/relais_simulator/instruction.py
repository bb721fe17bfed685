"""How an OPCO instructs: delays in simulated days and refusal shares, drawn deterministically
from the seed and the object (the same dossier or facture meets the same fate on every run)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def fraction(seed: int, text: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``text``."""
    h = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


@dataclass(slots=True)
class Instruction:
    """How the OPCO instructs: delays in simulated days, refusal share (deterministic)."""

    days_to_instruction: float = 1.0
    days_to_decision_min: int = 2
    days_to_decision_max: int = 3
    refusal_rate: float = 0.1
    facture_days_to_instruction: float = 1.0
    facture_days_to_payment: float = 2.0
    facture_refusal_rate: float = 0.0
    seed: int = 0

    def days_to_decision(self, natural_key: str) -> float:
        """Days from a dossier's creation to its decision (its natural key's digest)."""
        span = max(0, self.days_to_decision_max - self.days_to_decision_min)
        extra = int(fraction(self.seed + 1, natural_key) * (span + 1)) if span else 0
        return max(self.days_to_instruction, self.days_to_decision_min + extra)

    def refuses_dossier(self, natural_key: str) -> bool:
        return fraction(self.seed, natural_key) < self.refusal_rate

    def refuses_facture(self, cfa_siret: str, reference: str) -> bool:
        if reference.strip().upper().startswith("REFUS"):
            return True
        rate = self.facture_refusal_rate
        return rate > 0 and fraction(self.seed + 2, f"{cfa_siret}:{reference}") < rate
