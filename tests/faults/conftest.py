"""Fixtures of the fault suite: a working directory kept for the report, a fresh ledger."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.faults.harness import REPORT_ROOT
from tests.fixtures.postgres import PgDatabases

KEEP_RUNS = 8


@pytest.fixture
def fault_workdir(request: pytest.FixtureRequest) -> Path:
    """Logs and files of the run, under .relais/faults/work/ (kept: the report points at them)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    work = REPORT_ROOT / "work"
    if work.is_dir():  # keep the newest runs' logs only (a long run writes ~100 MB)
        for old in sorted(p for p in work.iterdir() if p.is_dir())[:-KEEP_RUNS]:
            shutil.rmtree(old, ignore_errors=True)
    path = work / f"{stamp}-{request.node.name}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def fault_pg_url(pg_databases: PgDatabases) -> str:
    """A fresh, empty database: the relais processes migrate it at start."""
    return pg_databases.create("relais_faults")
