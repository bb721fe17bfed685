"""The demo's processes, started in order and stopped in reverse: the work directory and its
credentials, the embedded broker and its topics, the OPCO simulator (its admin client), ``relais
run``; and the state file that lets the operator commands find them."""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from relais.adapters.embedded_broker import EmbeddedBroker, create_topics, free_port
from relais.config import KafkaSettings
from relais.demo.processes import (
    RelaisProcess,
    SimulatorAdmin,
    SimulatorProcess,
    oauth_client_rows,
    relais_env,
    write_profiles,
)
from relais.domain.opco import ALL_OPCO
from relais.domain.referentials import referential
from relais.operator.target import DemoState
from relais.sampledata import Generator
from relais.sampledata import identifiers as ids

OAUTH_CLIENT_ID = "relais-demo"


@dataclass
class Files:
    workdir: Path
    keys: Path
    oauth: Path
    profiles: Path
    ledger_url: str
    files_base: Path  # the local file store: one subdirectory per CFA SIRET


def _private_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def prepare_files(workdir: Path, generator: Generator, today: date) -> Files:
    """A fresh work directory: credentials for the CFA (one idle CFA whose keys expire soon)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    rows = [
        [
            cfa.siret,
            opco.value,
            secrets.token_urlsafe(18),
            (today + timedelta(days=3650)).isoformat(),
        ]
        for cfa in generator.cfas
        for opco in ALL_OPCO
    ]
    # A CFA that sends nothing in the demo, with keys about to expire: ``relais keys check``.
    idle = ids.make_siret(generator.rng)
    rows.append([idle, "AKTO", secrets.token_urlsafe(18), (today + timedelta(days=12)).isoformat()])
    rows.append(
        [idle, "ATLAS", secrets.token_urlsafe(18), (today + timedelta(days=40)).isoformat()]
    )
    keys = workdir / "keys.csv"
    _private_csv(keys, ["siret", "opco", "key", "expiry"], rows)
    oauth = workdir / "oauth.csv"
    _private_csv(
        oauth,
        ["opco", "client_id", "client_secret", "dpop_key_file"],
        oauth_client_rows(
            referential("opco-profiles.json"), workdir, OAUTH_CLIENT_ID, secrets.token_urlsafe(24)
        ),
    )
    ledger = (workdir / "ledger.db").resolve()
    return Files(
        workdir,
        keys,
        oauth,
        workdir / "opco-profiles.json",
        f"sqlite:///{ledger}",
        generator.files_base,
    )


@dataclass
class Stack:
    """What is started so far (None: not yet); ``stop`` stops it, whatever got started."""

    kafka: KafkaSettings
    broker: EmbeddedBroker | None = None
    simulator: SimulatorProcess | None = None
    sim_url: str = ""
    admin: SimulatorAdmin | None = None
    relais: RelaisProcess | None = None

    async def start(
        self,
        files: Files,
        log: Callable[[str], None],
        *,
        day_seconds: float,
        refusal_rate: float,
        seed: int,
    ) -> None:
        """Broker, simulator, then ``relais run``, each waited for (``ProcessError`` if not)."""
        broker = self.broker = EmbeddedBroker(log_path=files.workdir / "tansu.log")
        await asyncio.to_thread(broker.start)
        self.kafka = KafkaSettings(bootstrap_servers=broker.bootstrap)
        await create_topics(broker.bootstrap, [self.kafka.input_topic, self.kafka.status_topic], 4)
        await create_topics(broker.bootstrap, [self.kafka.dlq_topic, self.kafka.rejected_topic], 1)
        log(f"broker {broker.bootstrap}")
        simulator = self.simulator = SimulatorProcess(
            log_path=files.workdir / "simulator.log",
            admin_token=secrets.token_urlsafe(24),
            keys_file=files.keys,
            oauth_file=files.oauth,
            day_seconds=day_seconds,
            refusal_rate=refusal_rate,
            seed=seed,
        )
        sim_url = self.sim_url = await asyncio.to_thread(simulator.start_and_wait)
        self.admin = SimulatorAdmin(sim_url, simulator.admin_token)
        write_profiles(referential("opco-profiles.json"), files.profiles, sim_url)
        log(f"simulator {sim_url} (one day every {day_seconds}s)")
        http_port = free_port()
        relais = self.relais = RelaisProcess(
            log_path=files.workdir / "relais.log",
            http_port=http_port,
            env=relais_env(
                bootstrap=broker.bootstrap,
                ledger_url=files.ledger_url,
                http_port=http_port,
                profiles_file=files.profiles,
                keys_file=files.keys,
                oauth_file=files.oauth,
                files_base=files.files_base,
            ),
        )
        relais.start()
        await relais.wait_ready()
        log(f"relais run ready (health on :{http_port}, log {relais.log_path})")

    def state(self, files: Files, cfas: list[str]) -> DemoState:
        """What ``relais watch|dossier|dlq|keys`` need to find this demo."""
        assert self.broker is not None and self.simulator is not None
        return DemoState(
            bootstrap=self.broker.bootstrap,
            ledger_url=files.ledger_url,
            simulator_url=self.sim_url,
            admin_token=self.simulator.admin_token,
            keys_file=str(files.keys.resolve()),
            oauth_file=str(files.oauth.resolve()),
            profiles_file=str(files.profiles.resolve()),
            files_base=str(files.files_base.resolve()),
            cfas=cfas,
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(),
        )

    async def stop(self) -> None:
        """The admin client, then relais, the simulator and the broker (what was started)."""
        if self.admin is not None:
            await self.admin.aclose()
        if self.relais is not None:
            await asyncio.to_thread(self.relais.stop)
        if self.simulator is not None:
            await asyncio.to_thread(self.simulator.stop)
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
