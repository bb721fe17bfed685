"""Starting each contender as a child process on the shared broker and simulator.

    pipe           python -m bench.pipe      (consume -> produce, the broker's limit)
    pipe-kafka     the same on Apache Kafka (one KRaft node, ``relais.adapters.embedded_kafka``)
    naive          python -m bench.naive     (one event at a time: consume, POST, status, commit)
    relais-pg      relais run, all roles, a fresh PostgreSQL database
    relais-sqlite  relais run, all roles, a fresh SQLite file
    relais-pg-kafka relais-pg on Apache Kafka, with relais's production group timings and fetch wait

relais is configured only through ``RELAIS_*`` variables, as in a deployment: production defaults
except the embedded broker's group timings (1000/333 ms), the in-flight limit ``C`` of the run,
the profiles' per-OPCO rate limits lifted (the simulator's are off too) and polling every hour
(the simulator's clock stands still, so there is nothing to find).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.infra import Infra
from relais.adapters.embedded_broker import free_port
from relais.config import KafkaSettings
from relais.demo.processes import Child, ProcessError, RelaisProcess, child_env, relais_env
from relais.domain.opco import ALL_OPCO

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Contender:
    name: str
    kind: str  # pipe | naive | relais
    ledger: str | None = None  # postgres | sqlite (relais only)
    # relais only: the roles of each process (one process with every role by default)
    processes: tuple[str, ...] = ("",)
    broker: str = "tansu"  # tansu | kafka (Apache Kafka, started only when a contender needs it)


PIPE = Contender("pipe", "pipe")
NAIVE = Contender("naive", "naive")
RELAIS_PG = Contender("relais-pg", "relais", "postgres")
RELAIS_SQLITE = Contender("relais-sqlite", "relais", "sqlite")
# Two processes on one PostgreSQL ledger: Kafka in and out apart from the OPCO calls.
RELAIS_PG_SPLIT = Contender(
    "relais-pg-split", "relais", "postgres", processes=("ingest,relay", "dispatch,poll")
)


PIPE_KAFKA = Contender("pipe-kafka", "pipe", broker="kafka")
RELAIS_PG_KAFKA = Contender("relais-pg-kafka", "relais", "postgres", broker="kafka")
ALL = (PIPE, NAIVE, RELAIS_PG, RELAIS_SQLITE, RELAIS_PG_SPLIT, PIPE_KAFKA, RELAIS_PG_KAFKA)


class HandshakeChild(Child):
    """A child that prints one ready line on stdout."""

    def __init__(self, name: str, argv: list[str], log_path: Path, ready: str) -> None:
        env = child_env(
            {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        )
        super().__init__(name, argv, log_path, env)
        self.ready = ready

    async def start_and_wait(self, timeout_s: float = 60.0) -> None:
        self.start(stdout_pipe=True)
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        os.set_blocking(stdout.fileno(), False)
        buffer = b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            chunk = stdout.read()
            if chunk:
                buffer += chunk
                if self.ready.encode() in buffer:
                    return
            await asyncio.sleep(0.05)
        raise ProcessError(f"{self.name} not ready after {timeout_s}s; log {self.log_path}")


def relais_can_set_fetch_wait() -> bool:
    return "fetch_max_wait_ms" in KafkaSettings.model_fields


def relais_fetch_env(fetch_wait_ms: int | None) -> dict[str, str]:
    """``RELAIS_KAFKA__FETCH_MAX_WAIT_MS`` when relais has that setting (older relais: nothing,
    its consumer keeps aiokafka's 500 ms; the JSON's meta says which)."""
    if fetch_wait_ms is None or not relais_can_set_fetch_wait():
        return {}
    return {"RELAIS_KAFKA__FETCH_MAX_WAIT_MS": str(fetch_wait_ms)}


@dataclass
class Running:
    child: Child
    ledger_url: str | None = None
    others: list[Child] = field(default_factory=list)  # the other processes of a split relais

    @property
    def children(self) -> list[Child]:
        return [self.child, *self.others]


async def start(
    infra: Infra,
    contender: Contender,
    topics: Mapping[str, str],
    label: str,
    *,
    inflight: int,
    relais_env_extra: Mapping[str, str] | None = None,
    relaxed_ledger: bool = False,
) -> Running:
    """Start ``contender`` on ``topics`` and wait until it is ready; registered for cleanup."""
    log_path = infra.workdir / f"{label}.log"
    group = f"bench-{label}"
    if contender.kind in ("pipe", "naive"):
        module = f"bench.{contender.kind}"
        args = [
            "--bootstrap", infra.bootstrap,
            "--input", topics["input"],
            "--output", topics["status"],
            "--group", group,
        ]  # fmt: skip
        if infra.on_tansu and infra.fetch_wait_ms is not None:
            args += ["--fetch-wait-ms", str(infra.fetch_wait_ms)]
        if infra.on_tansu:
            args += ["--tansu-timings"]
        if contender.kind == "naive":
            args += [
                "--keys", str(infra.keys_file),
                "--oauth", str(infra.oauth_file),
                "--profiles", str(infra.profiles_file),
            ]  # fmt: skip
        child = HandshakeChild(
            contender.name,
            [sys.executable, "-m", module, *args],
            log_path,
            f"bench-{contender.kind} ready",
        )
        infra.children.append(child)
        await child.start_and_wait()
        return Running(child)

    if contender.ledger == "postgres":
        ledger_url = await infra.create_database(relaxed=relaxed_ledger or infra.relaxed_ledger)
    else:
        ledger_url = infra.sqlite_url(label, relaxed=relaxed_ledger or infra.relaxed_ledger)
    overrides = {code.value: {"rate_limit_per_s": 1_000_000} for code in ALL_OPCO}
    started: list[RelaisProcess] = []
    for index, roles in enumerate(contender.processes):
        port = free_port()
        env = relais_env(
            bootstrap=infra.bootstrap,
            ledger_url=ledger_url,
            http_port=port,
            profiles_file=infra.profiles_file,
            keys_file=infra.keys_file,
            oauth_file=infra.oauth_file,
            input_topic=topics["input"],
            status_topic=topics["status"],
            dlq_topic=topics["dlq"],
            group_id=group,
            poll_interval_s=3600.0,
            fast_retries=False,
            # Apache Kafka: relais's production group timings and fetch wait (it answers a
            # fetch as soon as records are there)
            tansu_timings=infra.on_tansu,
            extra={
                "RELAIS_DISPATCH__INFLIGHT_LIMIT": str(inflight),
                "RELAIS_OPCO__OVERRIDES": json.dumps(overrides),
                **(relais_fetch_env(infra.fetch_wait_ms) if infra.on_tansu else {}),
                **(relais_env_extra or {}),
            },
        )
        suffix = f"-{index + 1}" if len(contender.processes) > 1 else ""
        relais = RelaisProcess(
            log_path=log_path.with_name(f"{label}{suffix}.log"),
            env=env,
            http_port=port,
            args=("--role", roles) if roles else (),
        )
        infra.children.append(relais)
        relais.start()
        started.append(relais)
    for relais in started:
        await relais.wait_ready()
    return Running(started[0], ledger_url, list(started[1:]))


async def stop(infra: Infra, running: Running) -> None:
    for child in running.children:
        await asyncio.to_thread(child.stop, 20.0)
        if child in infra.children:
            infra.children.remove(child)
    if running.ledger_url and running.ledger_url.startswith("postgresql"):
        await infra.drop_database(running.ledger_url)
