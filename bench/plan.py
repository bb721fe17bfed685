"""What a run measures: scenarios, event counts per contender, quick and full plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SLOW_OPCO = "ATLAS"


@dataclass(frozen=True)
class Scenario:
    """The simulator's behaviour during one measurement.

    ``latency_ms`` is the MEAN delay injected on every healthy OPCO's dossier POST
    (``latency_ms - jitter/2`` plus a uniform jitter of ``jitter_ms``). ``odd_opco`` is slowed to
    ``odd_latency_ms`` (``slow``) or answers 503 + Retry-After to every dossier POST (``down``)
    until the other OPCO's events are all done, then heals.
    """

    name: str
    latency_ms: float
    jitter_ms: float = 0.0
    odd: str | None = None  # None | "slow" | "down"
    odd_opco: str = SLOW_OPCO
    odd_latency_ms: float = 1000.0
    baseline: str | None = None  # the healthy scenario the others' throughput is compared to

    def faults(self, *, odd: bool = True) -> dict[str, dict[str, Any]]:
        """The simulator's fault specs; ``odd=False``: the healthy part only (warm-up)."""
        out: dict[str, dict[str, Any]] = {}
        if self.latency_ms > 0:
            out["*"] = {
                "latency_ms": self.latency_ms - self.jitter_ms / 2,
                "jitter_ms": self.jitter_ms,
            }
        if not odd:
            return out
        if self.odd == "slow":
            jitter = self.odd_latency_ms / 10
            out[self.odd_opco] = {
                "latency_ms": self.odd_latency_ms - jitter / 2,
                "jitter_ms": jitter,
            }
        elif self.odd == "down":
            out[self.odd_opco] = {"down": True, "retry_after_s": 1}
        return out

    def injected_s(self, opco: str) -> float:
        """Mean delay the simulator adds to one dossier POST of ``opco``."""
        if self.odd == "slow" and opco == self.odd_opco:
            return self.odd_latency_ms / 1000
        return self.latency_ms / 1000


LAT0 = Scenario("lat0", 0.0)
LAT50 = Scenario("lat50", 50.0, 10.0)
LAT200 = Scenario("lat200", 200.0, 20.0)
SLOW = Scenario("slow-opco", 50.0, 10.0, odd="slow", baseline="lat50")
DOWN = Scenario("down-opco", 50.0, 10.0, odd="down", baseline="lat50")
LATENCY_SCENARIOS = (LAT0, LAT50, LAT200)
SCENARIOS = {s.name: s for s in (LAT0, LAT50, LAT200, SLOW, DOWN)}


@dataclass(frozen=True)
class Counts:
    """Events per phase: ``burst`` all at once (saturation), then ``paced`` seconds at half the
    measured saturation rate (latency and overhead), after ``warmup`` events."""

    burst: int
    paced_s: float
    paced_max: int
    warmup: int = 20


@dataclass(frozen=True)
class Plan:
    name: str
    inflight: int  # relais's in-flight limit C
    relais: Counts
    naive: dict[str, Counts]  # per scenario: the naive bridge is slow, keep it bounded
    pipe: Counts
    relais_scenarios: tuple[str, ...]
    sqlite_scenarios: tuple[str, ...]
    split_scenarios: tuple[str, ...]
    naive_scenarios: tuple[str, ...]
    backlog: int
    timeout_s: float  # per phase
    profile_s: float = 20.0
    # relais-pg-kafka's scenarios (pipe-kafka: lat0 only, like pipe)
    kafka_scenarios: tuple[str, ...] = ("lat0", "lat200")
    extras: dict[str, Any] = field(default_factory=dict)


QUICK = Plan(
    name="quick",
    inflight=64,
    relais=Counts(burst=1200, paced_s=6.0, paced_max=2000),
    naive={
        "lat0": Counts(burst=300, paced_s=5.0, paced_max=300),
        "lat50": Counts(burst=100, paced_s=5.0, paced_max=60),
        "lat200": Counts(burst=40, paced_s=6.0, paced_max=20, warmup=5),
        "slow-opco": Counts(burst=100, paced_s=0.0, paced_max=0),
        "down-opco": Counts(burst=100, paced_s=0.0, paced_max=0),
    },
    pipe=Counts(burst=10_000, paced_s=5.0, paced_max=5000),
    # lat50 right before the odd-OPCO scenarios: their baseline, measured minutes apart at most
    relais_scenarios=("lat0", "lat200", "lat50", "slow-opco"),
    sqlite_scenarios=("lat0", "lat200"),
    split_scenarios=("lat0", "lat200"),
    naive_scenarios=("lat0", "lat200", "lat50", "slow-opco"),
    backlog=3000,
    timeout_s=180.0,
)

FULL = Plan(
    name="full",
    inflight=64,
    relais=Counts(burst=6000, paced_s=20.0, paced_max=10_000, warmup=50),
    naive={
        "lat0": Counts(burst=1000, paced_s=10.0, paced_max=1000),
        "lat50": Counts(burst=300, paced_s=10.0, paced_max=200),
        "lat200": Counts(burst=100, paced_s=15.0, paced_max=50, warmup=5),
        "slow-opco": Counts(burst=300, paced_s=0.0, paced_max=0),
        "down-opco": Counts(burst=300, paced_s=0.0, paced_max=0),
    },
    pipe=Counts(burst=50_000, paced_s=10.0, paced_max=20_000),
    relais_scenarios=("lat0", "lat200", "lat50", "slow-opco", "down-opco"),
    sqlite_scenarios=("lat0", "lat200", "lat50"),
    split_scenarios=("lat0", "lat200", "lat50"),
    naive_scenarios=("lat0", "lat200", "lat50", "slow-opco", "down-opco"),
    backlog=100_000,
    timeout_s=900.0,
    profile_s=30.0,
)
