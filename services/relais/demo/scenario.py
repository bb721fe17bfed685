"""The demo's stream of CFA events, built with ``relais.sampledata.Generator``.

Two parts, as a CFA network would send them:

- **at once**: new contracts for employers of every OPCO (from several CFA; an OPCO without a
  dossier route answers "not implemented"), the convention of most of them a little later, for
  some of those a further document (a PDF in the CFA's file store, each ``typeFichier`` in turn,
  sent by relais once the dossier has its OPCO id), a few
  invalid dossiers (each breaks one control rule), and one record that is not even JSON;
- **after the OPCO engaged a dossier** (seen through relais's status events): factures (one
  dossier, or two dossiers of the same CFA and OPCO), an avenant, a rupture, a certificat. Each
  follow-up is planned on its own dossier(s), at an OPCO whose profile has the route and lets relais
  follow the outcome. When the OPCO refuses a planned dossier, the follow-up moves to another
  engaged dossier that fits, or is skipped (the summary counts skipped follow-ups).

The total published is exactly ``events`` unless follow-ups had to be skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from relais.domain.document_event import TYPES_FICHIER, TypeFichier
from relais.domain.json_types import Json
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import OpcoProfile
from relais.sampledata import GeneratedDossier, Generator, InvalidKind

Key = tuple[str, str]  # (CFA SIRET, CFA dossier id)

_FOLLOW_UPS = ("facture", "avenant", "rupture", "certificat")

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
class Slot:
    """A follow-up to send once its dossier(s) are engaged."""

    kind: str  # facture | avenant | rupture | certificat
    targets: list[Key]  # planned dossiers (two for a two-dossier facture)
    engaged: set[Key] = field(default_factory=set)


@dataclass
class Scenario:
    generator: Generator
    profiles: Mapping[OpcoCode, OpcoProfile]
    immediate: list[Planned] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)  # follow-ups still to send
    dossiers: dict[Key, GeneratedDossier] = field(default_factory=dict)
    used: set[Key] = field(default_factory=set)  # dossiers carrying (or done with) a follow-up
    skipped: int = 0
    documents: dict[str, TypeFichier] = field(default_factory=dict)  # dossier id -> its document

    # -- what fits where -------------------------------------------------------------------------

    def fits(self, kind: str, opco: OpcoCode) -> bool:
        caps = self.profiles[opco].capabilities
        return {
            "facture": caps.factures and caps.factures_etats,
            "avenant": (caps.dossiers_v1 or caps.dossiers_v2) and caps.dossiers_etats,
            "rupture": caps.rupture and caps.dossiers_etats,
            "certificat": caps.certificats and caps.dossiers_etats,
        }[kind]

    def _opcos_for(self, kind: str) -> list[OpcoCode]:
        return [o for o in ALL_OPCO if self.fits(kind, o)]

    # -- building --------------------------------------------------------------------------------

    @classmethod
    def build(
        cls, generator: Generator, profiles: Mapping[OpcoCode, OpcoProfile], events: int
    ) -> Scenario:
        """Exactly ``events`` events: the immediate ones plus the follow-ups."""
        s = cls(generator=generator, profiles=profiles)
        n_invalid = 0 if events < 8 else min(len(INVALID_KINDS), max(1, round(events * 0.03)))
        n_broken = 1 if events >= 20 else 0  # a record that is not JSON
        if events >= 40:
            kinds = ["avenant", "rupture", "certificat", "facture2", "facture2"]
            kinds += ["facture"] * max(0, round(events * 0.13) - 2)
        elif events >= 12:
            kinds = ["facture"] * max(1, events // 10)
        else:
            kinds = []
        kinds = [k for k in kinds if s._opcos_for(k.rstrip("2"))]
        start = generator.today - timedelta(days=2)  # started: the first échéance is open
        budget = events - n_invalid - n_broken
        planned, budget = s._plan_follow_ups(kinds, budget, start)
        with_convention: set[str] = {d.dossier_id for d in planned}
        general = s._plan_contracts(budget, start, with_convention)
        s._queue(general, planned, with_convention)
        s._add_bad_records(n_invalid, n_broken, start)
        return s

    def _new_dossier(self, opco: OpcoCode, cfa_index: int, start: date) -> GeneratedDossier:
        cfas = self.generator.cfas
        d = self.generator.dossier(opco, cfa=cfas[cfa_index % len(cfas)], start=start)
        self.dossiers[(d.cfa.siret, d.dossier_id)] = d
        return d

    def _plan_follow_ups(
        self, kinds: list[str], budget: int, start: date
    ) -> tuple[list[GeneratedDossier], int]:
        """Dossiers planned for a follow-up, each with its convention (the OPCO's engagement takes
        the convention's costs into account): a follow-up costs 1 + 2 per dossier it covers.
        (the planned dossiers, the budget left)."""
        planned: list[GeneratedDossier] = []
        rotation = {k: itertools.cycle(self._opcos_for(k)) for k in _FOLLOW_UPS}
        for n, kind in enumerate(kinds):
            base = kind.rstrip("2")
            count = 2 if kind == "facture2" else 1
            if budget < 1 + 2 * count + 1:  # keep room for at least one plain contract
                break
            opco = next(rotation[base])
            targets = [self._new_dossier(opco, n, start) for _ in range(count)]
            planned.extend(targets)
            budget -= 1 + 2 * count
            self.slots.append(Slot(base, [(d.cfa.siret, d.dossier_id) for d in targets]))
        return planned, budget

    def _plan_contracts(
        self, budget: int, start: date, with_convention: set[str]
    ) -> list[GeneratedDossier]:
        """Contracts for employers of every OPCO and conventions for most, filling the budget
        (the dossiers given a convention are added to ``with_convention``)."""
        general: list[GeneratedDossier] = []
        conventions = 0
        i = 0
        while budget > 0:
            d = self._new_dossier(ALL_OPCO[i % len(ALL_OPCO)], i, start)
            general.append(d)
            budget -= 1
            i += 1
            caps = self.profiles[d.opco].capabilities
            if budget > 0 and caps.conventions and conventions * 1.6 < len(general):
                with_convention.add(d.dossier_id)
                conventions += 1
                budget -= 1
                if budget > 0 and caps.documents and conventions % 3 == 1:
                    self.documents[d.dossier_id] = TYPES_FICHIER[
                        len(self.documents) % len(TYPES_FICHIER)
                    ]
                    budget -= 1
        return general

    def _queue(
        self,
        general: list[GeneratedDossier],
        planned: list[GeneratedDossier],
        with_convention: set[str],
    ) -> None:
        """Interleave planned and general dossiers; a convention follows its dossier a bit later."""
        later: list[tuple[int, Planned]] = []
        for d in _interleave(general, planned):
            self.immediate.append(self._dossier_event(d))
            if d.dossier_id in with_convention:
                conv = Planned(
                    self.generator.convention(d),
                    "convention",
                    "convention",
                    "submitted",
                    opco=d.opco,
                )
                later.append((len(self.immediate) + 4, conv))
            type_fichier = self.documents.get(d.dossier_id)
            if type_fichier is not None:  # in the dossier's queue: sent once it has its OPCO id
                doc = Planned(
                    self.generator.document(d, type_fichier),
                    "document",
                    f"document {type_fichier}",
                    "submitted",
                    opco=d.opco,
                )
                later.append((len(self.immediate) + 5, doc))
            while later and later[0][0] <= len(self.immediate):
                self.immediate.append(later.pop(0)[1])
        self.immediate.extend(p for _, p in later)

    def _add_bad_records(self, n_invalid: int, n_broken: int, start: date) -> None:
        """Dossiers breaking one rule each, spread through the stream; a record that is not JSON
        in the middle."""
        generator = self.generator
        for n in range(n_invalid):
            kind_ = INVALID_KINDS[n % len(INVALID_KINDS)]
            bad = generator.invalid_dossier(kind_, ALL_OPCO[(n * 3) % len(ALL_OPCO)])
            position = 1 + (n + 1) * len(self.immediate) // (n_invalid + 1)
            self.immediate.insert(
                position, Planned(bad.event, "dossier", f"invalid {kind_.value}", "rejected")
            )
        if n_broken:
            d = generator.dossier(ALL_OPCO[0], cfa=generator.cfas[0], start=start)
            self.immediate.insert(
                len(self.immediate) // 2,
                Planned(d.event, "dossier", "not JSON", "dead_lettered", raw_value=b"{cerfa: ?"),
            )

    def _dossier_event(self, d: GeneratedDossier) -> Planned:
        caps = self.profiles[d.opco].capabilities
        # An OPCO without a dossier route (SANTE) answers 501: relais says "failed" at once.
        expected = "submitted" if caps.dossiers_v1 or caps.dossiers_v2 else "failed"
        label = f"contrat {d.opco.value}" + ("" if expected == "submitted" else " (no route)")
        return Planned(d.event, "dossier", label, expected, opco=d.opco.value)

    # -- follow-ups ------------------------------------------------------------------------------

    def place(self, engaged: Engaged) -> tuple[str, list[GeneratedDossier]] | None:
        """A follow-up ready to send now that this dossier is engaged: (kind, its dossiers)."""
        key = (engaged.cfa, engaged.dossier_id)
        if key not in self.dossiers or key in self.used:
            return None
        for slot in self.slots:
            if key in slot.targets:
                slot.engaged.add(key)
                if slot.engaged == set(slot.targets):
                    return self._release(slot)
                return None
        # Not planned: take over a follow-up whose planned dossier was refused.
        opco = OpcoCode(engaged.opco)
        for slot in self.slots:
            if slot.kind != "facture" or len(slot.targets) != 1 or slot.engaged:
                continue
            if not self.fits(slot.kind, opco):
                continue
            if slot.targets[0] in self.used:  # its dossier was refused
                slot.targets = [key]
                slot.engaged = {key}
                return self._release(slot)
        return None

    def _release(self, slot: Slot) -> tuple[str, list[GeneratedDossier]]:
        self.slots.remove(slot)
        self.used.update(slot.targets)
        return slot.kind, [self.dossiers[t] for t in slot.targets]

    def refused(self, key: Key) -> tuple[str, list[GeneratedDossier]] | None:
        """A planned dossier was refused: a two-dossier facture goes on with the other one
        (returned when that one is already engaged); other follow-ups wait for a stand-in."""
        if key in self.used:
            return None
        self.used.add(key)
        for slot in self.slots:
            if key not in slot.targets:
                continue
            if len(slot.targets) > 1:
                slot.targets = [t for t in slot.targets if t != key]
                slot.engaged.discard(key)
                if slot.engaged == set(slot.targets):
                    return self._release(slot)
                return None
            if slot.kind != "facture":  # no stand-in for avenant, rupture, certificat
                self.slots.remove(slot)
                self.skipped += 1
            return None
        return None

    def give_up(self) -> int:
        """Nothing more can be engaged: the remaining follow-ups are skipped."""
        self.skipped += len(self.slots)
        self.slots.clear()
        return self.skipped

    def follow_up(
        self,
        kind: str,
        dossiers: list[GeneratedDossier],
        *,
        montants: Mapping[str, float],
        numero_deca: str | None = None,
    ) -> Planned:
        g = self.generator
        d = dossiers[0]
        if kind == "facture":
            event = g.facture(dossiers, montants=montants)
            label = "facture" if len(dossiers) == 1 else f"facture x{len(dossiers)}"
            return Planned(event, "facture", label, "submitted", opco=d.opco.value)
        if kind == "avenant":
            avenant = g.avenant(d, 36, no_contrat=numero_deca)
            return Planned(avenant.event, "dossier", "avenant", "submitted", opco=d.opco.value)
        if kind == "rupture":
            return Planned(g.rupture(d), "rupture", "rupture", "submitted", opco=d.opco.value)
        return Planned(g.certificat(d), "certificat", "certificat", "submitted", opco=d.opco.value)


def _interleave(general: list[GeneratedDossier], planned: list[GeneratedDossier]) -> list[Any]:
    """``planned`` spread evenly through ``general`` (pairs stay next to each other)."""
    if not general:
        return list(planned)
    out: list[GeneratedDossier] = []
    step = max(1, len(general) // max(1, len(planned)))
    pending = list(planned)
    for i, d in enumerate(general):
        out.append(d)
        if pending and i % step == step - 1:
            out.append(pending.pop(0))
    return out + pending
