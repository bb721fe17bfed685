"""relais's settings: the one place that reads the environment.

Everything is one ``Settings(BaseSettings)`` with nested groups. Values come, highest priority
first, from: keyword arguments, ``RELAIS_*`` environment variables (nested with ``__``, e.g.
``RELAIS_KAFKA__BOOTSTRAP_SERVERS``; maps and lists as JSON), a ``.env`` file when one is given, and
files in a secrets directory (Kubernetes secret mounts: one file per value, named like the variable,
e.g. ``relais_kafka__sasl_password``). Secrets are ``SecretStr``: ``repr(settings)`` and logs never
show them.

    settings = load_settings()  # environment (+ /run/secrets/relais when present)
    settings = load_settings(secrets_dir=Path(...))  # explicit secrets directory
    settings = Settings(kafka=KafkaSettings(bootstrap_servers="127.0.0.1:19092"))  # tests

Defaults are the embedded ones (``relais demo``): a local broker, SQLite, the bundled profiles.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from relais.domain.opco import OpcoCode
from relais.domain.referentials import default_schemas_dir

DEFAULT_SECRETS_DIR = Path("/run/secrets/relais")


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Group):
    """The Kafka side: where CFA events come from, where statuses and dead letters go."""

    bootstrap_servers: str = "127.0.0.1:9092"
    input_topic: str = "cfa.events.v1"
    # One topic per CFA: a regular expression (e.g. ``cfa\\.[0-9]{14}\\.events\\.v1``); when set it
    # replaces ``input_topic``.
    input_pattern: str | None = None
    # Which ``ce_source`` values (CFA SIRET, or UAI mapped through ``cfa.uai_siret``) each topic may
    # carry. A value ``"*"`` allows any source on that topic. An empty map allows any source on any
    # input topic (embedded default); as soon as it names one topic, a topic it does not name is
    # refused.
    topic_sources: dict[str, list[str]] = Field(default_factory=dict)
    status_topic: str = "relais.status.v1"
    dlq_topic: str = "relais.dlq.v1"
    group_id: str = "relais-ingest"
    client_id: str = "relais"
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    # aiokafka's defaults; tests on the embedded broker use 1000 / 333.
    session_timeout_ms: int = Field(default=10_000, ge=100)
    heartbeat_interval_ms: int = Field(default=3_000, ge=50)
    max_poll_records: int | None = Field(default=None, ge=1)
    # Ingest handles up to this many records per poll, one at a time, then commits them at once.
    ingest_batch_size: int = Field(default=200, ge=1)
    # The largest CFA event accepted (bytes of the record value); larger -> dead letter.
    max_message_bytes: int = Field(default=1_048_576, ge=1024)
    request_timeout_ms: int = Field(default=40_000, ge=1000)
    # Relay: how many outbox rows per batch, how long to sleep when the outbox is empty.
    relay_batch_size: int = Field(default=500, ge=1)
    relay_idle_s: float = Field(default=0.2, gt=0)

    @model_validator(mode="after")
    def _check_security(self) -> KafkaSettings:
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be below session_timeout_ms")
        if self.security_protocol.startswith("SASL") and self.sasl_mechanism is None:
            raise ValueError("a SASL security_protocol needs sasl_mechanism")
        return self

    def topic_may_carry(self, topic: str, source: str) -> bool:
        """Whether an event from ``source`` (a CFA SIRET) may arrive on ``topic``."""
        if not self.topic_sources:
            return True
        allowed = self.topic_sources.get(topic)
        if allowed is None:
            return False
        return "*" in allowed or source in allowed


class LedgerSettings(_Group):
    # A SecretStr: a PostgreSQL URL may carry a password.
    url: SecretStr = SecretStr("sqlite:///.relais/ledger.db")
    pool_min: int = Field(default=1, ge=1)
    pool_max: int = Field(default=10, ge=1)
    # Apply pending migrations at start (idempotent, under a lock). A deployment that runs
    # ``relais migrate`` as a separate job with a more privileged user sets this to false.
    migrate_on_start: bool = True


class OpcoOverride(_Group):
    """Production values that replace the profile's (base URL of the real OPCO, limits)."""

    base_url: str | None = None
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)


def _upper_keys(value: Any) -> Any:
    """Environment variable names arrive lower-cased: OPCO codes are upper-case."""
    if isinstance(value, dict):
        return {k.upper() if isinstance(k, str) else k: v for k, v in value.items()}
    return value


