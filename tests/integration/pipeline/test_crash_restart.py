"""Promise 1 through a real crash: ``relais run --role ingest`` is SIGKILLed mid-stream.

At the kill, the group's committed offset is never ahead of what the ledger holds; after a restart
every event is in the ledger exactly once (a redelivered record answers "duplicate"), and the
committed offset reaches the end of the topic.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.fixtures.broker import produce
from tests.integration.pipeline.harness import (
    Topics,
    broker_timings,
    generator,
    make_topics,
    out,
    wait_until,
)

pytestmark = pytest.mark.integration

N = 400
REPO = Path(__file__).resolve().parents[3]


def _env(bootstrap: str, topics: Topics, group: str, ledger: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update(
        RELAIS_KAFKA__BOOTSTRAP_SERVERS=bootstrap,
        RELAIS_KAFKA__INPUT_TOPIC=topics.input,
        RELAIS_KAFKA__STATUS_TOPIC=topics.status,
        RELAIS_KAFKA__DLQ_TOPIC=topics.dlq,
        RELAIS_KAFKA__GROUP_ID=group,
        **{f"RELAIS_KAFKA__{k.upper()}": str(v) for k, v in broker_timings(bootstrap).items()},
        RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES="true",  # events of any CFA on this private topic
        RELAIS_LEDGER__URL=f"sqlite:///{ledger}",
        RELAIS_HTTP__PORT="0",
        RELAIS_DISPATCH__ENABLED="false",
        RELAIS_POLL__ENABLED="false",
        RELAIS_LOG__JSON="true",
        RELAIS_SECRETS_DIR=str(ledger.parent / "no-secrets"),
    )
    return env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "relais.entrypoints.cli", "run", "--role", "ingest"],
        env=env,
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _inbox(ledger: Path) -> list[str]:
    if not ledger.exists():
        return []
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5) as db:
            return [row[0] for row in db.execute("SELECT event_id FROM inbox")]
    except sqlite3.OperationalError:  # not migrated yet
        return []


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        tp = TopicPartition(topic, 0)
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    meta = offsets.get(tp)
    return meta.offset if meta is not None and meta.offset >= 0 else 0


async def test_offsets_never_ahead_of_the_ledger_across_a_kill(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    group = f"relais-crash-{uuid.uuid4().hex[:8]}"
    ledger = tmp_path / "ledger.db"
    g = generator(21)
    events = [g.dossier().event for _ in range(N)]
    env = _env(kafka_bootstrap, topics, group, ledger)

    first = _start(env, tmp_path / "first.log")
    try:
        await produce(kafka_bootstrap, topics.input, [out(e) for e in events])
        await wait_until(lambda: len(_inbox(ledger)) >= 40, timeout_s=60, every_s=0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    in_ledger_at_kill = len(_inbox(ledger))
    committed_at_kill = await _committed(kafka_bootstrap, group, topics.input)
    assert committed_at_kill <= in_ledger_at_kill < N, (committed_at_kill, in_ledger_at_kill)

    second = _start(env, tmp_path / "second.log")
    try:
        await wait_until(lambda: len(_inbox(ledger)) >= N, timeout_s=60, every_s=0.05)

        async def all_committed() -> bool:
            return await _committed(kafka_bootstrap, group, topics.input) == N

        await wait_until(all_committed, timeout_s=30, every_s=0.2)
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        if second.poll() is None:
            second.kill()

    inbox = _inbox(ledger)
    assert sorted(inbox) == sorted(e["id"] for e in events)  # all of them, once each
    with sqlite3.connect(ledger) as db:
        commands = db.execute("SELECT count(*), count(DISTINCT event_id) FROM commands").fetchone()
    assert commands == (N, N)
    # The restarted process (its log is complete: it stopped gracefully) saw again whatever the
    # ledger held beyond the committed offset, as duplicates, and accepted the rest.
    text = (tmp_path / "second.log").read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    outcomes = [line["event"] for line in lines if str(line.get("event", "")).startswith("ingest.")]
    redelivered = outcomes.count("ingest.duplicate")
    assert redelivered == in_ledger_at_kill - committed_at_kill
    assert outcomes.count("ingest.accepted") == N - in_ledger_at_kill
    print(
        f"killed with {in_ledger_at_kill} in the ledger and {committed_at_kill} committed; "
        f"{redelivered} redelivered as duplicates"
    )


async def test_sigterm_mid_stream_stops_cleanly_with_nothing_to_redo(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    group = f"relais-term-{uuid.uuid4().hex[:8]}"
    ledger = tmp_path / "ledger.db"
    g = generator(22)
    events = [g.dossier().event for _ in range(N)]
    # Small polls (one ledger transaction each): the stop lands between two of them, not after
    # the whole stream was handled in two polls.
    env = {**_env(kafka_bootstrap, topics, group, ledger), "RELAIS_KAFKA__INGEST_BATCH_SIZE": "10"}

    first = _start(env, tmp_path / "first.log")
    try:
        await produce(kafka_bootstrap, topics.input, [out(e) for e in events])
        await wait_until(lambda: len(_inbox(ledger)) >= 40, timeout_s=60, every_s=0.01)
        started = time.monotonic()
        first.send_signal(signal.SIGTERM)
        assert first.wait(20) == 0
        stopped_in = time.monotonic() - started
    finally:
        if first.poll() is None:
            first.kill()
    in_ledger = len(_inbox(ledger))
    committed = await _committed(kafka_bootstrap, group, topics.input)
    # A graceful stop commits exactly what the ledger holds: nothing will be redone.
    assert committed == in_ledger < N, (committed, in_ledger)
    assert stopped_in < 20

    second = _start(env, tmp_path / "second.log")
    try:
        await wait_until(lambda: len(_inbox(ledger)) >= N, timeout_s=60, every_s=0.05)
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        if second.poll() is None:
            second.kill()
    text = (tmp_path / "second.log").read_text()
    outcomes = [json.loads(line).get("event") for line in text.splitlines() if line.startswith("{")]
    assert outcomes.count("ingest.duplicate") == 0
    assert outcomes.count("ingest.accepted") == N - in_ledger
