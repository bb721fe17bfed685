"""``relais demo`` end to end: the summary's verdict, and operator commands finding the demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def relais(*args: str) -> list[str]:
    return [sys.executable, "-m", "relais.entrypoints.cli", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}


def test_demo_exit_prints_one_summary_with_no_violation(tmp_path: Path) -> None:
    run = subprocess.run(
        relais("demo", "--events", "60", "--exit", "--no-live", "--timeout", "200"),
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=260,
    )

    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-3000:]}"
    summary: dict[str, Any] = json.loads(lines[0])
    assert run.returncode == 0, json.dumps(summary["invariants"], indent=1) + run.stderr[-3000:]
    inv = summary["invariants"]
    assert (inv["lost"], inv["duplicated"], inv["out_of_order"]) == (0, 0, 0)
    assert inv["without_terminal_status"] == 0
    assert inv["checked_against_simulator"]
    assert summary["events"]["published"] + summary["events"]["skipped_follow_ups"] == 60
    assert sum(summary["counts_by_status"].values()) == summary["events"]["published"]
    assert summary["counts_by_status"].get("rejected", 0) >= 1  # the invalid dossier
    assert summary["counts_by_status"].get("dead_lettered", 0) == 1  # the record that is not JSON
    assert summary["unexpected_outcomes"]["count"] == 0, summary["unexpected_outcomes"]
    assert len(summary["counts_by_opco"]) >= 11
    documents = summary["documents"]  # PDFs in the CFAs' directories, sent by relais
    assert documents["published"] >= 1
    assert documents["by_status"] == {"submitted": documents["published"]}, documents
    assert documents["at_opco"] == documents["published"]
    engaged = sum(
        v for o in summary["etats_by_opco"].values() for k, v in o.items() if "ENGAGE" in k
    )
    assert engaged > 0
    assert summary["latency_ms"]["p50"] is not None
    assert summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert not (tmp_path / ".relais" / "demo.json").exists()


def test_operator_commands_find_a_running_demo_without_flags(tmp_path: Path) -> None:
    err_file, out_file = tmp_path / "demo.err", tmp_path / "demo.out"
    with err_file.open("w") as err, out_file.open("w") as out:
        demo = subprocess.Popen(
            relais("demo", "--events", "25", "--no-live"),
            cwd=tmp_path,
            env=clean_env(),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 150
        while "everything settled" not in err_file.read_text():
            assert demo.poll() is None, err_file.read_text()[-3000:]
            assert time.monotonic() < deadline, err_file.read_text()[-3000:]
            time.sleep(0.5)
        assert (tmp_path / ".relais" / "demo.json").exists()

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                relais(*args), cwd=tmp_path, env=clean_env(), capture_output=True, text=True
            )

        watched = cli("watch", "--no-follow", "--json")
        assert watched.returncode == 0, watched.stderr
        statuses = [json.loads(line) for line in watched.stdout.splitlines()]
        submitted = [s for s in statuses if s["status"] == "submitted" and s["kind"] == "dossier"]
        assert submitted
        shown = cli("dossier", "show", submitted[0]["dossierId"], "--json")
        assert shown.returncode == 0, shown.stderr
        dossier = json.loads(shown.stdout)
        assert dossier["numeroInterne"] == submitted[0]["numeroInterne"]
        assert dossier["commands"] and dossier["timeline"]
        dead = cli("dlq", "list", "--json")
        assert dead.returncode == 0, dead.stderr
        assert [json.loads(line)["reason"] for line in dead.stdout.splitlines()] == [
            "DATA_NOT_JSON"
        ]
        keys = cli("keys", "check", "--json")
        rows = json.loads(keys.stdout)
        assert len(rows) >= 33  # 3 CFA x 11 OPCO, plus the idle CFA's keys
        assert rows[0]["state"] in ("invalid", "expired", "expiring")  # trouble comes first
        config = cli("config", "check", "--json")
        assert json.loads(config.stdout)["errors"] == 0, config.stdout
        example = Path(__file__).parents[2] / "schemas" / "examples" / "dossier-initial.json"
        sent = cli("send", str(example))
        assert sent.returncode == 0, sent.stderr
        event_id = json.loads(sent.stdout)["id"]
        terminal: list[str] = []
        until = time.monotonic() + 30
        while not terminal and time.monotonic() < until:
            seen = cli("watch", "--event", event_id, "--no-follow", "--json").stdout
            terminal = [
                st["status"]
                for st in map(json.loads, seen.splitlines())
                if st["status"] in ("submitted", "rejected", "failed", "dead_lettered")
            ]
        assert len(terminal) == 1, terminal  # the event sent by hand got its one answer
    finally:
        demo.send_signal(signal.SIGTERM)
        code = demo.wait(timeout=60)
    assert code == 0, err_file.read_text()[-3000:]  # stopped on request, verdict printed
    summary = json.loads(out_file.read_text())
    assert summary["invariants"]["violations"] == 0
    assert not (tmp_path / ".relais" / "demo.json").exists()
