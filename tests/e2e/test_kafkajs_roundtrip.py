"""End to end, checked by an independent client: KafkaJS produces CFA events, reads statuses back.

The pieces are the real ones: the embedded broker (session fixture), the OPCO simulator (session
fixture, reset), and ``relais run`` as a child process configured only through ``RELAIS_*``
variables. The checker (``tests/e2e/kafkajs/checker.mjs``) is Node + KafkaJS: it shares no code with
relais, so a bug in relais's own Kafka handling cannot hide itself. The verdict is computed here
from the checker's report and the simulator's request record, again without relais code:

- every event gets exactly one terminal status id (a redelivery repeats the same id);
- nothing lost: each ``submitted`` names an object the simulator created (or recognised);
- nothing duplicated: no object created twice, even for an event published twice;
- order per dossier: the contract reached the OPCO before its convention;
- bad input gets ``rejected``, a route the OPCO lacks gets ``failed``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from relais.adapters.embedded_broker import create_topics_sync, free_port
from relais.demo.processes import RelaisProcess, relais_env, write_profiles
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.referentials import referential
from relais.sampledata import Generator, InvalidKind
from tests.fixtures.broker import broker_kind_of
from tests.fixtures.simulator import SimulatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHECKER_DIR = Path(__file__).parent / "kafkajs"
TERMINAL = {"submitted", "rejected", "failed", "dead_lettered"}
WRITE_ROUTES = ["dossiers_post", "conventions", "factures", "certificats", "rupture"]


@pytest.fixture(scope="session")
def kafkajs() -> Path:
    """The checker with its node_modules. A missing tool FAILS the test (never a skip): install
    them with ``bash scripts/setup.sh`` (node from the system, kafkajs by ``npm ci`` here)."""
    if shutil.which("node") is None:
        pytest.fail(
            "node is not installed: the KafkaJS checker cannot run (install Node.js >= 18, "
            "then run bash scripts/setup.sh)",
            pytrace=False,
        )
    if not (CHECKER_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.fail(
            f"kafkajs is not installed in {CHECKER_DIR / 'node_modules'}: run bash scripts/setup.sh"
            " (it runs npm ci there, from package-lock.json)",
            pytrace=False,
        )
    return CHECKER_DIR / "checker.mjs"


Expected = dict[str, str]


def build_events(
    simulator: SimulatorProcess, tmp_path: Path
) -> tuple[list[dict[str, Any]], Expected, Path]:
    """Contracts for every OPCO, conventions, an invalid dossier, one event sent twice, what each
    should end as; and the keys file relais needs (the keys are registered at the simulator)."""
    gen = Generator(seed=11, today=date.fromisoformat(simulator.clock()["today"]), cfa_count=2)
    events: list[dict[str, Any]] = []
    expected: Expected = {}
    for i, opco in enumerate(ALL_OPCO * 3):
        d = gen.dossier(opco, cfa=gen.cfas[i % 2], start=gen.today)
        events.append(d.event)
        # SANTE offers no dossier route (501): relais answers "failed" at once.
        expected[d.event_id] = "failed" if opco is OpcoCode.SANTE else "submitted"
        if i % 3 == 0 and opco is not OpcoCode.SANTE:
            conv = gen.convention(d)
            events.append(conv)
            expected[conv["id"]] = "submitted"
    invalid = gen.invalid_dossier(InvalidKind.NIR_KEY, OpcoCode.ATLAS)
    events.insert(5, invalid.event)
    expected[invalid.event["id"]] = "rejected"
    events.append(events[2])  # the CFA's producer retried: the same event id again
    rows = ["siret,opco,key,expiry"]
    for cfa in gen.cfas:
        for opco in ALL_OPCO:
            rows.append(f"{cfa.siret},{opco.value},{simulator.key_for(cfa.siret, opco)},2099-12-31")
    keys = tmp_path / "keys.csv"
    keys.write_text("\n".join(rows) + "\n")
    keys.chmod(0o600)
    return events, expected, keys


# The OPCO side misbehaving: answers lost after the request was stored (ambiguous: relais must
# look up before resending), 503s with Retry-After, connections dropped before processing.
FAULTS: dict[str, dict[str, Any]] = {
    "ATLAS": {"stored_lost_rate": 0.5, "stored_lost_mode": "drop"},
    "AFDAS": {"error_rate": 0.5, "error_statuses": [503], "retry_after_s": 0},
    "OPCOMMERCE": {"drop_rate": 0.5},
    "AKTO": {"stored_lost_rate": 0.5, "stored_lost_mode": "hang", "hang_s": 3},
}


@pytest.mark.parametrize("faults", [False, True], ids=["calm", "faulty-opco"])
def test_kafkajs_sees_every_event_through_exactly_once_in_order(
    kafkajs: Path,
    kafka_bootstrap: str,
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
    faults: bool,
) -> None:
    sim = fresh_simulator
    on_tansu = broker_kind_of(kafka_bootstrap) == "tansu"
    # The checker's group: Tansu's fast timings, or KafkaJS's defaults on Apache Kafka.
    group_timings = ("1000", "333") if on_tansu else ("30000", "3000")
    if faults:
        for opco, spec in FAULTS.items():
            sim.set_faults(opco, routes=WRITE_ROUTES, **spec)
    suffix = uuid.uuid4().hex[:8]
    topics = {k: f"e2e-{k}-{suffix}" for k in ("input", "status", "dlq")}
    create_topics_sync(kafka_bootstrap, [topics["input"], topics["status"]], 4)
    create_topics_sync(kafka_bootstrap, [topics["dlq"]], 1)
    events, expected, keys = build_events(sim, tmp_path)
    events_file = tmp_path / "events.json"
    events_file.write_text(json.dumps(events))
    oauth = sim.oauth_file  # every OAuth2 OPCO's client (AFDAS: its DPoP key beside it)
    profiles = tmp_path / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, sim.base_url)
    port = free_port()
    relais = RelaisProcess(
        log_path=tmp_path / "relais.log",
        http_port=port,
        env=relais_env(
            bootstrap=kafka_bootstrap,
            ledger_url=f"sqlite:///{tmp_path / 'ledger.db'}",
            http_port=port,
            profiles_file=profiles,
            keys_file=keys,
            oauth_file=oauth,
            input_topic=topics["input"],
            status_topic=topics["status"],
            dlq_topic=topics["dlq"],
            group_id=f"relais-e2e-{suffix}",
            extra={"RELAIS_OPCO__READ_TIMEOUT_S": "1.5"},
            tansu_timings=on_tansu,
        ),
    )
    relais.start()
    try:
        asyncio.run(relais.wait_ready(timeout_s=60))
        report_file = tmp_path / "report.json"
        run = subprocess.run(
            [
                "node",
                str(kafkajs),
                *("--brokers", kafka_bootstrap, "--events", str(events_file)),
                *("--report", str(report_file), "--timeout-ms", "120000"),
                *("--input-topic", topics["input"], "--status-topic", topics["status"]),
                *("--session-timeout-ms", group_timings[0]),
                *("--heartbeat-interval-ms", group_timings[1]),
            ],
            capture_output=True,
            text=True,
            timeout=200,
        )
        assert run.returncode in (0, 1), f"checker crashed: {run.stderr[-2000:]}"
        records = sim.records()
    finally:
        relais.stop()
    report = json.loads(report_file.read_text())
    log_tail = (tmp_path / "relais.log").read_text(errors="replace")[-3000:]
    assert report["complete"], (
        f"events without a terminal status: {report['missingTerminal']}\nrelais log:\n{log_tail}"
    )
    assert len(report["produced"]) == len(events)
    answered = {st["eventId"] for st in report["statuses"] if st["status"] in TERMINAL}
    assert answered == set(expected)
    if faults:  # the faults really happened, and relais got through them
        injected = Counter(r["outcome"] for r in records if r["outcome"].startswith("fault:"))
        assert injected["fault:stored_lost"] > 0 and injected.total() >= 4, injected
    verdict = judge(events, expected, report, records)
    assert verdict == {
        "multi_terminal": [],
        "lost": [],
        "created_twice": [],
        "out_of_order": [],
        "unexpected": [],
    }, verdict


def judge(
    events: list[dict[str, Any]],
    expected: Expected,
    report: dict[str, Any],
    records: list[dict[str, Any]],
) -> dict[str, list[str]]:
    """The checks, from the KafkaJS report and the simulator's record only."""
    terminal_ids: dict[str, set[str]] = defaultdict(set)
    terminal: dict[str, dict[str, Any]] = {}
    for st in report["statuses"]:
        body = st["value"] or {}
        if st["status"] in TERMINAL and st["eventId"]:
            terminal_ids[st["eventId"]].add(st["headers"]["ce_id"])
            terminal.setdefault(st["eventId"], body)
    multi = sorted(e for e, ids in terminal_ids.items() if len(ids) > 1)
    # What reached the OPCO: a creation (even when its answer was then lost) or a 409 duplicate.
    created = [r for r in records if r["created"] or r["outcome"] == "duplicate"]
    twice = Counter(
        (r["opco"], r["naturalKey"]) for r in records if r["created"] and r["naturalKey"]
    )
    created_twice = [f"{o}:{k}" for (o, k), n in twice.items() if n > 1]
    lost, seq_of = [], {}
    route_of = {"fr.cfa.dossier.submitted.v1": "dossiers_post"}
    route_of["fr.cfa.convention.submitted.v1"] = "conventions"
    for ev in {e["id"]: e for e in events}.values():
        body = terminal.get(ev["id"], {})
        if body.get("status") != "submitted":
            continue
        numero = body.get("numeroInterne")
        hits = [
            r["seq"]
            for r in created
            if r["route"] == route_of[ev["type"]] and numero in r["ids"].values()
        ]
        if not hits:
            lost.append(ev["id"])
        else:
            seq_of[ev["id"]] = min(hits)
    out_of_order = []
    by_subject: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for ev in events:
        if ev["id"] in seq_of and ev["id"] not in seen:
            seen.add(ev["id"])
            by_subject[ev["subject"]].append(seq_of[ev["id"]])
    for subject, seqs in by_subject.items():
        if seqs != sorted(seqs):
            out_of_order.append(subject)
    unexpected = [
        f"{event_id}: expected {want}, got {terminal.get(event_id, {}).get('status')}"
        for event_id, want in expected.items()
        if terminal.get(event_id, {}).get("status") != want
    ]
    return {
        "multi_terminal": multi,
        "lost": lost,
        "created_twice": created_twice,
        "out_of_order": out_of_order,
        "unexpected": unexpected,
    }
