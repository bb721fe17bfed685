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
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.live import Live

from relais.config import KafkaSettings
from relais.demo.processes import (
    ProcessError,
    RelaisProcess,
    SimulatorAdmin,
)
from relais.demo.scenario import Engaged, Planned, Scenario
from relais.demo.stack import Stack, prepare_files
from relais.demo.summary import verdict
from relais.demo.tracker import Tracker
from relais.demo.view import Banner, render
from relais.domain.dates import PARIS
from relais.domain.events import structured_to_record
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import referential
from relais.operator.kafka_io import read_topic
from relais.operator.target import DEFAULT_STATE_FILE, DemoState, remove_state
from relais.sampledata import Generator

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


class Demo:
    def __init__(self, opts: DemoOptions, *, out: TextIO, err: TextIO) -> None:
        self.opts = opts
        self.out = out
        self.err = err
        self.today = datetime.now(PARIS).date()
        files_dir = opts.workdir.resolve().with_name("demo-files")  # PDFs (workdir is wiped)
        self.generator = Generator(opts.seed, self.today, cfa_count=3, files_dir=files_dir)
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

    # -- the whole run ---------------------------------------------------------------------------

    async def summary(self, *, timed_out: bool) -> dict[str, Any]:
        assert self.admin is not None
        records = await self.admin.records()
        return verdict(
            self.tracker,
            self.banner,
            records,
            planned=self.opts.events,
            started=self.started,
            timed_out=timed_out,
        )

    async def run(self) -> int:
        opts = self.opts
        running = DemoState.read(opts.state_file)
        if running is not None and running.pid not in (None, os.getpid()) and running.alive:
            self.log(f"a demo already runs here (pid {running.pid}); stop it first")
            return 2
        files = prepare_files(opts.workdir, self.generator, self.today)
        self.log(f"work directory {files.workdir}")
        stack = Stack(kafka=self.kafka)
        tasks: list[asyncio.Task[Any]] = []
        try:
            await stack.start(
                files,
                self.log,
                day_seconds=opts.day_seconds,
                refusal_rate=opts.refusal_rate,
                seed=opts.seed,
            )
            assert stack.broker is not None and stack.relais is not None
            self.kafka, self.admin = stack.kafka, stack.admin
            stack.state(files, [c.siret for c in self.generator.cfas]).write(opts.state_file)
            tasks = await self._start_run(stack.broker.bootstrap)
            finished = await self._until_done(tasks, stack.relais)
            if not opts.exit_when_done:
                await self._keep_running(stack.relais)
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
            await stack.stop()
            remove_state(opts.state_file)

    async def _start_run(self, bootstrap: str) -> list[asyncio.Task[Any]]:
        """The CFA producer, then the run's tasks: statuses, faults, publishing, follow-ups."""
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await self.producer.start()
        self.started = time.monotonic()
        self.banner.phase = "running"
        return [
            asyncio.create_task(self.watch_statuses(), name="statuses"),
            asyncio.create_task(self.faults(), name="faults"),
            asyncio.create_task(self.publish_immediate(), name="publish"),
            asyncio.create_task(self.follow_ups(), name="follow-ups"),
        ]

    async def _keep_running(self, relais: RelaisProcess) -> None:
        """Without ``exit_when_done``: the view until Ctrl-C / SIGTERM (then the verdict)."""
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
