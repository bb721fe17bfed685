"""The three-broker run's offsets check (``kafka_cluster.OffsetSamples``) flags a commit ahead of
the ledger, and accepts a dead-lettered record below the commit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.faults import kafka_cluster
from tests.faults.harness import Consumed
from tests.faults.kafka_cluster import OffsetSamples

TOPICS = {"input": "in", "dlq": "dlq"}


def _record(partition: int, offset: int, event_id: str) -> Consumed:
    return Consumed("in", partition, offset, None, b"{}", (("ce_id", event_id.encode()),))


def _dead(partition: int, offset: int) -> Consumed:
    headers = {"dlq_topic": "in", "dlq_partition": str(partition), "dlq_offset": str(offset)}
    return Consumed("dlq", 0, 0, None, None, tuple((k, v.encode()) for k, v in headers.items()))


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> None:
    content = {
        "in": [_record(0, 0, "e0"), _record(0, 1, "e1"), _record(0, 2, "e2"), _record(1, 0, "f0")],
        "dlq": [_dead(0, 1)],
    }

    async def read_topic(bootstrap: str, topic: str, **_: Any) -> list[Consumed]:
        return content[topic]

    monkeypatch.setattr(kafka_cluster, "read_topic", read_topic)


async def test_a_commit_ahead_of_the_ledger_is_flagged(topics: None) -> None:
    samples = OffsetSamples()
    samples.samples.append(("ok", {0: 3, 1: 0}, {"e0", "e2"}))  # e1 dead-lettered
    samples.samples.append(("ahead", {0: 3, 1: 1}, {"e0", "e2"}))  # f0 committed, not in ledger
    cluster: Any = SimpleNamespace(bootstrap="b", topics=TOPICS)
    problems, counts = await samples.problems(cluster)
    assert problems == ["ahead: p1@0 committed, not in ledger"]
    assert counts["positions_checked"] == 7
