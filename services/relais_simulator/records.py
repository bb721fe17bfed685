"""The record of every request the simulator received, for invariant checks.

One ``RequestRecord`` per request (including the ones a fault swallowed): what was asked, by which
CFA, about which object, and what happened. Requests outside the convergence routes are recorded
too, with route ``oauth2_token`` (AKTO's token endpoint), ``openapi`` or ``unknown`` (404/405 under
``/<OPCO>/ApiEchangeCFA/``); only ``/_admin`` and ``/health`` are not. No body is kept (a POST's
body as the SHA-256 of its exact bytes, for the golden wire tests) and the dossier natural key is
stored as a digest, so the log carries no personal data. A multipart body's JSON part and file
are recorded by their digests too (``jsonSha256``; ``file``: SHA-256, size, name, media type),
never their bytes; ``warnings`` names the keys a body spelled as another OPCO does
(``spellings.py``). Bounded: the oldest records go first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from relais_simulator.routes import ROUTES

ROUTE_PATHS: dict[str, str] = {r.name: r.path for r in ROUTES}


@dataclass(slots=True)
class RequestRecord:
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
    seq: int = 0  # given by RecordLog.append
    path: str | None = None  # the path asked, when it is not a convergence route's (404, token)
    delay_ms: float = 0.0  # the latency injected before the answer (latency_ms + jitter)
    body_sha256: str | None = None  # a POST's body: the digest of the exact bytes, not the body
    content_type: str | None = None
    json_sha256: str | None = None  # a multipart body's JSON part: the digest of its bytes
    file_sha256: str | None = None  # a multipart body's file: its digest, size, name and type
    file_size: int | None = None
    file_name: str | None = None
    file_media_type: str | None = None
    base_path: str = "/ApiEchangeCFA"  # the OPCO profile's
    warnings: list[str] = field(default_factory=list)  # key names only (spellings.py)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "day": round(self.day, 6),
            "method": self.method,
            "path": self.path
            or f"/{self.opco}{self.base_path}/{self.version}/{ROUTE_PATHS.get(self.route, '')}",
            "opco": self.opco,
            "route": self.route,
            "version": self.version,
            "cfaSiret": self.cfa_siret,
            "status": self.status,
            "outcome": self.outcome,
            "created": self.created,
            "naturalKey": self.natural_key,
            "ids": self.ids,
            "delayMs": round(self.delay_ms, 3),
            "bodySha256": self.body_sha256,
            "contentType": self.content_type,
            "jsonSha256": self.json_sha256,
            "warnings": self.warnings,
            "file": None
            if self.file_sha256 is None
            else {
                "sha256": self.file_sha256,
                "size": self.file_size,
                "name": self.file_name,
                "mediaType": self.file_media_type,
            },
        }


class RecordLog:
    """Records in the order the simulator decided them; ``seq`` is given on ``append`` (1, 2, ...).

    A request is recorded when its answer is decided (after any injected latency, before a hang or
    a dropped connection), so ``seq`` order is the order the OPCO acted in.
    """

    def __init__(self, maxlen: int = 1_000_000) -> None:
        self._records: list[RequestRecord] = []
        self._maxlen = max(1, maxlen)
        self._seq = 0
        self.dropped = 0

    def append(self, record: RequestRecord) -> None:
        self._seq += 1
        record.seq = self._seq
        self._records.append(record)
        if len(self._records) > self._maxlen + self._maxlen // 10:
            excess = len(self._records) - self._maxlen
            del self._records[:excess]  # in chunks: amortised O(1) per record
            self.dropped += excess

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
        """Records with ``seq > after`` matching every filter given, oldest first."""
        out: list[RequestRecord] = []
        records = self._records
        first = records[0].seq if records else 1
        for i in range(max(0, after - first + 1), len(records)):
            r = records[i]
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

    def clear(self) -> None:
        self._records.clear()
        self._seq = 0
        self.dropped = 0
