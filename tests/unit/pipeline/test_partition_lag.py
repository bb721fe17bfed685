"""``relais_kafka_consumer_lag``'s arithmetic (the broker figures are checked on Apache Kafka by
tests/integration/broker/test_kafka_lag.py)."""

from __future__ import annotations

from aiokafka import TopicPartition

from relais.adapters.kafka.lag import partition_lags

A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


def test_lag_is_high_watermark_minus_commit_or_log_start() -> None:
    assert partition_lags({A0: 120, A1: 40}, {A0: 100, A1: None}, {A1: 10}) == {A0: 20, A1: 30}


def test_a_commit_read_before_a_newer_end_never_gives_a_negative_lag() -> None:
    assert partition_lags({A0: 5}, {A0: 7}, {}) == {A0: 0}
