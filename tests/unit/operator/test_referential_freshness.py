"""At start (``relais run``) relais warns about a stale referential and exports each file's
validity as a gauge."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

from relais.domain.dates import paris_today
from relais.domain.referentials import default_schemas_dir
from relais.metrics import Metrics
from relais.operator.referentials import watch_referentials


def test_stale_file_is_warned_and_every_file_has_its_gauge(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(default_schemas_dir() / "referentials", schemas / "referentials")
    smic = schemas / "referentials" / "smic.csv"
    lines = smic.read_text(encoding="utf-8").splitlines(keepends=True)
    smic.write_text("# valid-until: 2026-11-30\n" + "".join(lines[1:]), encoding="utf-8")
    metrics = Metrics()
    today = paris_today(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Paris

    with structlog.testing.capture_logs() as logs:
        stale = watch_referentials(metrics, schemas, today)

    assert [v.file for v in stale] == ["smic.csv"]
    events = [e for e in logs if e["event"] == "referential.stale"]
    assert [(e["file"], e["valid_until"]) for e in events] == [("smic.csv", "2026-11-30")]
    text = metrics.render().decode()
    # the validity ends at midnight Paris after the valid-until day: 2026-12-01T00:00+01:00
    assert 'relais_referential_valid_until_timestamp_seconds{file="smic.csv"} 1.7960796e+09' in text
    for name in ("idcc-opco.csv", "remuneration-apprentis.csv", "npec-synthetic.csv"):
        assert f'relais_referential_valid_until_timestamp_seconds{{file="{name}"}}' in text


def test_nothing_is_warned_within_the_dates(tmp_path: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        watch_referentials(Metrics(), default_schemas_dir(), date(2026, 11, 27))
    assert [e for e in logs if e["event"] == "referential.stale"] == []
