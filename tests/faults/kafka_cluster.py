"""Faults only a real cluster has: relais on a three-broker Apache Kafka (KRaft, replication factor
3, ``min.insync.replicas=2``, producers with ``acks=all``), with relais's production consumer
timings (session 10 s, heartbeat 3 s).

| phase | fault |
|---|---|
| input_leader_kill | kill -9 of the broker leading input partition 0, mid-stream; restarted |
| status_leader_kill | kill -9 of the broker leading status partition 0 while the relay publishes |
| rolling_restart | controlled shutdown (SIGTERM) and restart of each broker in turn, under load |
| long_outage | one broker down longer than the consumer session timeout, under load |
| full_restart | every broker stopped with relais running, then all started on their data |

After each fault the group's committed offsets are sampled, then the ledger's inbox: every record
below a committed offset must be in that (later) ledger snapshot, or dead-lettered (promise 1:
committed offsets never ahead of the ledger). Then the fault suite's invariants
(``harness.check_invariants``) and a report under ``.relais/faults/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from relais.adapters.embedded_kafka import KafkaCluster
from tests.faults.harness import (
    Cluster,
    Timeline,
    Verdict,
    Workload,
    check_invariants,
    read_topic,
    wait_for,
    write_report,
)
from tests.today import TODAY

SESSION_TIMEOUT_S = 10.0  # relais's production default (KafkaSettings.session_timeout_ms)
FAULTS = {
    "input_leader_kill",
    "status_leader_kill",
    "controlled_restart",
    "long_outage",
    "full_restart",
}


@dataclass(frozen=True)
class KafkaSizes:
    batch: int  # events per wave (two waves per fault, more in the rolling restart)
    outage_s: float = SESSION_TIMEOUT_S * 2.5
    settle_s: float = 600.0


KAFKA_CI = KafkaSizes(batch=40)
KAFKA_LONG = KafkaSizes(batch=300, outage_s=45.0, settle_s=1500.0)


@dataclass
class OffsetSamples:
    """(committed offsets per partition, ledger inbox event ids read after them), per sample."""

    samples: list[tuple[str, dict[int, int], set[str]]] = field(default_factory=list)

    async def take(self, cluster: Cluster, label: str) -> None:
        committed = await cluster.committed("input")  # first the commits, then the ledger
        rows = await cluster.ledger("SELECT event_id FROM inbox")
        self.samples.append((label, committed, {r["event_id"] for r in rows}))

    async def problems(self, cluster: Cluster) -> tuple[list[str], dict[str, Any]]:
        """Records below a committed offset that the ledger did not hold (nor the DLQ)."""
        records = await read_topic(cluster.bootstrap, cluster.topics["input"], idle_s=2.0)
        dlq = await read_topic(cluster.bootstrap, cluster.topics["dlq"], idle_s=1.5)
        dead = {
            (int(d.header_map["dlq_partition"]), int(d.header_map["dlq_offset"]))
            for d in dlq
            if d.header_map.get("dlq_topic") == cluster.topics["input"]
        }
        ids = {(r.partition, r.offset): r.header_map.get("ce_id") for r in records}
        problems, checked = [], 0
        for label, committed, inbox in self.samples:
            for partition, upto in committed.items():
                for offset in range(upto):
                    checked += 1
                    if (partition, offset) in dead:
                        continue
                    event_id = ids.get((partition, offset))
                    if event_id is None or event_id not in inbox:
                        problems.append(f"{label}: p{partition}@{offset} committed, not in ledger")
        counts = {"samples": len(self.samples), "positions_checked": checked}
        counts["committed_at_samples"] = {label: c for label, c, _ in self.samples}
        return problems, counts


async def leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        (desc,) = await admin.describe_topics([topic])
        return int(next(p["leader"] for p in desc["partitions"] if p["partition"] == partition))
    finally:
        await admin.close()


async def restart_node(kafka: KafkaCluster, node_id: int, timeline: Timeline) -> None:
    node = kafka.node(node_id)
    await asyncio.to_thread(node.start)
    await asyncio.to_thread(node.wait_listening)
    await asyncio.to_thread(kafka.wait_brokers, len(kafka.nodes))
    timeline.note("info", f"broker {node_id} back ({len(kafka.nodes)} live)")


async def _ingested(cluster: Cluster, at_least: int) -> bool:
    with contextlib.suppress(Exception):
        rows = await cluster.ledger("SELECT count(*) AS n FROM inbox")
        return int(rows[0]["n"]) >= at_least
    return False


async def _published(cluster: Cluster, at_least: int) -> bool:
    with contextlib.suppress(Exception):
        rows = await cluster.ledger(
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL"
        )
        return int(rows[0]["n"]) >= at_least
    return False


async def _inbox(cluster: Cluster) -> int:
    rows = await cluster.ledger("SELECT count(*) AS n FROM inbox")
    return int(rows[0]["n"])


async def _wave(cluster: Cluster, workload: Workload, n: int) -> int:
    """Produce ``n`` events (retrying while the cluster elects leaders); the inbox size before."""
    before = await _inbox(cluster)
    records = workload.records(workload.batch(n))
    for attempt in range(5):
        try:
            await cluster.produce(records, "events")
            return before
        except KafkaError as exc:  # acks=all with a leader moving: send again (the inbox dedups)
            cluster.timeline.note("info", f"produce retried ({attempt + 1}): {exc!r}")
            await asyncio.sleep(3)
    raise RuntimeError("the cluster refused the workload five times")


async def leader_kills(
    kafka: KafkaCluster,
    cluster: Cluster,
    workload: Workload,
    sizes: KafkaSizes,
    samples: OffsetSamples,
) -> None:
    cluster.timeline.start_phase("input_leader_kill")
    before = await _wave(cluster, workload, sizes.batch)
    await wait_for(lambda: _ingested(cluster, before + 2), timeout_s=180, what="some ingested")
    leader = await leader_of(kafka.bootstrap, cluster.topics["input"], 0)
    kafka.node(leader).kill()
    cluster.timeline.note("input_leader_kill", f"broker {leader} (leader of input p0) kill -9")
    await _wave(cluster, workload, sizes.batch)
    await asyncio.sleep(3)
    await samples.take(cluster, "input leader killed")
    await restart_node(kafka, leader, cluster.timeline)

    cluster.timeline.start_phase("status_leader_kill")
    published = await cluster.ledger(
        "SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL"
    )
    await _wave(cluster, workload, sizes.batch)
    start = int(published[0]["n"])
    await wait_for(lambda: _published(cluster, start + 2), timeout_s=180, what="relay publishing")
    leader = await leader_of(kafka.bootstrap, cluster.topics["status"], 0)
    kafka.node(leader).kill()
    cluster.timeline.note("status_leader_kill", f"broker {leader} (leader of status p0) kill -9")
    await _wave(cluster, workload, sizes.batch)
    await asyncio.sleep(3)
    await samples.take(cluster, "status leader killed")
    await restart_node(kafka, leader, cluster.timeline)


async def rolling_restart(
    kafka: KafkaCluster,
    cluster: Cluster,
    workload: Workload,
    sizes: KafkaSizes,
    samples: OffsetSamples,
) -> None:
    cluster.timeline.start_phase("rolling_restart")
    for node in kafka.nodes:
        await _wave(cluster, workload, max(5, sizes.batch // 2))
        t0 = time.monotonic()
        await asyncio.to_thread(node.stop)
        cluster.timeline.note(
            "controlled_restart",
            f"broker {node.node_id} controlled shutdown in {time.monotonic() - t0:.1f}s",
        )
        await _wave(cluster, workload, max(5, sizes.batch // 2))
        await samples.take(cluster, f"broker {node.node_id} stopped")
        await restart_node(kafka, node.node_id, cluster.timeline)


async def long_outage(
    kafka: KafkaCluster,
    cluster: Cluster,
    workload: Workload,
    sizes: KafkaSizes,
    samples: OffsetSamples,
) -> None:
    cluster.timeline.start_phase("long_outage")
    coordinator = await leader_of(kafka.bootstrap, "__consumer_offsets", 0)
    node = kafka.node(coordinator)
    node.kill()
    cluster.timeline.note(
        "long_outage", f"broker {coordinator} down for {sizes.outage_s:.0f}s (session 10 s)"
    )
    deadline = time.monotonic() + sizes.outage_s
    while time.monotonic() < deadline:
        await _wave(cluster, workload, max(5, sizes.batch // 3))
        await asyncio.sleep(min(8.0, max(0.0, deadline - time.monotonic())))
    await samples.take(cluster, "broker down past the session timeout")
    await restart_node(kafka, coordinator, cluster.timeline)


async def full_restart(
    kafka: KafkaCluster,
    cluster: Cluster,
    workload: Workload,
    sizes: KafkaSizes,
    samples: OffsetSamples,
) -> None:
    cluster.timeline.start_phase("full_restart")
    before = await _wave(cluster, workload, sizes.batch)
    await wait_for(lambda: _ingested(cluster, before + 2), timeout_s=180, what="some ingested")
    await asyncio.to_thread(kafka.stop)
    cluster.timeline.note("full_restart", "every broker stopped; relais keeps running")
    await asyncio.sleep(5)
    for node in kafka.nodes:
        node.start()
    for node in kafka.nodes:
        await asyncio.to_thread(node.wait_listening)
    await asyncio.to_thread(kafka.wait_brokers, len(kafka.nodes))
    cluster.timeline.note("info", "every broker started again on its data")
    await samples.take(cluster, "after the full restart")
    await _wave(cluster, workload, sizes.batch)


async def run_kafka_cluster(
    workdir: Path, pg_url: str, sizes: KafkaSizes, mode: str, seed: int = 31
) -> tuple[Verdict, Timeline, Path]:
    timeline = Timeline()
    kafka = KafkaCluster(workdir / "kafka", size=3).start()
    timeline.note("info", f"apache kafka x3 at {kafka.bootstrap}")
    workload = Workload.create(seed, TODAY)
    cluster = Cluster(
        workdir=workdir,
        bootstrap=kafka.bootstrap,
        pg_url=pg_url,
        timeline=timeline,
        partitions=3,
        replication_factor=3,
        tansu_timings=False,
    )
    samples = OffsetSamples()
    try:
        cluster.start([c.siret for c in workload.gen.cfas])
        cluster.start_supervisor()
        await cluster.add_node("all", "ingest,dispatch,relay,poll")
        await cluster.add_node("ingest", "ingest")
        await cluster.add_node("dispatch", "dispatch")
        for phase in (leader_kills, rolling_restart, long_outage, full_restart):
            await phase(kafka, cluster, workload, sizes, samples)
        timeline.start_phase("settle")
        state = await cluster.wait_settled(list(workload.expected), timeout_s=sizes.settle_s)
        timeline.note("info", f"settled: {state}")
        await samples.take(cluster, "settled")
        timeline.start_phase("final")
        for name in list(cluster.nodes):
            await cluster.scrape(name)
        await cluster.check_ready()
        await cluster.stop_supervisor()
        await cluster.stop_all()
        timeline.start_phase("invariants")
        verdict = await check_invariants(cluster, workload, check_polls=False)
        ahead, counts = await samples.problems(cluster)
        verdict.problems["committed_ahead_of_ledger"] = ahead
        verdict.counts["offset_samples"] = counts
    finally:
        await cluster.stop_supervisor()
        cluster.close()
        kafka.stop()
    report = write_report(mode, timeline, verdict, cluster)
    return verdict, timeline, report
