"""Secure default (security review, item 6): ingest binds events to their CFA, or says why not.

Without ``kafka.topic_sources`` nor ``cfa.require_signature``, any producer on the shared input
topic could submit in any CFA's name: ``relais run`` refuses to start (configuration error, exit
78) unless ``kafka.allow_unbound_sources`` waives it, and ``relais config check`` reports it.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
from pydantic import SecretStr

from relais.config import CfaSettings, KafkaSettings, Settings, isolation_problem
from relais.entrypoints.cli import main
from relais.operator.config_check import check

CFA = "12345678900011"


class Started(Exception):
    """``relais run`` went past its configuration checks (raised instead of building the app)."""


@pytest.fixture()
def no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("RELAIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RELAIS_SECRETS_DIR", "/nonexistent")

    def build(*args: Any, **kwargs: Any) -> Any:
        raise Started

    monkeypatch.setattr("relais.bootstrap.build", build)


@pytest.mark.usefixtures("no_build")
def test_run_refuses_an_unbound_shared_topic(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    assert exc.value.code == 78  # EX_CONFIG
    err = capsys.readouterr().err
    assert "tenant isolation" in err
    for setting in ("TOPIC_SOURCES", "REQUIRE_SIGNATURE", "ALLOW_UNBOUND_SOURCES"):
        assert f"__{setting}" in err, setting


@pytest.mark.usefixtures("no_build")
@pytest.mark.parametrize(
    ("env", "roles"),
    [
        ({"RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES": "true"}, []),
        ({"RELAIS_KAFKA__TOPIC_SOURCES": f'{{"cfa.events.v1": ["{CFA}"]}}'}, []),
        (
            {
                "RELAIS_CFA__REQUIRE_SIGNATURE": "true",
                "RELAIS_CFA__HMAC_SECRETS": f'{{"{CFA}": "s"}}',
            },
            [],
        ),
        ({}, ["--role", "dispatch,relay,poll"]),  # no ingest: nothing to bind
    ],
)
def test_run_starts_when_bound_or_waived(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], roles: list[str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Started):
        main(["run", *roles])


def _levels(settings: Settings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in check(settings, today=date(2026, 11, 27)).findings:
        if finding.area == "kafka":
            out.setdefault(finding.level, []).append(finding.message)
    return out


def test_config_check_reports_an_unbound_topic_as_an_error() -> None:
    levels = _levels(Settings())
    assert any("tenant isolation is off" in m for m in levels.get("error", []))


def test_config_check_reports_a_waiver_as_a_warning() -> None:
    levels = _levels(Settings(kafka=KafkaSettings(allow_unbound_sources=True)))
    assert not any("tenant isolation" in m for m in levels.get("error", []))
    assert any("tenant isolation waived" in m for m in levels.get("warning", []))


def test_a_binding_needs_no_waiver() -> None:
    bound = Settings(kafka=KafkaSettings(topic_sources={"cfa.events.v1": [CFA]}))
    signed = Settings(cfa=CfaSettings(require_signature=True, hmac_secrets={CFA: SecretStr("s")}))
    for settings in (bound, signed):
        assert isolation_problem(settings) is None
        assert not any("tenant isolation" in m for ms in _levels(settings).values() for m in ms)
    assert isolation_problem(Settings()) is not None
