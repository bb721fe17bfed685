"""``SimulatorConfig``: everything the simulator needs to start, built by ``relais simulator``."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from relais.domain.dates import PARIS
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import referential
from relais_simulator.auth import CfaKey, OAuthClient, load_keys_csv, load_oauth_csv
from relais_simulator.faults import FaultSpec, parse_faults
from relais_simulator.instruction import Instruction

# The admin token by environment (a command-line argument is readable by every local user).
ADMIN_TOKEN_ENV = "RELAIS_SIMULATOR_ADMIN_TOKEN"  # noqa: S105 (a variable name)


def default_npec_path() -> Path:
    return referential("npec-synthetic.csv")


def default_profiles_path() -> Path:
    return referential("opco-profiles.json")


def paris_today() -> date:
    return datetime.now(PARIS).date()


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    day_seconds: float = 0.0
    start_date: date = field(default_factory=paris_today)
    keys: list[CfaKey] = field(default_factory=list)
    oauth_clients: list[OAuthClient] = field(default_factory=list)
    token_ttl_s: float = 3600.0
    faults: dict[OpcoCode, FaultSpec] = field(default_factory=dict)
    instruction: Instruction = field(default_factory=Instruction)
    profiles_path: Path = field(default_factory=default_profiles_path)
    npec_path: Path = field(default_factory=default_npec_path)
    rate_limit: bool = True
    use_rules: bool = True
    followup_rules: bool = False
    seed: int = 0
    max_records: int = 1_000_000
    version: str = "relais-simulator 0.1"

    def profiles(self) -> dict[OpcoCode, OpcoProfile]:
        return load_profiles(self.profiles_path)

    @classmethod
    def from_files(
        cls,
        *,
        keys_file: Path | None = None,
        oauth_file: Path | None = None,
        faults_file: Path | None = None,
        **kwargs: object,
    ) -> SimulatorConfig:
        config = cls(**kwargs)  # type: ignore[arg-type]
        if keys_file is not None:
            config.keys = load_keys_csv(keys_file)
        if oauth_file is not None:
            config.oauth_clients = load_oauth_csv(oauth_file)
        if faults_file is not None:
            config.faults = parse_faults(json.loads(faults_file.read_text(encoding="utf-8")))
        return config
