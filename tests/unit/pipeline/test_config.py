"""Settings: environment, nested groups, mounted secrets, and no secret in repr."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from relais.config import KafkaSettings, Settings, load_settings
from relais.domain.opco import OpcoCode


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("RELAIS_"):
            monkeypatch.delenv(name)
    s = load_settings(secrets_dir=Path("/nonexistent-relais-secrets"))
    assert s.kafka.input_topic == "cfa.events.v1"
    assert s.kafka.status_topic == "relais.status.v1"
    assert s.kafka.dlq_topic == "relais.dlq.v1"
    assert s.ledger.url.get_secret_value() == "sqlite:///.relais/ledger.db"
    assert s.dispatch.inflight_limit == 256
    assert s.dispatch.max_attempts == 12
    assert s.dispatch.max_age_hours == 24
    assert s.kafka.session_timeout_ms == 10_000  # the client library's default
    assert s.kafka.fetch_max_wait_ms == 500  # the client library's default too
    assert s.profiles_file.name == "opco-profiles.json"


def test_environment_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAIS_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("RELAIS_KAFKA__TOPIC_SOURCES", '{"cfa.a.v1": ["12345678901234"]}')
    monkeypatch.setenv("RELAIS_OPCO__OVERRIDES__AKTO__BASE_URL", "https://api.akto.example")
    monkeypatch.setenv("RELAIS_DISPATCH__INFLIGHT_LIMIT", "16")
    monkeypatch.setenv("RELAIS_LOG__JSON", "false")
    monkeypatch.setenv("RELAIS_KAFKA__FETCH_MAX_WAIT_MS", "20")
    s = load_settings()
    assert s.kafka.fetch_max_wait_ms == 20
    assert s.kafka.bootstrap_servers == "k1:9092,k2:9092"
    assert s.kafka.topic_sources == {"cfa.a.v1": ["12345678901234"]}
    assert s.opco.overrides[OpcoCode.AKTO].base_url == "https://api.akto.example"
    assert s.dispatch.inflight_limit == 16
    assert s.log.json_output is False


def test_secrets_from_a_mounted_directory_never_in_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "relais_kafka__sasl_password").write_text("kafka-pw-123")
    (tmp_path / "relais_ledger__url").write_text("postgresql://relais:db-pw-456@db/relais")
    monkeypatch.setenv("RELAIS_CFA__HMAC_SECRETS", '{"12345678901234": "hmac-789"}')
    monkeypatch.setenv("RELAIS_CREDENTIALS__OAUTH_CLIENTS__AKTO__CLIENT_ID", "cid")
    monkeypatch.setenv("RELAIS_CREDENTIALS__OAUTH_CLIENTS__AKTO__CLIENT_SECRET", "oauth-000")
    s = load_settings(secrets_dir=tmp_path)
    assert s.kafka.sasl_password is not None
    assert s.kafka.sasl_password.get_secret_value() == "kafka-pw-123"
    assert "db-pw-456" in s.ledger.url.get_secret_value()
    text = repr(s) + str(s) + s.model_dump_json()
    for secret in ("kafka-pw-123", "db-pw-456", "hmac-789", "oauth-000"):
        assert secret not in text


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(session_timeout_ms=1000, heartbeat_interval_ms=1000)
    with pytest.raises(ValidationError):
        KafkaSettings(security_protocol="SASL_SSL")


def test_uai_map_and_signature_secrets() -> None:
    s = Settings(cfa={"uai_siret": {"0751234A": "12345678901234"}, "hmac_secrets": {"1": "x"}})
    assert s.cfa.uai_siret["0751234A"] == "12345678901234"
    assert s.cfa.hmac_secrets["1"].get_secret_value() == "x"


def test_a_cluster_bootstrap_reaches_faststream_as_one_host_each() -> None:
    """FastStream would hand "a:1,b:2" to aiokafka as one host (a real cluster's bootstrap)."""
    from relais.adapters.kafka.client import bootstrap_hosts

    kafka = KafkaSettings(bootstrap_servers="k1:9092, k2:9092,k3:9093")
    assert bootstrap_hosts(kafka) == ["k1:9092", "k2:9092", "k3:9093"]
