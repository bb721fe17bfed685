"""The fault suite on a three-broker Apache Kafka cluster (``make faults``: marked slow): leader
kills of the input and status partitions, a rolling controlled restart, a broker down past the
session timeout, a full-cluster restart on disk (``tests/faults/kafka_cluster.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.kafka_cluster import FAULTS, KAFKA_LONG, run_kafka_cluster

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(5400)]


async def test_three_broker_cluster_faults_lose_nothing(
    fault_workdir: Path, fault_pg_url: str
) -> None:
    verdict, timeline, _ = await run_kafka_cluster(
        fault_workdir, fault_pg_url, KAFKA_LONG, "kafka-cluster-long"
    )
    faults = timeline.faults()
    assert set(faults) >= FAULTS, faults
    assert faults["controlled_restart"] == 3, faults
    assert verdict.counts["offset_samples"]["positions_checked"] > 0, verdict.counts
    assert verdict.ok, {k: v[:10] for k, v in verdict.problems.items() if v}
