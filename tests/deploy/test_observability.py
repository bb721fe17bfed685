"""Alert rules and the Grafana dashboard only use metrics that relais really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from relais.metrics import Metrics

OBS = Path(__file__).resolve().parents[2] / "deploy" / "observability"
METRIC = re.compile(r"\brelais_[a-z0-9_]+")
EXPECTED_ALERTS = {
    "RelaisConsumerLagGrowing",
    "RelaisOpcoErrorRateHigh",
    "RelaisOpcoCircuitOpen",
    "RelaisDeadLettersPresent",
    "RelaisCfaKeyExpiringSoon",
    "RelaisOutboxBacklog",
    "RelaisPollLagging",
    "RelaisReferentialStale",
}


def exported_names() -> set[str]:
    names: set[str] = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def alert_rules() -> list[dict[str, object]]:
    doc = yaml.safe_load((OBS / "alerts.yaml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dash = json.loads((OBS / "grafana-relais.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def test_every_alert_metric_is_exported() -> None:
    exported = exported_names()
    used = {m for rule in alert_rules() for m in METRIC.findall(str(rule["expr"]))}
    assert used, "no relais metric found in the alert rules"
    assert used <= exported, used - exported


def test_every_dashboard_metric_is_exported() -> None:
    exported = exported_names()
    used = {m for expr in dashboard_exprs() for m in METRIC.findall(expr)}
    assert used, "no relais metric found in the dashboard"
    assert used <= exported, used - exported


def test_alerts_cover_what_operators_need_and_are_well_formed() -> None:
    rules = alert_rules()
    assert {str(r["alert"]) for r in rules} >= EXPECTED_ALERTS
    for rule in rules:
        assert isinstance(rule["labels"], dict) and rule["labels"]["severity"]
        assert isinstance(rule["annotations"], dict) and rule["annotations"]["summary"]
