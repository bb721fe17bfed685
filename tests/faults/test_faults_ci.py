"""CI mode of the fault suite: every fault type at least once, a few hundred events.

Runs in the default ``make test`` (marked ``integration``, not ``slow``). The long mode
(``make faults``) is ``test_faults_long.py``. What is checked is listed in
``harness.check_invariants``; the run's report (events, faults with timestamps, invariant counts,
durations) is printed and written under ``.relais/faults/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import run_mode
from tests.faults.scenario import CI

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FAULTS = {
    "kill9",
    "pg_terminate",
    "opco_down",
    "opco_slow",
    "opco_429_storm",
    "opco_5xx_burst",
    "opco_stored_lost",
    "opco_connection_drop",
    "duplicate_produce",
    "group_reset",
    "rebalance_join",
    "rebalance_leave",
    "attack_collide",
    "attack_poison",
    "attack_foreign_numero",
}

OPCO_FAULTS = ("down", "timeout", "throttle", "error", "stored_lost", "drop")


async def test_every_fault_type_nothing_lost_nothing_leaked(
    kafka_bootstrap: str, fault_pg_url: str, fault_workdir: Path
) -> None:
    verdict, timeline, _ = await run_mode("ci", CI, kafka_bootstrap, fault_pg_url, fault_workdir)
    assert set(timeline.faults()) >= FAULTS, timeline.faults()
    assert verdict.counts["events_produced"] >= 300
    # the simulator did inject each OPCO fault (its request record says so), not just accept it
    injected = verdict.counts["opco_requests_by_outcome"]
    assert all(injected.get(f"fault:{kind}", 0) > 0 for kind in OPCO_FAULTS), injected
    # the order check compared follow-ups of one dossier that only the per-dossier FIFO keeps
    # in order (successive factures, certificats, a rupture), not only a dossier and its follow-up
    order = verdict.counts["order_checked"]
    assert order["independent_pairs"] >= CI.followup_dossiers // 2, order
    # the attacker's records were each answered, the three ways (its own statuses, the operators'
    # topic for the forged ones, the DLQ), and the foreign number never reached the OPCO
    attack = verdict.counts["attack"]
    assert set(attack["attack_answered_by"]) == {"own", "operators", "dlq"}, attack
    assert attack["attack_kinds"]["foreign_numero"] == CI.attack_foreign, attack
    assert verdict.ok, {k: v[:10] for k, v in verdict.problems.items() if v}
