"""Which deployment an operator command talks to: Settings, completed by a running demo's state.

``relais demo`` writes ``.relais/demo.json`` (bootstrap, topics, ledger URL, simulator URL, admin
token, key files). An operator command loads the usual ``Settings``; for every value still at its
embedded default, the demo's value is used instead, so ``relais watch`` finds the demo with no flag,
while any value the environment (or a flag) sets wins. Only ``relais.config`` reads the environment:
"still at its default" is decided by comparing with the defaults, not by looking at variables.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from relais.config import KafkaSettings, LedgerSettings, Settings
from relais.config_errors import load_settings_or_fail
from relais.errors import ConfigurationError

DEFAULT_STATE_FILE = Path(".relais") / "demo.json"


@dataclass(frozen=True)
class DemoState:
    """What a running ``relais demo`` tells the operator commands (no personal data)."""

    bootstrap: str
    ledger_url: str
    simulator_url: str
    admin_token: str
    input_topic: str = KafkaSettings().input_topic
    status_topic: str = KafkaSettings().status_topic
    dlq_topic: str = KafkaSettings().dlq_topic
    keys_file: str | None = None
    oauth_file: str | None = None
    profiles_file: str | None = None
    files_base: str | None = None  # the demo's local file store (files.local_base)
    cfas: list[str] = field(default_factory=list)
    pid: int | None = None
    started_at: str | None = None

    def write(self, path: Path = DEFAULT_STATE_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        # The admin token is a local sandbox secret: keep the file private anyway.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh, indent=2)
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path = DEFAULT_STATE_FILE) -> DemoState | None:
        """The state of a demo, or None when there is no (readable) state file."""
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(raw, dict):
            return None
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError:
            return None

    @property
    def alive(self) -> bool:
        """Whether the demo process that wrote this state still runs."""
        if self.pid is None:
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def remove_state(path: Path = DEFAULT_STATE_FILE) -> None:
    path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Target:
    """The settings to use and, when it was found, the demo they point at."""

    settings: Settings
    demo: DemoState | None

    @property
    def simulator_url(self) -> str | None:
        return self.demo.simulator_url if self.demo else None

    @property
    def admin_token(self) -> str | None:
        return self.demo.admin_token if self.demo else None


def apply_demo(settings: Settings, demo: DemoState) -> Settings:
    """``settings`` with every value still at its default replaced by the demo's."""
    kafka_defaults = KafkaSettings()
    kafka_update: dict[str, Any] = {}
    for name, value in (
        ("bootstrap_servers", demo.bootstrap),
        ("input_topic", demo.input_topic),
        ("status_topic", demo.status_topic),
        ("dlq_topic", demo.dlq_topic),
    ):
        if getattr(settings.kafka, name) == getattr(kafka_defaults, name):
            kafka_update[name] = value
    if not (settings.kafka.topic_sources or settings.cfa.require_signature):
        kafka_update["allow_unbound_sources"] = True  # as the demo runs relais (relais_env)
    update: dict[str, Any] = {}
    if kafka_update:
        update["kafka"] = settings.kafka.model_copy(update=kafka_update)
    ledger_default = LedgerSettings().url.get_secret_value()
    if settings.ledger.url.get_secret_value() == ledger_default:
        update["ledger"] = LedgerSettings.model_validate(
            {**settings.ledger.model_dump(), "url": demo.ledger_url}
        )
    if settings.opco.profiles_file is None and demo.profiles_file:
        update["opco"] = settings.opco.model_copy(
            update={"profiles_file": Path(demo.profiles_file)}
        )
    if settings.files.local_base is None and not settings.files.cfas and demo.files_base:
        update["files"] = settings.files.model_copy(update={"local_base": demo.files_base})
    creds = settings.credentials
    creds_update: dict[str, Any] = {}
    if creds.keys_file is None and creds.keys_dir is None and not creds.keys and demo.keys_file:
        creds_update["keys_file"] = Path(demo.keys_file)
    if creds.oauth_clients_file is None and not creds.oauth_clients and demo.oauth_file:
        creds_update["oauth_clients_file"] = Path(demo.oauth_file)
    if creds_update:
        update["credentials"] = creds.model_copy(update=creds_update)
    return settings.model_copy(update=update) if update else settings


def resolve(
    *,
    bootstrap: str | None = None,
    state_file: Path | None = None,
    use_demo: bool = True,
    need_kafka: bool = True,
) -> Target:
    """Settings for an operator command: environment, then a live demo's state, then flags.

    A command that reads or writes Kafka (``need_kafka``) never guesses a broker: without a
    bootstrap set in the settings, by ``--bootstrap`` or by a running demo, it says so.
    """
    settings = load_settings_or_fail()
    demo = DemoState.read(state_file or DEFAULT_STATE_FILE) if use_demo else None
    if demo is not None and not demo.alive:
        demo = None
    if need_kafka and demo is None and not bootstrap and not kafka_configured(settings):
        raise ConfigurationError(
            "no Kafka to talk to: RELAIS_KAFKA__BOOTSTRAP_SERVERS is not set, --bootstrap not "
            f"given and no running demo ({state_file or DEFAULT_STATE_FILE}); give one of them"
        )
    if demo is not None:
        settings = apply_demo(settings, demo)
    if bootstrap:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap})}
        )
    return Target(settings=settings, demo=demo)


def kafka_configured(settings: Settings) -> bool:
    """Whether the settings name a broker (set explicitly, not left at the embedded default)."""
    return "bootstrap_servers" in settings.kafka.model_fields_set


def resolve_args(args: Any, *, need_kafka: bool = True) -> Target:
    """``resolve`` from the shared flags of an ``argparse.Namespace``."""
    return resolve(
        bootstrap=getattr(args, "bootstrap", None),
        state_file=getattr(args, "state_file", None),
        use_demo=not getattr(args, "no_demo", False),
        need_kafka=need_kafka,
    )
