"""Where the relay publishes a status: the CFA's topic, the shared one, or the operators'."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relais.config import KafkaSettings
from relais.services.ledger_port import OutboxMessage
from relais.services.statuses import StatusTopics

CFA = "19750000000011"


def message(headers: dict[str, str], topic: str | None = None) -> OutboxMessage:
    return OutboxMessage(event_id="s", key="D1", headers=headers, value=b"{}", topic=topic)


def test_a_cfas_status_goes_to_its_topic_or_the_shared_one() -> None:
    shared = StatusTopics(shared="relais.status.v1", rejected="relais.rejected.v1")
    per_cfa = StatusTopics(
        shared="relais.status.v1", rejected="relais.rejected.v1", per_cfa="cfa.{siret}.status"
    )
    mine = message({"ce_cfa": CFA, "ce_id": "s"})
    assert shared.topic_for(mine) == "relais.status.v1"
    assert per_cfa.topic_for(mine) == f"cfa.{CFA}.status"
    assert per_cfa.topic_for(message({"ce_cfa": CFA}, topic="elsewhere")) == "elsewhere"


def test_a_status_without_a_cfa_goes_to_the_operators_topic() -> None:
    for per_cfa in (None, "cfa.{siret}.status"):
        topics = StatusTopics(shared="st", rejected="relais.rejected.v1", per_cfa=per_cfa)
        assert topics.topic_for(message({"ce_id": "s"})) == "relais.rejected.v1"


@pytest.mark.parametrize(
    "pattern", ["cfa.status", "cfa.{siret}.{siret}", "cfa.{uai}.status", "cfa {siret}", "{siret}/x"]
)
def test_a_status_topic_pattern_names_one_topic_per_siret(pattern: str) -> None:
    with pytest.raises(ValidationError, match="status_topic_pattern"):
        KafkaSettings(status_topic_pattern=pattern)
    assert KafkaSettings(status_topic_pattern="cfa.{siret}.status").status_topic_pattern


def test_defaults_keep_one_shared_status_topic() -> None:
    kafka = KafkaSettings()
    assert (kafka.status_topic, kafka.status_topic_pattern) == ("relais.status.v1", None)
    assert kafka.rejected_topic == "relais.rejected.v1"
