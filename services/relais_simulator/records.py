"""The record of every request the simulator received, for invariant checks.

One ``RequestRecord`` per request (including the ones a fault swallowed): what was asked, by which
CFA, about which object, and what happened. No body is kept and the dossier natural key is stored
as a digest, so the log carries no personal data. Bounded: the oldest records go first.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from relais_simulator.routes import ROUTES

ROUTE_PATHS: dict[str, str] = {r.name: r.path for r in ROUTES}


@dataclass(slots=True)
class RequestRecord:
    seq: int
    at: float  # wall-clock epoch seconds
    day: float  # simulated day
    method: str
    opco: str
    route: str
    version: str
    cfa_siret: str | None = None
    status: int = 0
    outcome: str = "ok"  # ok | created | duplicate | rejected | fault:<kind>
    created: bool = False
    natural_key: str | None = None
    ids: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "day": round(self.day, 6),
            "method": self.method,
            "path": f"/{self.opco}/ApiEchangeCFA/{self.version}/{ROUTE_PATHS.get(self.route, '')}",
            "opco": self.opco,
            "route": self.route,
            "version": self.version,
            "cfaSiret": self.cfa_siret,
            "status": self.status,
            "outcome": self.outcome,
            "created": self.created,
            "naturalKey": self.natural_key,
            "ids": self.ids,
        }


class RecordLog:
    def __init__(self, maxlen: int = 1_000_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)
        self._seq = 0
        self.dropped = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, record: RequestRecord) -> None:
        if self._records.maxlen is not None and len(self._records) == self._records.maxlen:
            self.dropped += 1
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._records)

    def query(
        self,
        *,
        after: int = 0,
        limit: int = 1000,
        opco: str | None = None,
        route: str | None = None,
        cfa_siret: str | None = None,
        numero_interne: str | None = None,
    ) -> list[RequestRecord]:
        out: list[RequestRecord] = []
        for r in self._iter_after(after):
            if opco is not None and r.opco != opco:
                continue
            if route is not None and r.route != route:
                continue
            if cfa_siret is not None and r.cfa_siret != cfa_siret:
                continue
            if numero_interne is not None and numero_interne not in (
                r.ids.get("numeroInterne"),
                r.ids.get("numeroInterneDossier"),
            ):
                continue
            out.append(r)
            if len(out) >= limit:
                break
        return out

    def _iter_after(self, after: int) -> Iterator[RequestRecord]:
        if not self._records or after <= 0:
            yield from self._records
            return
        first = self._records[0].seq
        start = max(0, after - first + 1)
        yield from itertools.islice(self._records, start, None)

    def clear(self) -> None:
        self._records.clear()
        self.dropped = 0
