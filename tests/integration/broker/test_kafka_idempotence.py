"""``kafka.enable_idempotence`` on Apache Kafka: relais's producer gets a producer id from the
broker (``kafka-transactions describe-producers`` lists it on the status partition) and the
statuses flow; without the option the broker tracks no producer there."""

from __future__ import annotations

from pathlib import Path

import pytest

from relais.adapters.embedded_broker import create_topics
from relais.adapters.embedded_kafka import KafkaCluster, run_tool
from relais.bootstrap import build
from tests.fixtures.broker import new_topic_name, produce
from tests.integration.pipeline.harness import (
    Topics,
    generator,
    out,
    published_statuses,
    running,
    settings_for,
)

TRANSACTIONS_TOOL = "org.apache.kafka.tools.TransactionsCommand"


def producers_on(bootstrap: str, topic: str) -> list[list[str]]:
    """Rows of ``kafka-transactions describe-producers`` for partition 0 (header dropped)."""
    text = run_tool(
        TRANSACTIONS_TOOL,
        *("--bootstrap-server", bootstrap, "describe-producers"),
        *("--topic", topic, "--partition", "0"),
    )
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return [row for row in rows[1:] if row and row[0].lstrip("-").isdigit()]


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "plain"])
async def test_the_idempotent_producer_is_used_when_enabled(
    apache_kafka: KafkaCluster, tmp_path: Path, idempotent: bool
) -> None:
    bootstrap = apache_kafka.bootstrap
    topics = Topics(*(new_topic_name(hint) for hint in ("cfa", "status", "dlq", "rejected")))
    await create_topics(bootstrap, list(topics.__dict__.values()), partitions=1)
    settings = settings_for(
        bootstrap, topics, f"sqlite:///{tmp_path}/l.db", enable_idempotence=idempotent
    )
    g = generator(43)
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(bootstrap, topics.input, [out(g.dossier().event) for _ in range(3)])
        statuses = await published_statuses(app, bootstrap, topics.status)
    assert sorted(s.json()["status"] for s in statuses) == ["received"] * 3
    rows = producers_on(bootstrap, topics.status)
    if idempotent:
        assert len(rows) == 1 and int(rows[0][0]) >= 0, rows  # one producer id, the broker's
    else:
        assert rows == [], rows
