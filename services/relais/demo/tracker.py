"""What the demo knows: events it published, status events it read back, the OPCO's request record.

``Tracker`` is fed from outside (no I/O here): ``published`` for every CFA event the demo sends,
``observe`` for every status record read from the status topic, ``settle_with`` with the
simulator's request record. It answers the live view (counts per OPCO and status, retries, errors,
latency) and the invariant checks of the final summary:

- **without terminal status**: a published event that never got submitted / rejected / failed /
  dead_lettered;
- **lost**: the above, plus an event reported ``submitted`` although the OPCO has no trace of it
  (no creating or duplicate-answered request carrying the ids the status names);
- **duplicated**: an OPCO object created more than once (same route and natural key or id), or a
  CFA event with more than one distinct terminal status id;
- **out of order**: a CFA dossier whose requests reached the OPCO in another order than the CFA
  published its events.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from relais.demo.opco_records import created_twice

TERMINAL = frozenset({"submitted", "rejected", "failed", "dead_lettered"})
DOSSIER_SETTLED = frozenset({"ENGAGE", "REFUSE", "ANNULE", "RUPTURE", "SOLDE"})
FACTURE_SETTLED = frozenset({"REGLE", "REFUSE"})
ROUTE_OF_KIND = {
    "dossier": "dossiers_post",
    "convention": "conventions",
    "facture": "factures",
    "certificat": "certificats",
    "rupture": "rupture",
    "document": "documents",
}
REACHED_OPCO = frozenset({"created", "duplicate"})
_DETAILS_CAP = 20


@dataclass
class EventTrack:
    """One CFA event the demo published."""

    event_id: str
    cfa: str
    dossier_id: str
    kind: str
    seq: int  # publish order (per demo run)
    published_at: float
    expected: str | None = None  # what the scenario expects ("submitted", "rejected"...), if known
    opco: str | None = None
    label: str = ""
    terminal: str | None = None
    terminal_ids: set[str] = field(default_factory=set)
    terminal_at: float | None = None
    numero_interne: str | None = None
    numero_interne_facture: str | None = None
    numero_interne_document: str | None = None
    retries: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def latency_ms(self) -> float | None:
        if self.terminal_at is None:
            return None
        return max(0.0, (self.terminal_at - self.published_at) * 1000)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


Followable = Callable[[str, str], bool]
"""(opco, "dossier" | "facture") -> whether relais can follow that kind's etat at that OPCO."""


def _always(opco: str, kind: str) -> bool:
    return True


