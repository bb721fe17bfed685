"""``relais demo``: the whole system on one machine, a realistic stream, a live view, a verdict.

    broker   Tansu in memory (relais.adapters.embedded_broker), topics created up front
    ledger   SQLite under .relais/demo/
    OPCO     ``relais simulator`` for the 11 OPCO, clock scaled (one day every ``day_seconds``),
             5 % refusals, one OPCO down for a while, one answering a few 503s
    relais   ``relais run`` (all roles) as a child process, configured through RELAIS_* variables
    CFA      3 CFA publishing the scenario (relais.demo.scenario) through an aiokafka producer

The demo reads the status topic like any CFA would, feeds the ``Tracker`` and draws the view. With
``exit_when_done`` it stops once every event has its terminal status and every dossier (and
facture) it can follow has its final etat, then prints ONE JSON summary on stdout: counts by
status and OPCO, latency, and the invariant checks against the simulator's request record.
Without it, everything keeps running (``relais watch``, ``relais dossier show`` find it through
``.relais/demo.json``) until Ctrl-C (or SIGTERM), which prints the same summary and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.live import Live

from relais.adapters.embedded_broker import EmbeddedBroker, create_topics, free_port
from relais.config import KafkaSettings
from relais.demo.processes import (
    ProcessError,
    RelaisProcess,
    SimulatorAdmin,
    SimulatorProcess,
    relais_env,
    write_profiles,
)
from relais.demo.scenario import Engaged, Planned, Scenario
from relais.demo.tracker import Tracker
from relais.demo.view import Banner, render
from relais.domain.dates import PARIS
from relais.domain.events import structured_to_record
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import referential
from relais.operator.kafka_io import read_topic
from relais.operator.target import DEFAULT_STATE_FILE, DemoState, remove_state
from relais.sampledata import Generator
from relais.sampledata import identifiers as ids

OAUTH_CLIENT_ID = "relais-demo"
WRITE_ROUTES = ["dossiers_post", "conventions", "factures", "certificats", "rupture"]


@dataclass
class DemoOptions:
    events: int = 200
    exit_when_done: bool = False
    seed: int = 2026
    day_seconds: float = 1.0
    rate_per_s: float = 80.0
    refusal_rate: float = 0.05
    down_opco: str | None = "CONSTRUCTYS"
    down_s: float = 8.0
    flaky_opco: str | None = "OPCOEP"
    flaky_error_rate: float = 0.05
    timeout_s: float = 600.0
    workdir: Path = field(default_factory=lambda: Path(".relais") / "demo")
    state_file: Path = DEFAULT_STATE_FILE
    live: bool | None = None  # None: when stderr is a terminal


@dataclass
class Files:
    workdir: Path
    keys: Path
    oauth: Path
    profiles: Path
    ledger_url: str


def _private_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def prepare_files(opts: DemoOptions, generator: Generator, today: date) -> Files:
    """A fresh work directory: credentials for the CFA (one idle CFA whose keys expire soon)."""
    workdir = opts.workdir
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
        ["opco", "client_id", "client_secret"],
        [["AKTO", OAUTH_CLIENT_ID, secrets.token_urlsafe(24)]],
    )
    ledger = (workdir / "ledger.db").resolve()
    return Files(workdir, keys, oauth, workdir / "opco-profiles.json", f"sqlite:///{ledger}")


class Demo:
    def __init__(self, opts: DemoOptions, *, out: TextIO, err: TextIO) -> None:
        self.opts = opts
        self.out = out
        self.err = err
        self.today = datetime.now(PARIS).date()
        self.generator = Generator(opts.seed, self.today, cfa_count=3)
        self.profiles: dict[OpcoCode, OpcoProfile] = load_profiles(
            referential("opco-profiles.json")
        )
        self.scenario = Scenario.build(self.generator, self.profiles, opts.events)
        self.tracker = Tracker(followable=self._followable)
        self.banner = Banner(planned=opts.events)
        self.started = time.monotonic()
        self.kafka = KafkaSettings()
        self.admin: SimulatorAdmin | None = None
        self.producer: AIOKafkaProducer | None = None
        self.immediate_done = False

    def _followable(self, opco: str, kind: str) -> bool:
        caps = self.profiles[OpcoCode(opco)].capabilities
        return caps.dossiers_etats if kind == "dossier" else caps.factures_etats

    def log(self, message: str) -> None:
        print(f"relais demo: {message}", file=self.err, flush=True)

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, planned: Planned) -> None:
        assert self.producer is not None
        record = structured_to_record(planned.event)
        value = planned.raw_value if planned.raw_value is not None else record.value
        self.tracker.published(
            event_id=planned.event_id,
            cfa=planned.cfa,
            dossier_id=planned.subject,
            kind=planned.kind,
            at=time.monotonic(),
            expected=planned.expected,
            opco=planned.opco,
            label=planned.label,
        )
        await self.producer.send_and_wait(
            self.kafka.input_topic, value=value, key=record.key, headers=record.headers
        )
        self.banner.published += 1

    async def publish_immediate(self) -> None:
        pause = 1.0 / self.opts.rate_per_s if self.opts.rate_per_s > 0 else 0.0
        for planned in self.scenario.immediate:
            await self.publish(planned)
            if pause:
                await asyncio.sleep(pause)
        self.immediate_done = True

    async def follow_ups(self) -> None:
        """Send follow-ups as the OPCO engages their dossiers; skip what can no longer be sent."""
        while self.scenario.slots:
            for cfa, dossier_id in self.tracker.dead_ends():
                ready = self.scenario.refused((cfa, dossier_id))
                if ready is not None:
                    await self._send_follow_up(*ready)
            for cfa, dossier_id, opco, numero in self.tracker.engaged():
                ready = self.scenario.place(Engaged(cfa, dossier_id, opco, numero))
                if ready is not None:
                    await self._send_follow_up(*ready)
            if self.scenario.slots and self._only_follow_ups_left():
                self.banner.skipped = self.scenario.give_up()
            self.banner.skipped = self.scenario.skipped
            await asyncio.sleep(0.3)

    def _only_follow_ups_left(self) -> bool:
        """Every published event is terminal and settled: no new engagement can come."""
        return self.immediate_done and self.tracker.done()

    async def _send_follow_up(self, slot: str, dossiers: list[Any]) -> None:
        assert self.admin is not None
        montants: dict[str, float] = {}
        deca: str | None = None
        for d in dossiers:
            track = next(
                (
                    t
                    for t in self.tracker.events.values()
                    if t.dossier_id == d.dossier_id and t.kind == "dossier" and t.numero_interne
                ),
                None,
            )
            if track is None or track.numero_interne is None:
                continue
            view = await self.admin.dossier(d.opco.value, track.numero_interne)
            deca = view.get("numeroDeca") or deca
            for e in view.get("echeances") or []:
                if e.get("numero") == 1:
                    remaining = (
                        float(e.get("montantTotal") or 0)
                        - float(e.get("montantRegle") or 0)
                        - float(e.get("montantEnCoursInstruction") or 0)
                    )
                    montants[d.dossier_id] = max(1.0, round(remaining * 0.4, 2))
        planned = self.scenario.follow_up(slot, dossiers, montants=montants, numero_deca=deca)
        await self.publish(planned)

    # -- watching --------------------------------------------------------------------------------

    async def watch_statuses(self) -> None:
        reader = read_topic(self.kafka, self.kafka.status_topic, from_beginning=True, follow=True)
        async with contextlib.aclosing(reader) as records:
            async for rec in records:
                try:
                    body = json.loads(rec.value) if rec.value else {}
                except ValueError:
                    body = {}
                if isinstance(body, dict):
                    self.tracker.observe(rec.header("ce_id"), body, time.monotonic())

    async def faults(self) -> None:
        assert self.admin is not None
        opts = self.opts
        if opts.flaky_opco:
            await self.admin.set_fault(
                opts.flaky_opco,
                {
                    "error_rate": opts.flaky_error_rate,
                    "error_statuses": [503],
                    "retry_after_s": 1,
                    "routes": WRITE_ROUTES,
                },
            )
            self.banner.faults = {
                **self.banner.faults,
                opts.flaky_opco: f"{opts.flaky_error_rate:.0%} of calls answer 503",
            }
        if opts.down_opco:
            # Down for writes only: dispatch retries show; polling keeps its normal pace.
            await self.admin.set_fault(
                opts.down_opco, {"down": True, "retry_after_s": 1, "routes": WRITE_ROUTES}
            )
            self.banner.faults = {
                **self.banner.faults,
                opts.down_opco: f"rejects writes for {opts.down_s:.0f}s (503 + Retry-After)",
            }
            await asyncio.sleep(opts.down_s)
            await self.admin.clear_fault(opts.down_opco)
            faults = dict(self.banner.faults)
            faults.pop(opts.down_opco, None)
            self.banner.faults = faults

    # -- summary ---------------------------------------------------------------------------------

    async def summary(self, *, timed_out: bool) -> dict[str, Any]:
        assert self.admin is not None
        records = await self.admin.records()
        self.tracker.settle_with(records)
        inv = self.tracker.invariants()
        unexpected = self.tracker.unexpected_outcomes()
        t = self.tracker
        return {
            "ok": inv["violations"] == 0 and not timed_out,
            "timed_out": timed_out,
            "duration_s": round(time.monotonic() - self.started, 1),
            "events": {
                "planned": self.opts.events,
                "published": self.banner.published,
                "skipped_follow_ups": self.banner.skipped,
            },
            "counts_by_status": t.counts_by_status(),
            "counts_by_opco": t.counts_by_opco(),
            "etats_by_opco": t.etats_by_opco(),
            "latency_ms": t.latency_summary(),
            "retrying_notes": sum(t.retries_by_opco.values()),
            "retrying_by_opco": dict(sorted(t.retries_by_opco.items())),
            "error_codes": dict(sorted(t.error_codes().items())),
            "unexpected_outcomes": {"count": len(unexpected), "first": unexpected[:10]},
            "status_records": {
                "read": t.status_records,
                "redelivered": t.redelivered,
                "unknown": t.unknown_statuses,
            },
            "simulator_requests": len(records),
            "invariants": inv,
        }

    # -- the whole run ---------------------------------------------------------------------------

    async def run(self) -> int:
        opts = self.opts
        running = DemoState.read(opts.state_file)
        if running is not None and running.pid not in (None, os.getpid()) and running.alive:
            self.log(f"a demo already runs here (pid {running.pid}); stop it first")
            return 2
        files = prepare_files(opts, self.generator, self.today)
        self.log(f"work directory {files.workdir}")
        simulator: SimulatorProcess | None = None
        relais: RelaisProcess | None = None
        broker: EmbeddedBroker | None = None
        tasks: list[asyncio.Task[Any]] = []
        try:
            broker = EmbeddedBroker(log_path=files.workdir / "tansu.log")
            await asyncio.to_thread(broker.start)
            self.kafka = KafkaSettings(bootstrap_servers=broker.bootstrap)
            await create_topics(
                broker.bootstrap, [self.kafka.input_topic, self.kafka.status_topic], 4
            )
            await create_topics(
                broker.bootstrap, [self.kafka.dlq_topic, self.kafka.rejected_topic], 1
            )
            self.log(f"broker {broker.bootstrap}")
            simulator = SimulatorProcess(
                log_path=files.workdir / "simulator.log",
                admin_token=secrets.token_urlsafe(24),
                keys_file=files.keys,
                oauth_file=files.oauth,
                day_seconds=opts.day_seconds,
                refusal_rate=opts.refusal_rate,
                seed=opts.seed,
            )
            sim_url = await asyncio.to_thread(simulator.start_and_wait)
            self.admin = SimulatorAdmin(sim_url, simulator.admin_token)
            write_profiles(referential("opco-profiles.json"), files.profiles, sim_url)
            self.log(f"simulator {sim_url} (one day every {opts.day_seconds}s)")
            http_port = free_port()
            relais = RelaisProcess(
                log_path=files.workdir / "relais.log",
                http_port=http_port,
                env=relais_env(
                    bootstrap=broker.bootstrap,
                    ledger_url=files.ledger_url,
                    http_port=http_port,
                    profiles_file=files.profiles,
                    keys_file=files.keys,
                    oauth_file=files.oauth,
                ),
            )
            relais.start()
            await relais.wait_ready()
            self.log(f"relais run ready (health on :{http_port}, log {relais.log_path})")
            DemoState(
                bootstrap=broker.bootstrap,
                ledger_url=files.ledger_url,
                simulator_url=sim_url,
                admin_token=simulator.admin_token,
                keys_file=str(files.keys.resolve()),
                oauth_file=str(files.oauth.resolve()),
                profiles_file=str(files.profiles.resolve()),
                cfas=[c.siret for c in self.generator.cfas],
                pid=os.getpid(),
                started_at=datetime.now(UTC).isoformat(),
            ).write(opts.state_file)
            self.producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
            await self.producer.start()
            self.started = time.monotonic()
            self.banner.phase = "running"
            tasks = [
                asyncio.create_task(self.watch_statuses(), name="statuses"),
                asyncio.create_task(self.faults(), name="faults"),
                asyncio.create_task(self.publish_immediate(), name="publish"),
                asyncio.create_task(self.follow_ups(), name="follow-ups"),
            ]
            finished = await self._until_done(tasks, relais)
            if not opts.exit_when_done:
                self.banner.phase = "done; Ctrl-C to stop"
                self.banner.notes = [
                    "try: relais watch --from-beginning | relais dossier show <id> | "
                    "relais dlq list | relais keys check"
                ]
                try:
                    await self._show_until_interrupted(relais)
                except asyncio.CancelledError:  # Ctrl-C / SIGTERM: the verdict, then stop
                    current = asyncio.current_task()
                    if current is not None:
                        current.uncancel()
                    self.log("stopping; the summary follows")
            summary = await self.summary(timed_out=not finished)
            print(json.dumps(summary, ensure_ascii=False), file=self.out, flush=True)
            return 0 if summary["ok"] else 1
        except ProcessError as exc:
            self.log(str(exc))
            return 2
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, KafkaError, ProcessError):
                    await task
            if self.producer is not None:
                await self.producer.stop()
            if self.admin is not None:
                await self.admin.aclose()
            if relais is not None:
                await asyncio.to_thread(relais.stop)
            if simulator is not None:
                await asyncio.to_thread(simulator.stop)
            if broker is not None:
                await asyncio.to_thread(broker.stop)
            remove_state(opts.state_file)

    async def _until_done(self, tasks: list[asyncio.Task[Any]], relais: RelaisProcess) -> bool:
        deadline = self.started + self.opts.timeout_s
        last_note = 0.0
        with self._live() as live:
            while True:
                now = time.monotonic()
                self.banner.elapsed_s = now - self.started
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                relais.check_alive()
                if live is not None:
                    live.update(render(self.tracker, self.banner))
                elif now - last_note >= 5:
                    last_note = now
                    self.log(self._progress())
                if self._complete():
                    self.banner.phase = "complete"
                    if live is not None:
                        live.update(render(self.tracker, self.banner))
                    return True
                if now >= deadline:
                    self.banner.phase = "timed out"
                    self.log(f"timed out after {self.opts.timeout_s:.0f}s: {self._progress()}")
                    return False
                await asyncio.sleep(0.25)

    def _complete(self) -> bool:
        return self.immediate_done and not self.scenario.slots and self.tracker.done()

    def _progress(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.tracker.counts_by_status().items())
        return (
            f"t={self.banner.elapsed_s:.0f}s published {self.banner.published}/"
            f"{self.banner.planned}: {counts}; awaiting OPCO decision "
            f"{len(self.tracker.unsettled())}"
        )

    async def _show_until_interrupted(self, relais: RelaisProcess) -> None:
        self.log("everything settled; the demo keeps running: Ctrl-C to stop")
        with self._live(refresh_per_second=2) as live:
            while True:
                self.banner.elapsed_s = time.monotonic() - self.started
                relais.check_alive()
                if live is not None:
                    live.update(render(self.tracker, self.banner))
                await asyncio.sleep(0.5)

    def _live(
        self, refresh_per_second: float = 4
    ) -> contextlib.AbstractContextManager[Live | None]:
        wanted = self.opts.live if self.opts.live is not None else self.err.isatty()
        if not wanted:
            return contextlib.nullcontext()
        console = Console(file=self.err)
        return Live(
            render(self.tracker, self.banner),
            console=console,
            refresh_per_second=refresh_per_second,
        )


async def _run_until_signal(demo: Demo) -> int:
    """``demo.run()``, cancelled (cleanly: children and broker stopped) on SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    stopping: list[int] = []

    def stop(signum: int) -> None:
        stopping.append(signum)
        main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await demo.run()
    except asyncio.CancelledError:
        if not stopping:
            raise
        demo.log("stopped")
        return 128 + stopping[0]
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def run_demo(opts: DemoOptions, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    demo = Demo(opts, out=out or sys.stdout, err=err or sys.stderr)
    return asyncio.run(_run_until_signal(demo))
