"""Alert rules and the Grafana dashboard only use metrics that relais really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from relais.metrics import Metrics

OBS = Path(__file__).resolve().parents[2] / "deploy" / "observability"
METRIC = re.compile(r"\brelais_[a-z0-9_]+")
RUNBOOK = OBS.parents[1] / "docs" / "runbook.md"
EXPECTED_ALERTS = {
    "RelaisDown",
    "RelaisAbsent",
    "RelaisConsumerLagGrowing",
    "RelaisOpcoErrorRatioHigh",
    "RelaisOpcoCircuitOpen",
    "RelaisCommandsFailing",
    "RelaisDeadLettersPresent",
    "RelaisCfaKeyExpired",
    "RelaisCfaKeyExpiringSoon",
    "RelaisOutboxStuck",
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


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((OBS / "grafana-relais.json").read_text())
    return doc


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]


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
        runbook = str(rule["annotations"]["runbook_url"])
        assert runbook == f"docs/runbook.md#{str(rule['alert']).lower()}", runbook


def runbook_sections() -> dict[str, str]:
    text = RUNBOOK.read_text(encoding="utf-8")
    parts = re.split(r"^## (\S+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_alert_has_a_runbook_section_saying_what_to_check_and_do() -> None:
    sections = runbook_sections()
    alerts = {str(r["alert"]) for r in alert_rules()}
    assert set(sections) == alerts, set(sections) ^ alerts
    for name, body in sections.items():
        for part in ("**Means**", "**Check**", "**Do**"):
            assert part in body, (name, part)


def promtool() -> str:
    path = shutil.which("promtool")
    assert path, (
        "promtool is needed to check the alert rules: apt-get install prometheus (Debian), or "
        "go install github.com/prometheus/prometheus/cmd/promtool@latest"
    )
    return path


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    tool = promtool()
    checked = subprocess.run(
        [tool, "check", "rules", str(OBS / "alerts.yaml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [tool, "test", "rules", str(OBS / "alerts.test.yaml")], capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_fires_in_a_unit_test() -> None:
    doc = yaml.safe_load((OBS / "alerts.test.yaml").read_text())
    fired = {
        case["alertname"]
        for test in doc["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert fired == {str(r["alert"]) for r in alert_rules()}


def test_dashboard_has_job_namespace_and_opco_variables_used_by_every_query() -> None:
    names = {v["name"] for v in dashboard()["templating"]["list"]}
    assert {"datasource", "namespace", "job", "opco"} <= names
    for expr in dashboard_exprs():
        for selector in re.findall(r"\b(?:relais_[a-z0-9_]+|up)\{([^}]*)\}", expr):
            assert 'job=~"$job"' in selector and 'namespace=~"$namespace"' in selector, expr
        assert not re.search(r"\brelais_[a-z0-9_]+(?!\{|[a-z0-9_])", expr), expr
    assert any('opco=~"$opco"' in e for e in dashboard_exprs())
