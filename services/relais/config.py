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
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from relais.config_files import FilesSettings
from relais.domain.events import MAX_EVENT_BYTES
from relais.domain.opco import OpcoCode
from relais.domain.profile_overrides import OpcoOverride
from relais.domain.referentials import default_schemas_dir
from relais.secret_files import loose_files

DEFAULT_SECRETS_DIR = Path("/run/secrets/relais")


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class KafkaSettings(_Group):
    """The Kafka side: where CFA events come from, where statuses and dead letters go."""

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka brokers, host:port[,...]"
    )
    input_topic: str = Field(default="cfa.events.v1", description="The shared topic of CFA events")
    input_pattern: str | None = Field(
        default=None,
        description="One topic per CFA: a regular expression of topic names (e.g. "
        "`cfa\\.[0-9]{14}\\.events`); replaces input_topic when set",
    )
    topic_sources: dict[str, list[str]] = Field(
        default_factory=dict,
        description="JSON map topic -> the ce_source values (CFA SIRET or UAI; `*`: any) it may "
        "carry. Empty: any source on any input topic; once it names a topic, an unnamed topic "
        "carries nothing",
    )
    allow_unbound_sources: bool = Field(
        default=False,
        description="Waive tenant isolation: let ingest run with neither topic_sources nor "
        "cfa.require_signature, any CFA then able to submit for any other on a shared input "
        "topic (demo, tests, a single-CFA bus). Off: `relais run` refuses to start so",
    )
    status_topic: str = Field(
        default="relais.status.v1",
        description="Where status events go (every CFA's, unless status_topic_pattern is set)",
    )
    status_topic_pattern: str | None = Field(
        default=None,
        description="One status topic per CFA: a topic name with `{siret}` (e.g. "
        "`cfa.{siret}.status`), where each CFA's statuses go instead of status_topic; the "
        "topics must exist (or be auto-created) with ACLs letting each CFA read its own only",
    )
    status_content_mode: Literal["binary", "structured"] = Field(
        default="binary",
        description="CloudEvents content mode of the status events: `binary` (ce_* headers, "
        "`content-type: application/json`, the status body as the value; also "
        "ce_datacontenttype for older consumers) or `structured` (`content-type: "
        "application/cloudevents+json`, the whole event as the value)",
    )
    schema_registry_url: str | None = Field(
        default=None,
        description="A Confluent-compatible Schema Registry (e.g. Apicurio's "
        "`http://host:8080/apis/ccompat/v7`): record values framed by its serializers (magic "
        "byte 0, 4-byte schema id, JSON) are accepted when the schema is relais's for the "
        "event type (`relais schemas register`); unset: a framed value is dead-lettered",
    )
    rejected_topic: str = Field(
        default="relais.rejected.v1",
        description="Operators' topic: the refusals of records whose source is not established "
        "(unknown or forbidden source on its topic, bad signature, unreadable envelope), named "
        "by their Kafka position, never by the ids they claim",
    )
    dlq_topic: str = Field(default="relais.dlq.v1", description="Where unreadable records go")
    group_id: str = Field(default="relais-ingest", description="Consumer group of ingest")
    client_id: str = Field(default="relais", description="Kafka client id")
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        default="earliest", description="Where a new consumer group starts (earliest: lose nothing)"
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) of the brokers")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM, mTLS)")
    ssl_keyfile: Path | None = Field(default=None, description="Client key (PEM, mTLS)")
    session_timeout_ms: int = Field(
        default=10_000, ge=100, description="Consumer session timeout (the client's default)"
    )
    heartbeat_interval_ms: int = Field(
        default=3_000, ge=50, description="Consumer heartbeat (below session_timeout_ms)"
    )
    max_poll_records: int | None = Field(default=None, ge=1, description="aiokafka's cap per poll")
    fetch_max_wait_ms: int = Field(
        default=500,
        ge=0,
        description="Longest wait of the broker for data on a fetch (aiokafka's default). Real "
        "Kafka answers as soon as one record is there; some brokers (Tansu) hold every fetch "
        "this long: set ~20 there",
    )
    ingest_batch_size: int = Field(
        default=200,
        ge=1,
        description="Records per poll: decided one by one, written in one ledger transaction, "
        "then one offset commit",
    )
    max_message_bytes: int = Field(
        default=MAX_EVENT_BYTES,
        ge=1024,
        description="Largest CFA event accepted (bytes of the record value); larger: dead letter",
    )
    request_timeout_ms: int = Field(default=40_000, ge=1000, description="Kafka request timeout")
    enable_idempotence: bool = Field(
        default=False,
        description="Idempotent producer for status events and dead letters (no duplicate from a "
        "producer retry). Off by default: relais's promises do not rely on it, and some brokers "
        "(Tansu) lack it",
    )
    relay_batch_size: int = Field(default=500, ge=1, description="Outbox rows per relay batch")
    relay_idle_s: float = Field(
        default=0.2, gt=0, description="Relay sleep when the outbox is empty"
    )

    @field_validator("status_topic_pattern")
    @classmethod
    def _check_status_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        example = value.replace("{siret}", "12345678901234")
        if value.count("{siret}") != 1 or not _TOPIC_NAME.fullmatch(example):
            raise ValueError(
                "status_topic_pattern must hold `{siret}` once and otherwise only letters, "
                "digits, '.', '_' and '-' (a Kafka topic name)"
            )
        return value

    @model_validator(mode="after")
    def _check_security(self) -> KafkaSettings:
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be below session_timeout_ms")
        if self.security_protocol.startswith("SASL") and self.sasl_mechanism is None:
            raise ValueError("a SASL security_protocol needs sasl_mechanism")
        return self


