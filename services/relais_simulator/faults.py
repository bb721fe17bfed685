"""Fault injection per OPCO: what can go wrong between a client and an OPCO server, on demand.

A ``FaultSpec`` is set per OPCO at start (``--faults FILE``: ``{"AKTO": {...}, "*": {...}}``) and at
run time (``PUT /_admin/faults/<OPCO>``). For every request to that OPCO the injector draws one
``FaultDecision`` (seeded RNG, so a run is reproducible):

- ``down``: 503 + Retry-After for everything;
- ``latency_ms`` + uniform ``jitter_ms``: an ``asyncio.sleep`` before answering;
- ``drop_rate``: the connection is closed without any response;
- ``timeout_rate``: the server hangs ``hang_s`` (longer than the client's timeout), then closes;
- ``error_rate``: one of ``error_statuses`` (500/502/503; 503 carries Retry-After);
- ``throttle_rate``: 429 + ``Retry-After: retry_after_s``;
- ``stored_lost_rate``: the request is processed normally (a valid creation is stored), then the
  answer, whatever it was, is lost (``stored_lost_mode`` = ``drop`` closes the connection, ``hang``
  hangs ``hang_s`` then closes). The record keeps ``created`` and says ``fault:stored_lost``.

``routes`` restricts the faults to some routes, by name (see ``routes.ROUTES``) or as
``"POST /v2/dossiers"`` (an unknown route is refused); ``max_faults`` caps how
many faults are injected before the spec goes quiet (``None`` = no cap), so "fail the next 2 calls"
is ``{"error_rate": 1, "max_faults": 2}``. ``rate_limit_per_s`` overrides the profile's rate limit
(0 = unlimited).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from relais.domain.opco import OpcoCode
from relais_simulator.routes import ROUTE_NAMES, ROUTES, VERSIONS

ERROR_STATUSES: tuple[Literal[500, 502, 503], ...] = (500, 502, 503)


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    down: bool = False
    latency_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_statuses: list[Literal[500, 502, 503]] = Field(
        default_factory=lambda: list(ERROR_STATUSES), min_length=1
    )
    throttle_rate: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    hang_s: float = Field(default=30.0, ge=0)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    stored_lost_rate: float = Field(default=0.0, ge=0, le=1)
    stored_lost_mode: Literal["drop", "hang"] = "drop"
    routes: list[str] | None = None
    max_faults: int | None = Field(default=None, ge=0)
    rate_limit_per_s: float | None = Field(default=None, ge=0)

    @field_validator("routes")
    @classmethod
    def _known_routes(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({n for r in value for n in route_names(r)})

    def is_quiet(self) -> bool:
        return (
            not self.down
            and self.latency_ms == 0
            and self.jitter_ms == 0
            and self.error_rate == 0
            and self.throttle_rate == 0
            and self.timeout_rate == 0
            and self.drop_rate == 0
            and self.stored_lost_rate == 0
        )


def route_names(text: str) -> list[str]:
    """A route as a name (``dossiers_post``) or as ``[METHOD] [/OPCO/<base path>][/vN]/path``
    (``POST /v2/dossiers``, ``dossiers/etats``) -> route names; unknown -> ValueError (a fault
    on a route that does not exist would silently never fire)."""
    raw = text.strip()
    if raw in ROUTE_NAMES:
        return [raw]
    method, _, path = raw.partition(" ")
    if not path:
        method, path = "", raw
    method = method.upper()
    path = path.strip().split("?", 1)[0].strip("/")
    parts = path.split("/")
    versions = [i for i, part in enumerate(parts) if part.lower() in VERSIONS]
    if versions:  # whatever comes before the version is the OPCO and its base path
        path = "/".join(parts[versions[0] + 1 :])
    path = path.lower()
    found = [r.name for r in ROUTES if r.path.lower() == path and method in ("", r.method)]
    if not found:
        raise ValueError(
            f"unknown route {text!r}: use one of {sorted(ROUTE_NAMES)} or 'POST /v2/dossiers'"
        )
    return found


class FaultKind(StrEnum):
    NONE = "none"
    DOWN = "down"
    DROP = "drop"
    TIMEOUT = "timeout"
    ERROR = "error"
    THROTTLE = "throttle"
    STORED_LOST = "stored_lost"


@dataclass(frozen=True, slots=True)
class FaultDecision:
    kind: FaultKind = FaultKind.NONE
    delay_s: float = 0.0
    status: int = 0
    retry_after_s: int = 0
    hang_s: float = 0.0
    lost_mode: Literal["drop", "hang"] = "drop"


NO_FAULT = FaultDecision()


def parse_faults(raw: dict[str, Any]) -> dict[OpcoCode, FaultSpec]:
    """``{"AKTO": {...}, "*": {...}}`` -> one spec per OPCO (``*``: every OPCO not named)."""
    default = FaultSpec.model_validate(raw.get("*", {}))
    out: dict[OpcoCode, FaultSpec] = {}
    for code in OpcoCode:
        body = raw.get(code.value)
        out[code] = FaultSpec.model_validate(body) if body is not None else default.model_copy()
    unknown = set(raw) - {c.value for c in OpcoCode} - {"*"}
    if unknown:
        raise ValueError(f"unknown OPCO in faults: {sorted(unknown)}")
    return out


class FaultInjector:
    """Draws a decision per request; holds the per-OPCO specs and their fault budgets."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._specs: dict[OpcoCode, FaultSpec] = {}
        self._injected: dict[OpcoCode, int] = {}

    def spec(self, opco: OpcoCode) -> FaultSpec | None:
        return self._specs.get(opco)

    def specs(self) -> dict[OpcoCode, FaultSpec]:
        return dict(self._specs)

    def injected(self, opco: OpcoCode) -> int:
        return self._injected.get(opco, 0)

    def set(self, opco: OpcoCode, spec: FaultSpec) -> None:
        if spec.is_quiet() and spec.rate_limit_per_s is None:
            self._specs.pop(opco, None)
        else:
            self._specs[opco] = spec
        self._injected[opco] = 0

    def clear(self, opco: OpcoCode | None = None) -> None:
        if opco is None:
            self._specs.clear()
            self._injected.clear()
        else:
            self._specs.pop(opco, None)
            self._injected.pop(opco, None)

    def reseed(self, seed: int) -> None:
        self._rng.seed(seed)

    def decide(self, opco: OpcoCode, route: str) -> FaultDecision:
        spec = self._specs.get(opco)
        if spec is None:
            return NO_FAULT
        if spec.routes is not None and route not in spec.routes:
            return NO_FAULT
        delay = spec.latency_ms / 1000
        if spec.jitter_ms:
            delay += self._rng.uniform(0, spec.jitter_ms) / 1000
        if spec.down:
            return FaultDecision(
                FaultKind.DOWN, delay_s=delay, status=503, retry_after_s=spec.retry_after_s
            )
        budget_left = spec.max_faults is None or self._injected.get(opco, 0) < spec.max_faults
        if budget_left:
            kind = self._draw(spec)
            if kind is not FaultKind.NONE:
                self._injected[opco] = self._injected.get(opco, 0) + 1
                return self._decision(spec, kind, delay)
        if delay:
            return FaultDecision(FaultKind.NONE, delay_s=delay)
        return NO_FAULT

    def _draw(self, spec: FaultSpec) -> FaultKind:
        rolls = (
            (spec.drop_rate, FaultKind.DROP),
            (spec.timeout_rate, FaultKind.TIMEOUT),
            (spec.error_rate, FaultKind.ERROR),
            (spec.throttle_rate, FaultKind.THROTTLE),
            (spec.stored_lost_rate, FaultKind.STORED_LOST),
        )
        for rate, kind in rolls:
            if rate > 0 and (rate >= 1 or self._rng.random() < rate):
                return kind
        return FaultKind.NONE

    def _decision(self, spec: FaultSpec, kind: FaultKind, delay: float) -> FaultDecision:
        if kind is FaultKind.ERROR:
            status = spec.error_statuses[self._rng.randrange(len(spec.error_statuses))]
            return FaultDecision(kind, delay, status=status, retry_after_s=spec.retry_after_s)
        if kind is FaultKind.THROTTLE:
            return FaultDecision(kind, delay, status=429, retry_after_s=spec.retry_after_s)
        return FaultDecision(kind, delay, hang_s=spec.hang_s, lost_mode=spec.stored_lost_mode)
