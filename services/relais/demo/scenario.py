"""The demo's stream of CFA events, built with ``relais.sampledata.Generator``.

Two parts, as a CFA network would send them:

- **at once**: new contracts for employers of every OPCO (from several CFA; an OPCO without a
  dossier route answers "not implemented"), the convention of most of them a little later, a few
  invalid dossiers (each breaks one control rule), and one record that is not even JSON;
- **after the OPCO engaged a dossier** (seen through relais's status events): factures (one
  dossier, or two dossiers of the same CFA and OPCO), an avenant, a rupture, a certificat. Each
  goes to an OPCO whose profile has the route, and to a dossier nobody else uses.

Counts follow ``events``: the total published is ``events`` unless some follow-ups find no engaged
dossier (refusals), in which case the summary says how many were skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import OpcoProfile
from relais.sampledata import GeneratedDossier, Generator, InvalidKind

Json = dict[str, Any]

# Invalid dossiers shown in the demo: each breaks one rule, relais answers "rejected".
INVALID_KINDS: tuple[InvalidKind, ...] = (
    InvalidKind.NIR_KEY,
    InvalidKind.SIRET_LUHN,
    InvalidKind.APPRENTI_TOO_OLD,
    InvalidKind.WAGE_BELOW_MINIMUM,
    InvalidKind.FIN_BEFORE_DEBUT,
    InvalidKind.MAITRE1_MISSING,
    InvalidKind.UAI_LETTER,
    InvalidKind.COURRIEL,
)


@dataclass
class Planned:
    """One CFA event to publish: the structured event, or a raw value for broken records."""

    event: Json
    kind: str
    label: str
    expected: str | None = None
    raw_value: bytes | None = None  # sent instead of the JSON of ``data`` (undecodable record)
    opco: str | None = None

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def subject(self) -> str:
        return str(self.event["subject"])

    @property
    def cfa(self) -> str:
        return str(self.event["source"]).rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Engaged:
    """A dossier the OPCO engaged, as the demo learnt it from status events."""

    cfa: str
    dossier_id: str
    opco: str
    numero_interne: str


@dataclass
class Scenario:
    generator: Generator
    profiles: Mapping[OpcoCode, OpcoProfile]
    immediate: list[Planned] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)  # follow-ups still to place
    dossiers: dict[tuple[str, str], GeneratedDossier] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(default_factory=set)
    waiting_pair: dict[tuple[str, str], Engaged] = field(default_factory=dict)

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def build(
        cls, generator: Generator, profiles: Mapping[OpcoCode, OpcoProfile], events: int
    ) -> Scenario:
        """Exactly ``events`` events: the immediate ones plus the follow-up slots."""
        s = cls(generator=generator, profiles=profiles)
        cfas = generator.cfas
        n_invalid = 0 if events < 8 else min(len(INVALID_KINDS), max(1, round(events * 0.03)))
        n_broken = 1 if events >= 20 else 0  # a record that is not JSON
        if events >= 40:
            slots = ["avenant", "rupture", "certificat", "facture2", "facture2"]
            slots += ["facture"] * max(0, round(events * 0.13) - 2)
        elif events >= 12:
            slots = ["facture"] * max(1, events // 10)
        else:
            slots = []
        s.slots = slots
        rest = events - n_invalid - n_broken - len(slots)
        n_dossiers = max(1, math.ceil(rest / 1.6))
        n_conventions = rest - n_dossiers
        start = generator.today - timedelta(days=2)  # started: the first échéance is open
        later: list[tuple[int, Planned]] = []
        made = 0
        i = 0
        while made < rest:
            opco = ALL_OPCO[i % len(ALL_OPCO)]
            cfa = cfas[i % len(cfas)]
            i += 1
            d = generator.dossier(opco, cfa=cfa, start=start)
            s.dossiers[(d.cfa.siret, d.dossier_id)] = d
            caps = profiles[opco].capabilities
            # An OPCO without a dossier route (SANTE) answers 501: relais says "failed" at once.
            expected = "submitted" if caps.dossiers_v1 or caps.dossiers_v2 else "failed"
            label = f"contrat {opco}" + ("" if expected == "submitted" else " (no route)")
            s.immediate.append(Planned(d.event, "dossier", label, expected, opco=opco.value))
            made += 1
            room = rest - made
            if n_conventions > 0 and room > 0 and profiles[opco].capabilities.conventions:
                n_conventions -= 1
                made += 1
                conv = Planned(
                    generator.convention(d), "convention", "convention", "submitted", opco=opco
                )
                later.append((len(s.immediate) + 4, conv))
            while later and later[0][0] <= len(s.immediate):
                s.immediate.append(later.pop(0)[1])
        s.immediate.extend(p for _, p in later)
        for n in range(n_invalid):
            kind = INVALID_KINDS[n % len(INVALID_KINDS)]
            bad = generator.invalid_dossier(kind, ALL_OPCO[(n * 3) % len(ALL_OPCO)])
            position = 1 + (n + 1) * len(s.immediate) // (n_invalid + 1)
            s.immediate.insert(
                position, Planned(bad.event, "dossier", f"invalid {kind.value}", "rejected")
            )
        if n_broken:
            d = generator.dossier(ALL_OPCO[0], cfa=cfas[0], start=start)
            s.immediate.insert(
                len(s.immediate) // 2,
                Planned(d.event, "dossier", "not JSON", "dead_lettered", raw_value=b"{cerfa: ?"),
            )
        return s

    # -- follow-ups ------------------------------------------------------------------------------

    def _fits(self, slot: str, opco: OpcoCode) -> bool:
        caps = self.profiles[opco].capabilities
        return {
            "facture": caps.factures and caps.factures_etats,
            "facture2": caps.factures and caps.factures_etats,
            "avenant": caps.dossiers_etats,
            "rupture": caps.rupture and caps.dossiers_etats,
            "certificat": caps.certificats,
        }[slot]

    def place(self, engaged: Engaged) -> tuple[str, list[GeneratedDossier]] | None:
        """A follow-up slot for a newly engaged dossier: (slot, dossiers it covers), or None."""
        key = (engaged.cfa, engaged.dossier_id)
        d = self.dossiers.get(key)
        if d is None or key in self.used:
            return None
        opco = OpcoCode(engaged.opco)
        pair_key = (engaged.cfa, engaged.opco)
        partner = self.waiting_pair.get(pair_key)
        if partner is not None and "facture2" in self.slots:
            self.waiting_pair.pop(pair_key)
            self.slots.remove("facture2")
            self.used.add(key)
            return "facture2", [self.dossiers[(partner.cfa, partner.dossier_id)], d]
        for slot in ("certificat", "rupture", "avenant", "facture2", "facture"):
            if slot in self.slots and self._fits(slot, opco):
                self.used.add(key)
                if slot == "facture2":
                    if pair_key in self.waiting_pair:
                        continue
                    self.waiting_pair[pair_key] = engaged
                    return None
                self.slots.remove(slot)
                return slot, [d]
        return None

    def release_waiting(self) -> list[tuple[str, list[GeneratedDossier]]]:
        """At the end: lone dossiers waiting for a pair become single-dossier factures."""
        out = []
        for pair_key, engaged in list(self.waiting_pair.items()):
            self.waiting_pair.pop(pair_key)
            if "facture2" in self.slots:
                self.slots.remove("facture2")
                out.append(("facture", [self.dossiers[(engaged.cfa, engaged.dossier_id)]]))
        return out

    def follow_up(
        self,
        slot: str,
        dossiers: list[GeneratedDossier],
        *,
        montants: Mapping[str, float],
        numero_deca: str | None = None,
    ) -> Planned:
        g = self.generator
        d = dossiers[0]
        if slot in ("facture", "facture2"):
            event = g.facture(dossiers, montants=montants)
            label = "facture" if len(dossiers) == 1 else f"facture x{len(dossiers)}"
            return Planned(event, "facture", label, "submitted", opco=d.opco.value)
        if slot == "avenant":
            avenant = g.avenant(d, 36, no_contrat=numero_deca)
            return Planned(avenant.event, "dossier", "avenant", "submitted", opco=d.opco.value)
        if slot == "rupture":
            return Planned(g.rupture(d), "rupture", "rupture", "submitted", opco=d.opco.value)
        return Planned(g.certificat(d), "certificat", "certificat", None, opco=d.opco.value)
