"""The targets of issue 7, checked on a run's results: one line each, pass or fail, with figures.

    at 200 ms OPCO latency  relais >= 25x the naive bridge, and >= 70 % of C / latency
    at 0 ms                 relais >= 3x the naive bridge
    at half saturation      p99 overhead (end to end minus the injected delay) <= 25 ms
    every relais process    peak RSS <= 200 MB
    backlog                 N events drained, memory flat (late peak <= early peak x 1.15 + 10 MB)
    one slow OPCO           the other OPCO's throughput >= 90 % of the healthy run's

A line whose figures are missing (scenario not run, a cell that failed) is ``None``: not a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RSS_LIMIT_MB = 200.0
OVERHEAD_P99_MS = 25.0


def cell(cells: Sequence[Mapping[str, Any]], contender: str, scenario: str) -> Mapping[str, Any]:
    for c in cells:
        if c["contender"] == contender and c["scenario"] == scenario:
            return c
    return {}


def rate(c: Mapping[str, Any], part: str | None = None) -> float | None:
    burst = c.get("burst") or {}
    if part:
        burst = burst.get(part) or {}
    r = burst.get("rate") or {}
    value = r.get("steady") or r.get("overall")
    return float(value) if value else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _line(
    target: str, value: float | None, threshold: str, ok: bool | None, detail: str
) -> dict[str, Any]:
    return {"target": target, "value": value, "threshold": threshold, "pass": ok, "detail": detail}


def check(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    cells: Sequence[Mapping[str, Any]] = result.get("cells", [])
    lines: list[dict[str, Any]] = []
    relais_names = sorted({c["contender"] for c in cells if c.get("kind") == "relais"})
    for name in relais_names:
        for scenario, factor in (("lat200", 25.0), ("lat0", 3.0)):
            r, n = rate(cell(cells, name, scenario)), rate(cell(cells, "naive", scenario))
            ratio = _ratio(r, n)
            lines.append(
                _line(
                    f"{name} {scenario}: relais / naive",
                    ratio,
                    f">= {factor:g}x",
                    None if ratio is None else ratio >= factor,
                    f"relais {r} ev/s, naive {n} ev/s",
                )
            )
        c200 = cell(cells, name, "lat200")
        if c200:
            limit = c200["inflight_limit"] / (c200["latency_ms"] / 1000)
            share = _ratio(rate(c200), limit)
            lines.append(
                _line(
                    f"{name} lat200: relais / (C / latency)",
                    share,
                    ">= 0.70",
                    None if share is None else share >= 0.70,
                    f"{rate(c200)} ev/s vs C={c200['inflight_limit']} / 0.2 s = {limit:.0f} ev/s",
                )
            )
        for c in cells:
            if c["contender"] != name or c.get("odd") or not c.get("paced"):
                continue
            p99 = (c["paced"].get("overhead_ms") or {}).get("p99")
            lines.append(
                _line(
                    f"{name} {c['scenario']}: p99 overhead at half saturation (ms)",
                    p99,
                    f"<= {OVERHEAD_P99_MS:g}",
                    None if p99 is None else p99 <= OVERHEAD_P99_MS,
                    f"paced at {c['paced']['achieved_rate']} ev/s; e2e p99 "
                    f"{(c['paced'].get('e2e_ms') or {}).get('p99')} ms",
                )
            )
        peaks = [
            p.get("peak_rss_mb")
            for c in cells
            if c["contender"] == name
            for proc_name, p in (c.get("processes") or {}).items()
            if proc_name.startswith("contender")
        ]
        peak = max((p for p in peaks if p is not None), default=None)
        lines.append(
            _line(
                f"{name}: peak RSS of the relais process (MB)",
                peak,
                f"<= {RSS_LIMIT_MB:g}",
                None if peak is None else peak <= RSS_LIMIT_MB,
                f"max over {len(peaks)} relais processes",
            )
        )
        slow = cell(cells, name, "slow-opco")
        for odd_cell in (slow, cell(cells, name, "down-opco")):
            if not odd_cell:
                continue
            base = cell(cells, name, odd_cell.get("baseline") or "lat50")
            ratio = _ratio(rate(odd_cell, "others"), rate(base, "others"))
            lines.append(
                _line(
                    f"{name} {odd_cell['scenario']}: other OPCO throughput vs healthy",
                    ratio,
                    ">= 0.90",
                    None if ratio is None else ratio >= 0.90,
                    f"others {rate(odd_cell, 'others')} ev/s with {odd_cell.get('odd_opco')} "
                    f"{odd_cell.get('odd')}, {rate(base, 'others')} ev/s healthy",
                )
            )
    backlog = result.get("backlog")
    if backlog:
        ok = backlog.get("missing") == 0 and backlog.get("flat_memory") is True
        lines.append(
            _line(
                f"{backlog.get('contender')}: backlog of {backlog.get('events')} drained, flat "
                "memory",
                backlog.get("rss_growth_mb"),
                "all answered; late peak <= early peak x 1.15 + 10 MB",
                ok if backlog.get("missing") is not None else None,
                f"answered {backlog.get('answered')}/{backlog.get('events')} in "
                f"{backlog.get('drain_s')} s ({backlog.get('rate')} ev/s); RSS early "
                f"{backlog.get('rss_early_mb')} MB, late {backlog.get('rss_late_mb')} MB, "
                f"peak {backlog.get('peak_rss_mb')} MB",
            )
        )
    return lines
