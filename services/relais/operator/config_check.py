"""``relais config check``: settings, credentials and profiles, validated without starting anything.

Nothing connects: no broker, no database, no OPCO. Each finding is one line with a level:
``error`` (relais would not work, or would work wrongly), ``warning`` (it works, but look at it),
``ok`` (a summary of what was checked). Findings name files, fields, CFA SIRETs and OPCO codes,
never a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from pydantic_settings import SettingsError

from relais.adapters.credentials import load_credentials
from relais.config import Settings, isolation_problem, load_settings, loose_secret_files
from relais.config_errors import problems_of
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import read_validity
from relais.operator.target import DemoState, apply_demo

Level = Literal["ok", "warning", "error"]
EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Finding:
    level: Level
    area: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "area": self.area, "message": self.message}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, area: str, message: str) -> None:
        self.findings.append(Finding(level, area, message))

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.level == "warning")


def _check_kafka(settings: Settings, report: Report) -> None:
    k = settings.kafka
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        path: Path | None = getattr(k, name)
        if path is not None and not path.is_file():
            report.add("error", "kafka", f"{name}: no file at {path}")
    if k.security_protocol.startswith("SASL") and (not k.sasl_username or not k.sasl_password):
        report.add("error", "kafka", "SASL needs sasl_username and sasl_password")
    if k.security_protocol == "PLAINTEXT" and not k.bootstrap_servers.startswith(
        ("127.", "localhost")
    ):
        report.add("warning", "kafka", "PLAINTEXT to a non-local broker: events travel in clear")
    if k.input_topic in (k.status_topic, k.dlq_topic) or k.status_topic == k.dlq_topic:
        report.add("error", "kafka", "input, status and DLQ topics must be distinct")
    published = [k.rejected_topic]
    if k.status_topic_pattern is not None:
        published.append(k.status_topic_pattern.replace("{siret}", "12345678901234"))
    for topic in published:
        if topic == k.input_topic or (k.input_pattern and re.fullmatch(k.input_pattern, topic)):
            report.add("error", "kafka", f"relais would read its own topic {topic} as input")
    for topic in k.topic_sources:
        if k.input_pattern is None and topic != k.input_topic:
            report.add("warning", "kafka", f"topic_sources names {topic}, which is not read")
    unbound = isolation_problem(settings)
    if unbound is not None:
        report.add("error", "kafka", unbound)
    elif k.allow_unbound_sources and not (k.topic_sources or settings.cfa.require_signature):
        report.add("warning", "kafka", "tenant isolation waived (allow_unbound_sources)")
    topic_desc = k.input_pattern or k.input_topic
    report.add(
        "ok",
        "kafka",
        f"bootstrap {k.bootstrap_servers}, input {topic_desc}, status {k.status_topic}, "
        f"dlq {k.dlq_topic}, group {k.group_id}, {k.security_protocol}",
    )


def _check_ledger(settings: Settings, report: Report) -> None:
    url = settings.ledger.url.get_secret_value()
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith("postgres"):
        report.add("ok", "ledger", "PostgreSQL")
    elif scheme == "sqlite":
        report.add("ok", "ledger", "SQLite (one process: run every role in it)")
    else:
        report.add("error", "ledger", f"unsupported ledger URL scheme {scheme!r}")
    if settings.ledger.pool_min > settings.ledger.pool_max:
        report.add("error", "ledger", "pool_min is above pool_max")


def _check_profiles(settings: Settings, report: Report) -> dict[OpcoCode, OpcoProfile]:
    path = settings.profiles_file
    try:
        profiles = load_profiles(path)
    except OSError as exc:
        report.add("error", "profiles", f"{path}: unreadable ({exc.strerror})")
        return {}
    except (ValueError, KeyError, ValidationError) as exc:
        report.add("error", "profiles", f"{path}: invalid ({type(exc).__name__})")
        return {}
    missing = sorted(set(OpcoCode) - set(profiles))
    if missing:
        report.add("error", "profiles", f"no profile for {', '.join(missing)}")
    for code, override in settings.opco.overrides.items():
        if code not in profiles:
            report.add("warning", "profiles", f"override for {code}, which has no profile")
        if override.base_url and not override.base_url.startswith("https://"):
            report.add("warning", "profiles", f"{code}: base_url override is not HTTPS")
    report.add("ok", "profiles", f"{len(profiles)} OPCO profiles from {path}")
    return profiles


def _check_credentials(
    settings: Settings,
    profiles: dict[OpcoCode, OpcoProfile],
    report: Report,
    today: date,
) -> None:
    creds = settings.credentials
    if creds.keys_file is None and creds.keys_dir is None and not creds.keys:
        report.add("error", "credentials", "no keys_file nor keys_dir: no CFA can be served")
        return
    for name in ("keys_file", "keys_dir", "oauth_clients_file"):
        path: Path | None = getattr(creds, name)
        if path is not None and not path.exists():
            report.add("error", "credentials", f"{name}: nothing at {path}")
    store = load_credentials(settings)
    for problem in [*store.problems, *loose_secret_files()]:
        report.add("error", "credentials", problem)
    entries = store.entries()
    for code, profile in sorted(profiles.items()):
        if profile.auth.oauth2 is None:
            continue
        dpop = profile.auth.dpop is not None
        lacking = [e.siret for e in entries if e.opco == code]
        lacking = [siret for siret in lacking if not store.has_oauth(siret, code, dpop=dpop)]
        if code not in store.oauth and not store.cfa_oauth and not lacking:
            lacking = ["every CFA"]
        if lacking:
            what = "an OAuth2 client with a DPoP key" if dpop else "an OAuth2 client"
            report.add(
                "error", "credentials", f"{code} needs {what}; none for {', '.join(lacking[:3])}"
            )
    cfas = sorted({e.siret for e in entries})
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    for entry in entries:
        if entry.expiry is not None and entry.expiry < today:
            report.add("error", "credentials", f"key of {entry.siret} at {entry.opco} expired")
        elif entry.expiry is not None and entry.expiry <= soon:
            report.add(
                "warning",
                "credentials",
                f"key of {entry.siret} at {entry.opco} expires on {entry.expiry.isoformat()}",
            )
    for cfa in cfas:
        have = {e.opco for e in entries if e.siret == cfa}
        lacking = sorted(set(OpcoCode) - have)
        if lacking:
            report.add(
                "warning",
                "credentials",
                f"CFA {cfa} has no key at {', '.join(lacking)} (its events there will fail)",
            )
    report.add(
        "ok",
        "credentials",
        f"{len(entries)} keys for {len(cfas)} CFA, "
        f"OAuth2 clients for {', '.join(sorted(o.value for o in store.oauth)) or 'no OPCO'}",
    )


def _check_cfa(settings: Settings, report: Report) -> None:
    cfa = settings.cfa
    if cfa.require_signature and not cfa.hmac_secrets:
        report.add("error", "cfa", "require_signature is set but no CFA has an HMAC secret")
    for uai, siret in cfa.uai_siret.items():
        if not (len(siret) == 14 and siret.isascii() and siret.isdigit()):
            report.add("error", "cfa", f"uai_siret[{uai}] is not a SIRET")


CHECKS: tuple[Callable[[Settings, Report], object], ...] = (
    _check_kafka,
    _check_ledger,
    _check_cfa,
)


def check(settings: Settings, *, today: date) -> Report:
    """Every check on already-loaded settings."""
    report = Report()
    for run in CHECKS:
        run(settings, report)
    profiles = _check_profiles(settings, report)
    _check_credentials(settings, profiles, report, today)
    _check_referentials(settings, report, today)
    return report


def _check_referentials(settings: Settings, report: Report, today: date) -> None:
    """Each referential file's validity date (``# valid-until:``): a stale one is named."""
    stale = 0
    for validity in read_validity(settings.schemas_dir):
        if validity.valid_until is None:
            stale += 1
            report.add(
                "warning",
                "referential",
                f"{validity.file}: no valid-until date (missing or unreadable file?); "
                "see schemas/referentials/README.md",
            )
        elif validity.stale(today):
            stale += 1
            report.add(
                "warning",
                "referential",
                f"{validity.file}: stale, valid until {validity.valid_until.isoformat()}; "
                "update it (schemas/referentials/README.md)",
            )
    if not stale:
        report.add("ok", "referential", "every referential file is within its validity date")


def check_environment(*, today: date, demo: DemoState | None = None) -> Report:
    """Load the settings (reporting each invalid field), complete them from a running demo's
    state when given, and check them."""
    try:
        settings = load_settings()
    except (ValidationError, SettingsError) as exc:
        report = Report()
        for problem in problems_of(exc):  # one line each, naming the variable, never the value
            report.add("error", "settings", problem)
        return report
    if demo is not None:
        settings = apply_demo(settings, demo)
    return check(settings, today=today)
