"""Operator commands find a running demo through its state file; explicit settings win."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from relais.config import KafkaSettings, LedgerSettings, Settings
from relais.operator.target import DemoState, apply_demo

DEMO = DemoState(
    bootstrap="127.0.0.1:40001",
    ledger_url="sqlite:///tmp/demo.db",
    simulator_url="http://127.0.0.1:40002",
    admin_token="tok",
    keys_file="/tmp/keys.csv",
    pid=os.getpid(),
)


def test_state_round_trips_through_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / ".relais" / "demo.json"
    DEMO.write(path)

    assert DemoState.read(path) == DEMO
    assert (path.stat().st_mode & 0o077) == 0
    assert DEMO.alive


def test_missing_or_broken_state_is_no_demo(tmp_path: Path) -> None:
    assert DemoState.read(tmp_path / "none.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    assert DemoState.read(broken) is None


def test_demo_fills_only_values_left_at_their_defaults() -> None:
    settings = Settings(kafka=KafkaSettings(status_topic="prod.status"))

    merged = apply_demo(settings, DEMO)

    assert merged.kafka.bootstrap_servers == "127.0.0.1:40001"
    assert merged.kafka.status_topic == "prod.status"
    assert merged.ledger.url.get_secret_value() == "sqlite:///tmp/demo.db"
    assert merged.credentials.keys_file == Path("/tmp/keys.csv")
    assert merged.kafka.allow_unbound_sources  # the demo waives tenant isolation explicitly
    bound = Settings(kafka=KafkaSettings(topic_sources={"cfa.events.v1": ["12345678900011"]}))
    assert not apply_demo(bound, DEMO).kafka.allow_unbound_sources


def test_explicit_ledger_is_kept() -> None:
    settings = Settings(ledger=LedgerSettings(url=SecretStr("postgresql://db/relais")))

    merged = apply_demo(settings, DEMO)

    assert merged.ledger.url.get_secret_value() == "postgresql://db/relais"
