"""``relais run`` when a dependency is down at start: the reason first (one log line with a hint,
before the "stopping" of what did start), no traceback, exit 69 (EX_UNAVAILABLE), not 2 or 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: refused


def run_relais(tmp_path: Path, **settings: str) -> tuple[int, list[dict[str, object]], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update(
        RELAIS_SECRETS_DIR=str(tmp_path / "none"),
        RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES="true",
        RELAIS_HTTP__PORT="0",
        RELAIS_LOG__JSON="true",
        RELAIS_LEDGER__URL=f"sqlite:///{tmp_path}/ledger.db",
    )
    env.update(settings)
    done = subprocess.run(
        [sys.executable, "-m", "relais.entrypoints.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return (
        done.returncode,
        [e for e in events if str(e.get("logger", "")).startswith("relais")],
        output,
    )


def first_not_warning(events: list[dict[str, object]]) -> dict[str, object]:
    """The first relais line past the start-up warnings (a referential past its validity date on
    a shifted clock, a loose secret file): the reason must come before anything else."""
    rest = [e for e in events if e.get("level") != "warning"]
    assert rest, events
    return rest[0]


def without_warnings(output: str) -> str:
    def warning(line: str) -> bool:
        return line.startswith("{") and json.loads(line).get("level") == "warning"

    return "\n".join(line for line in output.splitlines() if not warning(line))


def test_postgresql_down_at_start(tmp_path: Path) -> None:
    url = f"postgresql://relais:pw-n0t-printed@127.0.0.1:{closed_port()}/relais"
    code, events, output = run_relais(tmp_path, RELAIS_LEDGER__URL=url)
    assert code == 69, output[-2000:]
    first = first_not_warning(events)
    assert first["event"] == "relais.start_failed", events[:3]
    assert "ledger unreachable" in str(first["reason"])
    assert "RELAIS_LEDGER__URL" in str(first["hint"])
    assert "Traceback" not in output and "pw-n0t-printed" not in output
    assert len(without_warnings(output)) < 3000, len(output)


def test_kafka_down_at_start(tmp_path: Path) -> None:
    bootstrap = f"127.0.0.1:{closed_port()}"
    code, events, output = run_relais(tmp_path, RELAIS_KAFKA__BOOTSTRAP_SERVERS=bootstrap)
    assert code == 69, output[-2000:]
    first = first_not_warning(events)
    assert first["event"] == "relais.start_failed", events[:3]
    assert bootstrap in str(first["reason"])
    assert "RELAIS_KAFKA__BOOTSTRAP_SERVERS" in str(first["hint"])
    assert "Traceback" not in output


def test_an_operator_command_against_a_down_broker_exits_69(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env["RELAIS_SECRETS_DIR"] = str(tmp_path / "none")
    argv = ["dlq", "list", "--no-demo", "--bootstrap", f"127.0.0.1:{closed_port()}"]
    done = subprocess.run(
        [sys.executable, "-m", "relais.entrypoints.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert done.returncode == 69, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("relais dlq: ")
