"""The ingest subscriber's consumer options (no broker: nothing connects before start)."""

from __future__ import annotations

from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from relais.adapters.kafka.ingest import IngestSubscriber, batch_timeout_ms
from relais.config import KafkaSettings
from relais.services.ingest import IngestHandler
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.services.fakes import FakeLedger


class _NoDeadLetters:
    async def dead_letter(self, letter: Any) -> None:
        raise AssertionError("not used")


def _subscriber(kafka: KafkaSettings) -> IngestSubscriber:
    handler = IngestHandler(FakeLedger(), _NoDeadLetters(), rules=ExplicitOpcoRules())
    return IngestSubscriber(KafkaBroker("127.0.0.1:1"), handler, kafka)


@pytest.mark.parametrize(("wait", "timeout"), [(500, 50), (20, 20), (0, 10), (5, 10)])
def test_fetch_wait_reaches_the_consumer_and_bounds_the_idle_wait(wait: int, timeout: int) -> None:
    kafka = KafkaSettings(fetch_max_wait_ms=wait)
    sub = _subscriber(kafka)
    assert sub.options["fetch_max_wait_ms"] == wait
    assert sub.options["batch_timeout_ms"] == timeout == batch_timeout_ms(kafka)
    # FastStream hands them to aiokafka's consumer and to its getmany loop.
    assert sub.subscriber._connection_args["fetch_max_wait_ms"] == wait
    assert sub.subscriber.batch_timeout_ms == timeout


def test_default_fetch_wait_is_aiokafkas() -> None:
    assert KafkaSettings().fetch_max_wait_ms == 500
    with pytest.raises(ValueError, match="greater than or equal"):
        KafkaSettings(fetch_max_wait_ms=-1)
