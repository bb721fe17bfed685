"""Every metric the alert rules and the dashboard use is in a scrape of a running relais."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from relais.bootstrap import build
from tests.deploy.test_observability import METRIC, alert_rules, dashboard_exprs
from tests.integration.pipeline.harness import make_topics, running, settings_for

pytestmark = pytest.mark.integration

_SUFFIX = re.compile(r"_(bucket|sum|count|total)$")


def _family(name: str) -> str:
    return _SUFFIX.sub("", name)


async def test_alert_and_dashboard_metrics_are_in_a_scrape(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    app = build(
        settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/l.db"),
        ["ingest", "dispatch", "relay", "poll"],
    )
    async with (
        running(app),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http,
    ):
        scrape = (await http.get("/metrics")).text
    exported = set(re.findall(r"^# TYPE (relais_[a-z0-9_]+) ", scrape, flags=re.MULTILINE))
    used = {m for rule in alert_rules() for m in METRIC.findall(str(rule["expr"]))}
    used |= {m for expr in dashboard_exprs() for m in METRIC.findall(expr)}
    assert used
    missing = {n for n in used if n not in exported and _family(n) not in exported}
    assert missing == set(), f"not in a scrape of relais: {sorted(missing)}"
