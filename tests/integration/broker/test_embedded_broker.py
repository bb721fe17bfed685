"""EmbeddedBroker's own lifecycle: async context manager, idempotent stop, topic creation."""

from __future__ import annotations

import socket

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from relais.adapters.embedded_broker import BrokerStartError, EmbeddedBroker, create_topics, probe

pytestmark = pytest.mark.integration


async def test_async_context_manager_starts_and_stops(tmp_path) -> None:
    log = tmp_path / "tansu.log"
    async with EmbeddedBroker(log_path=log) as broker:
        assert broker.running
        await probe(broker.bootstrap)
        await create_topics(broker.bootstrap, ["a", "b"], partitions=3)
        await create_topics(broker.bootstrap, ["a"], partitions=3)  # already there: no error
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(["a", "b"])
        finally:
            await admin.close()
    assert not broker.running
    assert log.exists()
    assert {t["topic"]: len(t["partitions"]) for t in described} == {"a": 3, "b": 3}
    broker.stop()  # idempotent


def test_sync_start_and_stop() -> None:
    with EmbeddedBroker() as broker:
        pid = broker.pid
        assert pid is not None and broker.running
    assert not broker.running


def test_a_broker_that_cannot_listen_fails_with_its_log() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = EmbeddedBroker(port=port, ready_timeout_s=10)
        with pytest.raises(BrokerStartError) as failed:
            broker.start()
    assert "tansu exited" in str(failed.value)
    assert not broker.running
