"""Long mode of the fault suite (``make faults``: ``pytest -m slow tests/faults``), for manual runs.

The same phases as the CI mode with >= 5,000 events, three rounds of kill -9 of every role, more
PostgreSQL drops and longer OPCO outages; then the broker restart phase with a bigger workload and
three restarts. Reports under ``.relais/faults/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import run_mode
from tests.faults.s3broker import moto_available
from tests.faults.scenario import LONG
from tests.faults.test_broker_restart import run_broker_restart
from tests.faults.test_faults_ci import FAULTS, OPCO_FAULTS

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(5400)]


async def test_long_run_every_fault_type(
    kafka_bootstrap: str, fault_pg_url: str, fault_workdir: Path
) -> None:
    verdict, timeline, _ = await run_mode(
        "long", LONG, kafka_bootstrap, fault_pg_url, fault_workdir, seed=29
    )
    assert set(timeline.faults()) >= FAULTS, timeline.faults()
    assert verdict.counts["events_produced"] >= 5000
    injected = verdict.counts["opco_requests_by_outcome"]
    assert all(injected.get(f"fault:{kind}", 0) > 0 for kind in OPCO_FAULTS), injected
    # the order check compared follow-ups of one dossier that only the per-dossier FIFO keeps
    # in order (successive factures, certificats, a rupture), not only a dossier and its follow-up
    order = verdict.counts["order_checked"]
    assert order["independent_pairs"] >= LONG.followup_dossiers // 2, order
    attack = verdict.counts["attack"]
    assert set(attack["attack_answered_by"]) == {"own", "operators", "dlq"}, attack
    assert attack["attack_kinds"]["foreign_numero"] == LONG.attack_foreign, attack
    assert verdict.ok, {k: v[:10] for k, v in verdict.problems.items() if v}


@pytest.mark.skipif(not moto_available(), reason="moto[server] (dev extra) is not installed")
async def test_long_broker_restarts(fault_workdir: Path, fault_pg_url: str) -> None:
    verdict, timeline = await run_broker_restart(
        fault_workdir, fault_pg_url, first=200, second=100, restarts=3
    )
    assert timeline.faults()["broker_restart"] == 3
    assert verdict.ok, {k: v[:10] for k, v in verdict.problems.items() if v}  # type: ignore[attr-defined]
