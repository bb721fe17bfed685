"""Writing a run's results: JSON (everything), a short markdown table, a PNG plot."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.targets import cell, rate


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def relais_processes(c: Mapping[str, Any]) -> dict[str, float | None]:
    """The contender's own processes (two for a split relais): max RSS, summed CPU."""
    mine = [p for name, p in (c.get("processes") or {}).items() if name.startswith("contender")]
    rss = [p["peak_rss_mb"] for p in mine if p.get("peak_rss_mb") is not None]
    cpu = [p["cpu_pct_burst"] for p in mine if p.get("cpu_pct_burst") is not None]
    return {
        "peak_rss_mb": max(rss) if rss else None,
        "cpu_pct_burst": round(sum(cpu), 1) if cpu else None,
    }


def table(result: Mapping[str, Any]) -> str:
    cells: Sequence[Mapping[str, Any]] = result.get("cells", [])
    head = (
        "| contender | scenario | C | events (answered) | ev/s | vs naive | vs C/lat "
        "| e2e p50 / p95 / p99 ms (paced) | overhead p99 ms | peak RSS MB | CPU % (burst) "
        "| CPU ms/event | load 1m |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for c in cells:
        burst = c.get("burst") or {}
        paced = c.get("paced") or {}
        r = rate(c)
        naive = rate(cell(cells, "naive", c["scenario"]))
        vs_naive = r / naive if r and naive and c["contender"] != "naive" else None
        vs_limit = None
        if c.get("kind") == "relais" and c.get("latency_ms") and r:
            vs_limit = r / (c["inflight_limit"] / (c["latency_ms"] / 1000))
        e2e = paced.get("e2e_ms") or {}
        over = paced.get("overhead_ms") or {}
        proc = relais_processes(c)
        per_event = burst.get("cpu_ms_per_event") or {}
        mine = [v for k, v in per_event.items() if k.startswith("contender")]
        cpu_per_event = sum(mine) if mine else None
        answered = burst.get("answered", 0) + paced.get("answered", 0)
        events = burst.get("events", 0) + paced.get("events", 0)
        status = "" if c.get("ok") else " FAILED"
        scenario = c["scenario"]
        if c.get("odd"):
            scenario += f" ({c['odd_opco']} {c['odd']}; others {_fmt(rate(c, 'others'))} ev/s)"
        rows.append(
            f"| {c['contender']}{status} | {scenario} | {c['inflight_limit']} "
            f"| {events} ({answered}) | {_fmt(r)} | {_fmt(vs_naive, 2)} | {_fmt(vs_limit, 2)} "
            f"| {_fmt(e2e.get('p50'))} / {_fmt(e2e.get('p95'))} / {_fmt(e2e.get('p99'))} "
            f"| {_fmt(over.get('p99'))} | {_fmt(proc.get('peak_rss_mb'))} "
            f"| {_fmt(proc.get('cpu_pct_burst'))} | {_fmt(cpu_per_event, 2)} "
            f"| {_fmt((c.get('loadavg_1m') or [None])[0])} |"
        )
    out = head + "\n".join(rows) + "\n"
    backlog = result.get("backlog")
    if backlog:
        out += (
            f"\nBacklog ({backlog.get('contender')}, {backlog.get('scenario')}): "
            f"{backlog.get('answered')}/{backlog.get('events')} answered in "
            f"{backlog.get('drain_s')} s ({_fmt(backlog.get('rate'))} ev/s); relais RSS early "
            f"{backlog.get('rss_early_mb')} MB, late {backlog.get('rss_late_mb')} MB, peak "
            f"{backlog.get('peak_rss_mb')} MB\n"
        )
    return out


def stages_table(result: Mapping[str, Any]) -> str:
    """Where relais's end-to-end time goes, paced phase (burst when there is none)."""
    out = (
        "| contender | scenario | phase | Kafka in p50 / p99 ms | dispatch minus injected "
        "p50 / p99 ms | status out p50 / p99 ms |\n|---|---|---|---|---|---|\n"
    )
    rows = 0
    for c in result.get("cells", []):
        for phase in ("paced", "burst"):
            st = (c.get(phase) or {}).get("stages")
            if not st:
                continue
            parts = [
                f"{_fmt(st[k].get('p50'))} / {_fmt(st[k].get('p99'))}"
                for k in ("kafka_in_ms", "dispatch_minus_injected_ms", "status_out_ms")
            ]
            out += f"| {c['contender']} | {c['scenario']} | {phase} | " + " | ".join(parts) + " |\n"
            rows += 1
            break
    return out if rows else ""


def targets_table(lines: Sequence[Mapping[str, Any]]) -> str:
    out = "| target | value | threshold | result | figures |\n|---|---|---|---|---|\n"
    for line in lines:
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[line["pass"]]
        out += (
            f"| {line['target']} | {_fmt(line['value'], 2)} | {line['threshold']} | {verdict} "
            f"| {line['detail']} |\n"
        )
    return out


def processes_table(result: Mapping[str, Any]) -> str:
    out = (
        "| contender | scenario | process | peak RSS MB | CPU % burst | CPU % paced |\n"
        "|---|---|---|---|---|---|\n"
    )
    for c in result.get("cells", []):
        for name, p in sorted((c.get("processes") or {}).items()):
            out += (
                f"| {c['contender']} | {c['scenario']} | {name} | {_fmt(p.get('peak_rss_mb'))} "
                f"| {_fmt(p.get('cpu_pct_burst'))} | {_fmt(p.get('cpu_pct_paced'))} |\n"
            )
    return out


def profile_section(profile: Mapping[str, Any] | None) -> str:
    if not profile:
        return ""
    if profile.get("error"):
        return f"\n## Profile\n\n{profile['error']}\n"
    out = (
        f"\n## Profile ({profile.get('contender')}, {profile.get('scenario')}, py-spy "
        f"{profile.get('duration_s')} s, {profile.get('loop_samples')} samples of the event-loop "
        f"thread)\n\nEvent loop idle (waiting in select): {profile.get('idle_pct')} %, busy: "
        f"{profile.get('busy_pct')} %.\n\nInclusive time (% of loop samples):\n\n"
    )
    for item in profile.get("inclusive_top", [])[:15]:
        out += f"- {item['pct']} % {item['frame']}\n"
    out += "\nSelf time:\n\n"
    for item in profile.get("self_top", [])[:12]:
        out += f"- {item['pct']} % {item['frame']}\n"
    out += "\nFrom relais's innermost frame to the leaf:\n\n"
    for item in profile.get("relais_anchor_to_leaf", [])[:12]:
        out += f"- {item['pct']} % {item['stack']}\n"
    return out


def markdown(result: Mapping[str, Any]) -> str:
    meta = result.get("meta", {})
    out = (
        f"# relais benchmark ({meta.get('plan')}, {meta.get('started')})\n\n"
        f"{meta.get('machine')}. {meta.get('note')}\n\n"
        + table(result)
        + "\n## Where relais's time goes (from its log lines)\n\n"
        + stages_table(result)
        + "\n## Targets\n\n"
        + targets_table(result.get("targets", []))
        + "\n## Processes\n\n"
        + processes_table(result)
        + "".join(profile_section(p) for p in result.get("profiles", []))
    )
    return out


def plot(result: Mapping[str, Any], path: Path) -> Path | None:
    """Throughput against OPCO latency, one line per contender (log scale), with C / latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [c for c in result.get("cells", []) if not c.get("odd")]
    if not cells:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    latencies = sorted({c["latency_ms"] for c in cells})
    for name in sorted({c["contender"] for c in cells}):
        points = sorted(
            (c["latency_ms"], rate(c)) for c in cells if c["contender"] == name and rate(c)
        )
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        if name == "pipe" and len(xs) == 1:
            ax.plot(latencies, [ys[0]] * len(latencies), "--", label="bare pipe (broker limit)")
        else:
            ax.plot(xs, ys, "o-", label=name)
    inflight = next((c["inflight_limit"] for c in cells if c.get("kind") == "relais"), None)
    positive = [x for x in latencies if x > 0]
    if inflight and positive:
        ax.plot(
            positive,
            [inflight / (x / 1000) for x in positive],
            ":",
            label=f"C / latency (C={inflight})",
        )
    ax.set_xlabel("OPCO latency (ms, mean injected per dossier POST)")
    ax.set_ylabel("events/s end to end (log)")
    ax.set_yscale("log")
    ax.set_xticks(latencies)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Throughput against OPCO latency (one 2-core machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(result: Mapping[str, Any], out_dir: Path, stamp: str) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stamp}.json", "md": out_dir / f"{stamp}.md"}
    paths["json"].write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    paths["md"].write_text(markdown(result), encoding="utf-8")
    png = plot(result, out_dir / f"{stamp}.png")
    if png is not None:
        paths["png"] = png
    return paths