class OpcoSettings(_Group):
    profiles_file: Path | None = None  # None: schemas_dir/referentials/opco-profiles.json
    overrides: dict[OpcoCode, OpcoOverride] = Field(default_factory=dict)
    # The EDITEUR / LOGICIEL / VERSION headers every OPCO asks for.
    editeur: str = "relais"
    logiciel: str = "relais"
    version: str = "0.1.0"
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    write_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=10.0, gt=0)
    # Circuit breaker: open after this many consecutive failures, for this long.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)

    _overrides_keys = field_validator("overrides", mode="before")(_upper_keys)


class OAuthClient(_Group):
    client_id: str
    client_secret: SecretStr


class CredentialsSettings(_Group):
    """Per (CFA, OPCO) API keys and the OAuth2 clients of the OPCO that ask for one."""

    keys_file: Path | None = None  # CSV ``siret,opco,key,expiry``
    # A secret mount: ``<OPCO>/<SIRET>`` holds a key (``.expiry`` beside it), ``oauth/<OPCO>/
    # client_id`` and ``client_secret`` an OAuth2 client.
    keys_dir: Path | None = None
    oauth_clients_file: Path | None = None  # CSV ``opco,client_id,client_secret``
    oauth_clients: dict[OpcoCode, OAuthClient] = Field(default_factory=dict)

    _clients_keys = field_validator("oauth_clients", mode="before")(_upper_keys)


class DispatchSettings(_Group):
    inflight_limit: int = Field(default=256, ge=1)
    lease_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=12, ge=1)
    max_age_hours: float = Field(default=24.0, gt=0)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_cap_s: float = Field(default=900.0, ge=0)
    jitter: float = Field(default=0.2, ge=0, le=1)  # +/- fraction of the computed delay
    idle_s: float = Field(default=1.0, gt=0)  # longest sleep when nothing is due
    enabled: bool = True


class PollSettings(_Group):
    interval_s: float = Field(default=300.0, gt=0)
    enabled: bool = True


class HttpSettings(_Group):
    # 127.0.0.1 by default; a container sets RELAIS_HTTP__HOST=0.0.0.0 for its probes.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: a free port (tests)
    enabled: bool = True


class CfaSettings(_Group):
    # ce_source may name a CFA by its UAI; relais works with SIRETs.
    uai_siret: dict[str, str] = Field(default_factory=dict)
    # Per-CFA HMAC-SHA256 secrets (by SIRET): when a CFA has one, its events must carry a valid
    # ``ce_signature`` header; ``require_signature`` makes it mandatory for every CFA.
    hmac_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    require_signature: bool = False

    def siret_of(self, source: str) -> str:
        """The CFA SIRET named by a ``ce_source`` (a SIRET, a UAI, or a URI ending with either)."""
        ident = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return self.uai_siret.get(ident, ident)


class LogSettings(_Group):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_output: bool | None = Field(default=None, alias="json")  # None: JSON when not a TTY

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


Role = Literal["ingest", "dispatch", "relay", "poll"]
ALL_ROLES: tuple[Role, ...] = ("ingest", "dispatch", "relay", "poll")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RELAIS_",
        env_nested_delimiter="__",
        secrets_nested_delimiter="__",
        secrets_dir=str(DEFAULT_SECRETS_DIR),
        secrets_dir_missing="ok",
        extra="ignore",
        frozen=True,
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    opco: OpcoSettings = Field(default_factory=OpcoSettings)
    credentials: CredentialsSettings = Field(default_factory=CredentialsSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    poll: PollSettings = Field(default_factory=PollSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    cfa: CfaSettings = Field(default_factory=CfaSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    shutdown_grace_s: float = Field(default=20.0, gt=0)
    schemas_dir: Path = Field(default_factory=default_schemas_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Mounted secrets may fill nested values (``relais_kafka__sasl_password``).
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            NestedSecretsSettingsSource(file_secret_settings),
        )

    @property
    def profiles_file(self) -> Path:
        return self.opco.profiles_file or self.schemas_dir / "referentials" / "opco-profiles.json"


def load_settings(
    *, secrets_dir: Path | None = None, env_file: Path | None = None, **overrides: Any
) -> Settings:
    """Settings from the environment, a ``.env`` file and a secrets directory.

    ``secrets_dir`` defaults to ``RELAIS_SECRETS_DIR`` or ``/run/secrets/relais`` (ignored when
    missing).
    """
    if secrets_dir is None and os.environ.get("RELAIS_SECRETS_DIR"):
        secrets_dir = Path(os.environ["RELAIS_SECRETS_DIR"])
    kwargs: dict[str, Any] = dict(overrides)
    if secrets_dir is not None:
        kwargs["_secrets_dir"] = secrets_dir
    if env_file is not None:
        kwargs["_env_file"] = env_file
    return Settings(**kwargs)