class LedgerSettings(_Group):
    url: SecretStr = Field(
        default=SecretStr("sqlite:///.relais/ledger.db"),
        description="sqlite:///path.db (one process) or postgresql://user:pw@host/db",
    )
    pool_min: int = Field(default=1, ge=1, description="PostgreSQL pool size, minimum")
    pool_max: int = Field(default=10, ge=1, description="PostgreSQL pool size, maximum")
    migrate_on_start: bool = Field(
        default=True,
        description="Apply pending migrations at start; false when a `relais migrate` job "
        "(with a more privileged user) does it",
    )


def _upper_keys(value: Any) -> Any:
    """Environment variable names arrive lower-cased: OPCO codes are upper-case."""
    if isinstance(value, dict):
        return {k.upper() if isinstance(k, str) else k: v for k, v in value.items()}
    return value


class OpcoSettings(_Group):
    profiles_file: Path | None = Field(
        default=None, description="OPCO profiles (default: schemas/referentials/opco-profiles.json)"
    )
    overrides: dict[OpcoCode, OpcoOverride] = Field(
        default_factory=dict,
        description="Per OPCO, any profile value: base_url, base_path, auth, token_url, "
        "identifiers, rate_limit_per_s, max_concurrency, page_size, and keys of quirks, "
        "capabilities, transport, errors, etats (e.g. RELAIS_OPCO__OVERRIDES__AKTO__BASE_URL, "
        "RELAIS_OPCO__OVERRIDES__AKTO__QUIRKS__CERFA_SIGNATURE_KEY)",
    )
    rate_limit_shared_by: int = Field(
        default=1,
        ge=1,
        description="Processes calling the OPCOs at once (dispatch + poll replicas; the chart "
        "sets it): each one keeps 1/N of an OPCO's rate limit, so together they stay within it",
    )
    editeur: str = Field(default="relais", description="EDITEUR header sent to every OPCO")
    logiciel: str = Field(default="relais", description="LOGICIEL header sent to every OPCO")
    version: str = Field(default="0.1.0", description="VERSION header sent to every OPCO")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    write_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=10.0, gt=0)
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open an OPCO's circuit breaker"
    )
    breaker_reset_s: float = Field(
        default=30.0, gt=0, description="How long a breaker stays open before a trial call"
    )

    _overrides_keys = field_validator("overrides", mode="before")(_upper_keys)


class OAuthClient(_Group):
    client_id: str
    client_secret: SecretStr
    dpop_key_file: Path | None = Field(default=None, description="PEM key DPoP proofs sign with")
    dpop_key: SecretStr | None = Field(default=None, description="The same PEM, inline")


class CredentialsSettings(_Group):
    """Per (CFA, OPCO) API keys and the OAuth2 clients of the OPCO that ask for one."""

    keys_file: Path | None = Field(default=None, description="CSV `siret,opco,key,expiry`")
    keys_dir: Path | None = Field(
        default=None,
        description="Secret mount: `<OPCO>/<SIRET>` holds a key (`.expiry` beside it), "
        "`oauth/<OPCO>/[<SIRET>/]client_id`, `client_secret`, `dpop_key.pem` an OAuth2 client",
    )
    oauth_clients_file: Path | None = Field(
        default=None, description="CSV `opco,client_id,client_secret[,siret][,dpop_key_file]`"
    )
    oauth_clients: dict[OpcoCode, OAuthClient] = Field(
        default_factory=dict, description="Per OPCO: client_id, client_secret, dpop_key[_file]"
    )
    keys: dict[OpcoCode, dict[str, SecretStr]] = Field(
        default_factory=dict,
        description="Per OPCO, per CFA SIRET: its API key, from the environment (e.g. "
        "RELAIS_CREDENTIALS__KEYS__ATLAS__73282932000074); overrides the files' key",
    )

    _clients_keys = field_validator("oauth_clients", mode="before")(_upper_keys)
    _keys_keys = field_validator("keys", mode="before")(_upper_keys)


