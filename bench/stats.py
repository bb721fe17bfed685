"""Small statistics: percentiles, throughput windows."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean of values in milliseconds, rounded."""

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values)) if values else None,
        "mean": r(sum(values) / len(values)) if values else None,
        "n": len(values),
    }


def steady_rate(done_at: Sequence[float], low: float = 0.1, high: float = 0.9) -> float | None:
    """Events/s between the ``low`` and ``high`` fractions of completions (start-up and tail
    excluded); falls back to first..last for tiny samples."""
    times = sorted(done_at)
    n = len(times)
    if n < 2:
        return None
    i, j = int(low * n), max(int(high * n) - 1, int(low * n) + 1)
    if n < 20 or j >= n:
        i, j = 0, n - 1
    span = times[j] - times[i]
    if span <= 0:  # completions bunched in one clock tick: use the whole sample
        i, j = 0, n - 1
        span = times[j] - times[i]
    return (j - i) / span if span > 0 else None


def overall_rate(n: int, first_sent: float, last_done: float) -> float | None:
    span = last_done - first_sent
    return n / span if n and span > 0 else None
