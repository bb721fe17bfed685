"""The broker restart fault (its own phase): Tansu on ``s3://`` (moto) is SIGKILLed mid-flight and
started again on the same address, with relais processes running; then the same invariants.

A separate phase because the memory engine (every other test) loses everything at a restart, and
the s3 engine is slow (every fetch lists the partition's objects: broker notes, section 5), so the
workload here is small. Tansu keeps topics, records and committed offsets in the bucket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.harness import (
    Cluster,
    Timeline,
    Workload,
    check_invariants,
    wait_for,
    write_report,
)
from tests.faults.s3broker import S3Broker, moto_available
from tests.today import TODAY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


async def run_broker_restart(
    workdir: Path, pg_url: str, *, first: int, second: int, restarts: int
) -> tuple[object, Timeline]:
    timeline = Timeline()
    broker = S3Broker(workdir).start()
    timeline.note("info", f"tansu s3 at {broker.bootstrap}, moto at {broker.endpoint}")
    workload = Workload.create(23, TODAY)
    cluster = Cluster(
        workdir=workdir, bootstrap=broker.bootstrap, pg_url=pg_url, timeline=timeline, partitions=2
    )
    try:
        cluster.start([c.siret for c in workload.gen.cfas])
        cluster.start_supervisor()
        await cluster.add_node("all", "ingest,dispatch,relay,poll")
        await cluster.add_node("dispatch", "dispatch")
        timeline.start_phase("broker_restart")
        for round_ in range(restarts):
            batch = workload.batch(first)
            inbox0 = len(await cluster.ledger("SELECT event_id FROM inbox"))
            await cluster.produce(workload.records(batch), "events")

            async def some_ingested(inbox0: int = inbox0, n: int = len(batch)) -> bool:
                rows = await cluster.ledger("SELECT count(*) AS n FROM inbox")
                return int(rows[0]["n"]) >= inbox0 + max(2, n // 4)

            await wait_for(some_ingested, timeout_s=180, what="ingest before the restart")
            broker.kill_tansu()
            timeline.note("broker_restart", f"tansu SIGKILLed (round {round_ + 1})")
            await asyncio.sleep(2.0)
            await asyncio.to_thread(broker.start_tansu)
            timeline.note("info", "tansu started again on the same address")
            await cluster.produce(workload.records(workload.batch(second)), "events")
        state = await cluster.wait_settled(list(workload.expected), timeout_s=300)
        timeline.note("info", f"settled: {state}")
        timeline.start_phase("final")
        for name in list(cluster.nodes):
            await cluster.scrape(name)
        await cluster.check_ready()
        await cluster.stop_supervisor()
        await cluster.stop_all()
        timeline.start_phase("invariants")
        verdict = await check_invariants(cluster, workload, check_polls=False)
    finally:
        await cluster.stop_supervisor()
        cluster.close()
        broker.stop()
    write_report("broker-restart", timeline, verdict, cluster)
    return verdict, timeline


@pytest.mark.skipif(not moto_available(), reason="moto[server] (dev extra) is not installed")
async def test_broker_restart_loses_nothing(fault_workdir: Path, fault_pg_url: str) -> None:
    verdict, timeline = await run_broker_restart(
        fault_workdir, fault_pg_url, first=30, second=15, restarts=2
    )
    assert timeline.faults()["broker_restart"] == 2
    assert verdict.ok, {k: v[:10] for k, v in verdict.problems.items() if v}  # type: ignore[attr-defined]