class Tracker:
    def __init__(self, followable: Followable = _always) -> None:
        self.followable = followable
        self.events: dict[str, EventTrack] = {}
        self.status_ids: set[str] = set()
        self.status_records = 0
        self.redelivered = 0  # status records whose id was already seen (at-least-once delivery)
        self.unknown_statuses = 0  # statuses answering events this demo did not publish
        self.dossier_etats: dict[tuple[str, str], str] = {}  # (opco, numeroInterne) -> etat
        self.facture_etats: dict[tuple[str, str], str] = {}
        self.etat_changes: Counter[tuple[str, str, str]] = Counter()  # (opco, kind, etat)
        self.retries_by_opco: Counter[str] = Counter()
        self.simulator_records: list[Mapping[str, Any]] = []
        self._seq = 0

    # -- feeding -------------------------------------------------------------------------------

    def published(
        self,
        *,
        event_id: str,
        cfa: str,
        dossier_id: str,
        kind: str,
        at: float,
        expected: str | None = None,
        opco: str | None = None,
        label: str = "",
    ) -> None:
        self._seq += 1
        self.events[event_id] = EventTrack(
            event_id=event_id,
            cfa=cfa,
            dossier_id=dossier_id,
            kind=kind,
            seq=self._seq,
            published_at=at,
            expected=expected,
            opco=opco,
            label=label,
        )

    def observe(self, status_id: str | None, body: Mapping[str, Any], at: float) -> None:
        """One status record (its ``ce_id`` and JSON body), read at ``at`` (monotonic seconds)."""
        self.status_records += 1
        if status_id is not None:
            if status_id in self.status_ids:
                self.redelivered += 1
                return
            self.status_ids.add(status_id)
        status = str(body.get("status", ""))
        opco = body.get("opco")
        if status == "etat_changed":
            self._etat(body)
            return
        event_id = body.get("eventId")
        track = self.events.get(str(event_id)) if event_id is not None else None
        if track is None:
            self.unknown_statuses += 1
            return
        if opco:
            track.opco = str(opco)
        if status == "retrying":
            track.retries += 1
            self.retries_by_opco[str(opco or "-")] += 1
        if body.get("numeroInterne"):
            track.numero_interne = str(body["numeroInterne"])
        if body.get("numeroInterneFacture"):
            track.numero_interne_facture = str(body["numeroInterneFacture"])
        if body.get("numeroInterneDocument"):
            track.numero_interne_document = str(body["numeroInterneDocument"])
        if status in TERMINAL:
            track.terminal_ids.add(status_id or f"{event_id}:{status}")
            if track.terminal is None:
                track.terminal = status
                track.terminal_at = at
            codes = [str(e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)]
            reason = body.get("reason") if status != "submitted" else None  # already_at_opco
            track.errors.extend(codes or ([str(reason)] if reason else []))
            if status == "submitted" and body.get("etat") and track.numero_interne:
                key = (str(opco), track.numero_interne)
                if track.kind == "dossier":
                    self.dossier_etats.setdefault(key, str(body["etat"]))

    def _etat(self, body: Mapping[str, Any]) -> None:
        opco, etat = str(body.get("opco")), str(body.get("etat"))
        kind = str(body.get("kind", "dossier"))
        self.etat_changes[(opco, kind, etat)] += 1
        if kind == "facture" and body.get("numeroInterneFacture"):
            self.facture_etats[(opco, str(body["numeroInterneFacture"]))] = etat
        elif body.get("numeroInterne"):
            self.dossier_etats[(opco, str(body["numeroInterne"]))] = etat

    def settle_with(self, records: Iterable[Mapping[str, Any]]) -> None:
        """The simulator's request record (``RequestRecord.to_json`` dicts)."""
        self.simulator_records = sorted(records, key=lambda r: int(r.get("seq", 0)))

    # -- progress ------------------------------------------------------------------------------

    def missing_terminal(self) -> list[EventTrack]:
        return [t for t in self.events.values() if t.terminal is None]

    def unsettled(self) -> list[str]:
        """Submitted dossiers / factures whose OPCO etat is not final yet (ids)."""
        out = []
        for t in self.events.values():
            if t.terminal != "submitted" or t.opco is None:
                continue
            if not self.followable(t.opco, t.kind):
                continue
            if t.kind == "dossier" and t.numero_interne:
                etat = self.dossier_etats.get((t.opco, t.numero_interne))
                if etat not in DOSSIER_SETTLED:
                    out.append(f"{t.opco}:{t.numero_interne}")
            elif t.kind == "facture" and t.numero_interne_facture:
                etat = self.facture_etats.get((t.opco, t.numero_interne_facture))
                if etat not in FACTURE_SETTLED:
                    out.append(f"{t.opco}:{t.numero_interne_facture}")
        return out

    def engaged(self) -> list[tuple[str, str, str, str]]:
        """(cfa, dossier id, opco, numeroInterne) of every dossier the OPCO engaged and with no
        event still in flight (its convention may change the engagement), in publish order."""
        busy = {(t.cfa, t.dossier_id) for t in self.events.values() if t.terminal is None}
        out = []
        for t in sorted(self.events.values(), key=lambda e: e.seq):
            if (t.cfa, t.dossier_id) in busy:
                continue
            if t.kind != "dossier" or t.opco is None or t.numero_interne is None:
                continue
            if self.dossier_etats.get((t.opco, t.numero_interne)) == "ENGAGE":
                out.append((t.cfa, t.dossier_id, t.opco, t.numero_interne))
        return out

    def dead_ends(self) -> list[tuple[str, str]]:
        """(cfa, dossier id) of contracts that will never be engaged: refused or cancelled by
        the OPCO, or not submitted at all."""
        out = []
        for t in sorted(self.events.values(), key=lambda e: e.seq):
            if t.kind != "dossier" or t.terminal is None:
                continue
            etat = self.dossier_etats.get((t.opco or "", t.numero_interne or ""))
            if t.terminal != "submitted" or etat in ("REFUSE", "ANNULE"):
                out.append((t.cfa, t.dossier_id))
        return out

    def done(self) -> bool:
        return bool(self.events) and not self.missing_terminal() and not self.unsettled()

    # -- figures -------------------------------------------------------------------------------

    def counts_by_status(self) -> dict[str, int]:
        counts = Counter(t.terminal or "pending" for t in self.events.values())
        return dict(sorted(counts.items()))

    def documents(self) -> dict[str, Any]:
        """The documents: published, by terminal status, and found at the OPCO (the simulator's
        record of a created document carrying the id relais's status gave)."""
        docs = [t for t in self.events.values() if t.kind == "document"]
        created = {
            str((r.get("ids") or {}).get("numeroInterneDocument"))
            for r in self.simulator_records
            if r.get("route") == "documents" and r.get("created")
        }
        return {
            "published": len(docs),
            "by_status": dict(sorted(Counter(t.terminal or "pending" for t in docs).items())),
            "at_opco": sum(1 for t in docs if t.numero_interne_document in created),
        }

    def counts_by_opco(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for t in self.events.values():
            table[t.opco or "-"][t.terminal or "pending"] += 1
        return {opco: dict(sorted(c.items())) for opco, c in sorted(table.items())}

    def etats_by_opco(self) -> dict[str, dict[str, str | int]]:
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for (opco, _), etat in self.dossier_etats.items():
            table[opco][f"dossier:{etat}"] += 1
        for (opco, _), etat in self.facture_etats.items():
            table[opco][f"facture:{etat}"] += 1
        return {opco: dict(sorted(c.items())) for opco, c in sorted(table.items())}

    def latencies_ms(self, opco: str | None = None) -> list[float]:
        """Latencies of terminal statuses; ``opco`` "-" means events routed to no OPCO."""
        return [
            t.latency_ms
            for t in self.events.values()
            if t.latency_ms is not None and (opco is None or (t.opco or "-") == opco)
        ]

    def latency_summary(self, opco: str | None = None) -> dict[str, float | None]:
        values = self.latencies_ms(opco)
        return {
            "p50": _round(percentile(values, 50)),
            "p99": _round(percentile(values, 99)),
            "mean": _round(statistics.fmean(values)) if values else None,
            "max": _round(max(values)) if values else None,
        }

    def error_codes(self) -> dict[str, int]:
        return dict(Counter(code for t in self.events.values() for code in t.errors))

    def unexpected_outcomes(self) -> list[dict[str, Any]]:
        return [
            {
                "event": t.event_id,
                "label": t.label,
                "opco": t.opco,
                "expected": t.expected,
                "got": t.terminal,
                "errors": t.errors[:5],
            }
            for t in self.events.values()
            if t.expected is not None and t.terminal is not None and t.terminal != t.expected
        ]

    # -- invariants ----------------------------------------------------------------------------

    def invariants(self) -> dict[str, Any]:
        without_terminal = [t.event_id for t in self.missing_terminal()]
        multi_terminal = [t.event_id for t in self.events.values() if len(t.terminal_ids) > 1]
        records = self.simulator_records
        duplicate_objects = created_twice(records)
        not_at_opco, matched = self._match_records(records)
        out_of_order = self._out_of_order(matched)
        lost = without_terminal + not_at_opco
        duplicated = multi_terminal + duplicate_objects
        return {
            "lost": len(lost),
            "duplicated": len(duplicated),
            "out_of_order": len(out_of_order),
            "without_terminal_status": len(without_terminal),
            "violations": len(lost) + len(duplicated) + len(out_of_order),
            "checked_against_simulator": bool(records),
            # 409 answers: a call was resent and the OPCO recognised it (not a side effect)
            "duplicate_answers": sum(1 for r in records if r.get("outcome") == "duplicate"),
            "details": {
                "lost": lost[:_DETAILS_CAP],
                "duplicated": duplicated[:_DETAILS_CAP],
                "out_of_order": out_of_order[:_DETAILS_CAP],
            },
        }

    def _match_records(self, records: list[Mapping[str, Any]]) -> tuple[list[str], dict[str, int]]:
        """Event id -> seq of the OPCO request that carried it; and submitted events with none."""
        if not records:
            return [], {}
        # A creation whose answer was lost (fault) still reached the OPCO: ``created`` says so.
        reached = [r for r in records if r.get("created") or r.get("outcome") in REACHED_OPCO]
        by_route: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for r in reached:
            by_route[str(r.get("route"))].append(r)
        used: set[int] = set()
        matched: dict[str, int] = {}
        missing: list[str] = []
        for t in sorted(self.events.values(), key=lambda e: e.seq):
            if t.terminal != "submitted":
                continue
            route = ROUTE_OF_KIND.get(t.kind)
            wanted = _wanted_id(t)
            if route is None or wanted is None:
                continue
            seq = None
            for r in by_route.get(route, []):
                rseq = int(r["seq"])
                ids = r.get("ids") or {}
                if rseq in used or r.get("opco") != t.opco:
                    continue
                if wanted in ids.values() and r.get("cfaSiret") in (None, t.cfa):
                    seq = rseq
                    break
            if seq is None:
                missing.append(t.event_id)
            else:
                used.add(seq)
                matched[t.event_id] = seq
        return missing, matched

    def _out_of_order(self, matched: Mapping[str, int]) -> list[str]:
        per_dossier: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for event_id, rseq in matched.items():
            t = self.events[event_id]
            per_dossier[(t.cfa, t.dossier_id)].append((t.seq, rseq))
        bad = []
        for (cfa, dossier), pairs in sorted(per_dossier.items()):
            seqs = [rseq for _, rseq in sorted(pairs)]
            if seqs != sorted(seqs):
                bad.append(f"{cfa}/{dossier}")
        return bad


def _wanted_id(t: EventTrack) -> str | None:
    """The OPCO id by which a submitted event is found in the simulator's record."""
    if t.kind == "facture":
        return t.numero_interne_facture
    if t.kind == "document":
        return t.numero_interne_document
    return t.numero_interne


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