class DispatchSettings(_Group):
    inflight_limit: int = Field(default=256, ge=1, description="OPCO calls in flight per process")
    per_opco_inflight_limit: int | None = Field(
        default=None,
        ge=0,
        description=(
            "At most this many of those calls for one OPCO, so a slow OPCO cannot starve the"
            " others (unset: a quarter of inflight_limit; 0: no cap)"
        ),
    )
    lease_s: float = Field(
        default=120.0, gt=0, description="A crashed worker's claimed commands return after this"
    )
    max_attempts: int = Field(default=12, ge=1, description="Attempts before a command fails")
    max_age_hours: float = Field(
        default=24.0, gt=0, description="Age after which a command is not retried any more"
    )
    backoff_base_s: float = Field(default=1.0, ge=0, description="First retry wait")
    backoff_cap_s: float = Field(default=900.0, ge=0, description="Longest retry wait")
    jitter: float = Field(
        default=0.2, ge=0, le=1, description="Fraction of each wait drawn at random (1: full)"
    )
    idle_s: float = Field(default=1.0, gt=0, description="Longest sleep when nothing is due")
    enabled: bool = True


class PollSettings(_Group):
    interval_s: float = Field(
        default=300.0, gt=0, description="Between two complete polls of one (CFA, OPCO)"
    )
    keys_interval_s: float = Field(
        default=21_600.0,
        gt=0,
        description="Between two cfakeyinfo checks of every key (key expiry gauge)",
    )
    enabled: bool = True


class HttpSettings(_Group):
    host: str = Field(
        default="127.0.0.1", description="Health/metrics address (0.0.0.0 in a container)"
    )
    port: int = Field(default=8080, ge=0, le=65535, description="0: a free port")
    enabled: bool = True


class CfaSettings(_Group):
    uai_siret: dict[str, str] = Field(
        default_factory=dict, description="JSON map UAI -> SIRET, for a ce_source given as a UAI"
    )
    hmac_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="JSON map CFA SIRET -> HMAC-SHA256 secret; that CFA's events must carry a "
        "valid ce_signature",
    )
    require_signature: bool = Field(default=False, description="Every CFA's events must be signed")


class LogSettings(_Group):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_output: bool | None = Field(
        default=None, alias="json", description="JSON lines (unset: JSON when not a TTY)"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class TracingSettings(_Group):
    enabled: bool | None = Field(
        default=None,
        description="OpenTelemetry spans exported by OTLP/HTTP (needs the tracing extra). Unset: "
        "on when an endpoint is set, here or in OTEL_EXPORTER_OTLP_ENDPOINT / "
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTEL_SDK_DISABLED=true turns it off)",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (http://otel-collector:4318: spans go to its "
        "/v1/traces). Unset: the standard OTEL_EXPORTER_OTLP_* variables (endpoint, headers, "
        "certificate, timeout), else http://localhost:4318",
    )
    service_name: str = Field(
        default="relais",
        min_length=1,
        description="service.name of the spans; a process running one role adds it "
        "(relais-dispatch)",
    )
    sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded; a record whose traceparent is sampled is "
        "always followed (parent-based)",
    )


OTEL_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_on(settings: Settings) -> bool:
    """Whether spans are recorded and exported (``TracingSettings.enabled``, explained there)."""
    if settings.tracing.enabled is not None:
        return settings.tracing.enabled
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        settings.tracing.otlp_endpoint or any(os.environ.get(v) for v in OTEL_ENDPOINT_VARIABLES)
    )


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
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    shutdown_grace_s: float = Field(
        default=20.0, gt=0, description="SIGTERM -> exit within this many seconds"
    )
    schemas_dir: Path = Field(
        default_factory=default_schemas_dir, description="Contracts and referentials folder"
    )

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


def isolation_problem(settings: Settings) -> str | None:
    """Why ingest would not bind events to their CFA (None: it does, or the waiver is set).

    A CFA is bound to its events by ``kafka.topic_sources`` (a topic carries only the sources it
    names) or by ``cfa.require_signature`` (every event signed with its CFA's HMAC secret).
    Without either, any producer on the input topic may submit in any CFA's name.
    """
    if settings.kafka.topic_sources or settings.cfa.require_signature:
        return None
    if settings.kafka.allow_unbound_sources:
        return None
    return (
        "tenant isolation is off: neither RELAIS_KAFKA__TOPIC_SOURCES nor "
        "RELAIS_CFA__REQUIRE_SIGNATURE is set, so any CFA could submit in another's name; set "
        "one of them, or waive isolation explicitly with RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES=true"
    )


def secrets_dir_in_use() -> Path:
    """The secrets directory ``load_settings`` reads: ``RELAIS_SECRETS_DIR`` or the default."""
    return Path(os.environ.get("RELAIS_SECRETS_DIR") or DEFAULT_SECRETS_DIR)


def loose_secret_files(directory: Path | None = None) -> list[str]:
    """Files of the secrets directory that group or others may read (names only, never values)."""
    return loose_files(directory if directory is not None else secrets_dir_in_use())


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
