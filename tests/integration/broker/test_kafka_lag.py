"""The consumer lag relais exports (``relais_kafka_consumer_lag{topic,partition}``, what KEDA and
the alert rules use) is the broker's own figure: at three points of a backlog drain on Apache Kafka
it equals what ``kafka-consumer-groups --describe`` prints, partition by partition."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from relais.adapters.embedded_broker import create_topics
from relais.adapters.embedded_kafka import KafkaCluster, run_tool
from relais.adapters.ledger import open_ledger
from relais.bootstrap import build
from relais.services.ledger_port import Accept, Ledger, Reject
from tests.fixtures.broker import new_topic_name, produce
from tests.integration.pipeline.harness import (
    Topics,
    generator,
    out,
    running,
    settings_for,
    wait_until,
)

GROUPS_TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
BACKLOG = 400


class GatedLedger:
    """The real ledger; each poll's transaction waits for an allowance the test hands out."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner
        self._allowance = 0
        self._cond = asyncio.Condition()
        self.waiting = False
        self.batches = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def allow(self, batches: int) -> None:
        async with self._cond:
            self._allowance += batches
            self._cond.notify_all()

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        async with self._cond:
            self.waiting = True
            await self._cond.wait_for(lambda: self._allowance > 0)
            self._allowance -= 1
            self.waiting = False
        result = await self._inner.ingest_batch(entries)
        self.batches += 1
        return result


def broker_lag(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """LAG per partition as Kafka's own tool prints it (no commit: the log end, from offset 0)."""
    text = run_tool(GROUPS_TOOL, "--bootstrap-server", bootstrap, "--describe", "--group", group)
    lags = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[1] == topic:
            current, end = cols[3], int(cols[4])
            lags[int(cols[2])] = end - int(current) if current != "-" else end
    return lags


async def committed(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sum(o.offset for o in (await admin.list_consumer_group_offsets(group)).values())
    finally:
        await admin.close()


def exported_lag(scrape: str, topic: str) -> dict[int, int]:
    pattern = (
        rf'^relais_kafka_consumer_lag\{{partition="(\d+)",topic="{re.escape(topic)}"\}} (\S+)$'
    )
    return {int(p): int(float(v)) for p, v in re.findall(pattern, scrape, flags=re.MULTILINE)}


async def test_exported_lag_equals_the_brokers_during_a_backlog_drain(
    apache_kafka: KafkaCluster, tmp_path: Path
) -> None:
    bootstrap = apache_kafka.bootstrap
    topics = Topics(*(new_topic_name(hint) for hint in ("cfa", "status", "dlq", "rejected")))
    await create_topics(bootstrap, [topics.input], partitions=3)
    await create_topics(bootstrap, [topics.status, topics.dlq, topics.rejected], partitions=1)
    g = generator(41)
    await produce(bootstrap, topics.input, [out(g.dossier().event) for _ in range(BACKLOG)])
    group = "relais-lag-test"
    url = f"sqlite:///{tmp_path}/ledger.db"
    gated = GatedLedger(open_ledger(url))
    settings = settings_for(bootstrap, topics, url, group_id=group, ingest_batch_size=40)
    app = build(settings, ["ingest"], ledger=gated)  # type: ignore[arg-type]
    seen: list[int] = []

    async def all_committed() -> bool:
        return await committed(bootstrap, group) == BACKLOG

    async with (
        running(app),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http,
    ):
        assert app.ingest is not None
        for allowance in (1, 3, BACKLOG):
            target = gated.batches + allowance
            await gated.allow(allowance)
            if allowance < BACKLOG:  # held at the next poll: its commit is done and stays
                await wait_until(lambda: gated.batches >= target and gated.waiting, 60)  # noqa: B023
            else:
                await wait_until(all_committed, 90)
            await app.ingest.refresh_partition_lag()
            exported = exported_lag((await http.get("/metrics")).text, topics.input)
            expected = broker_lag(bootstrap, group, topics.input)
            assert exported == expected and len(expected) == 3, (allowance, exported, expected)
            assert sum(exported.values()) == BACKLOG - app.ingest.handled
            seen.append(sum(exported.values()))
    assert seen[0] > seen[1] > seen[2] == 0, seen
