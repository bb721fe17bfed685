"""The environment the demo, the fault runs, the e2e tests and the bench give ``relais run``."""

from __future__ import annotations

import json

from relais.config import Settings, isolation_problem
from relais.demo.processes import relais_env


def _settings(env: dict[str, str]) -> Settings:
    kafka = {
        k.removeprefix("RELAIS_KAFKA__").lower(): v
        for k, v in env.items()
        if k.startswith("RELAIS_KAFKA__")
    }
    kafka["topic_sources"] = json.loads(kafka.get("topic_sources", "{}"))
    return Settings(kafka=kafka)


def test_without_a_binding_isolation_is_waived_explicitly() -> None:
    env = relais_env(bootstrap="127.0.0.1:9092", ledger_url="sqlite://", http_port=0)
    assert env["RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES"] == "true"
    assert "RELAIS_KAFKA__TOPIC_SOURCES" not in env
    assert isolation_problem(_settings(env)) is None


def test_a_binding_is_passed_and_nothing_waived() -> None:
    env = relais_env(
        bootstrap="127.0.0.1:9092",
        ledger_url="sqlite://",
        http_port=0,
        topic_sources={"cfa.events.v1": ["12345678900011"]},
    )
    assert "RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES" not in env
    settings = _settings(env)
    assert settings.kafka.topic_sources == {"cfa.events.v1": ["12345678900011"]}
    assert not settings.kafka.allow_unbound_sources
    assert isolation_problem(settings) is None
