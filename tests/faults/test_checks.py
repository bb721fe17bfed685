"""The fault suite's own checks catch what they are there for: an object created out of
publication order, a fault that did not take effect, a failed scrape, an unexpected exit code."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import (
    Cluster,
    Timeline,
    Workload,
    check_effects,
    check_order,
    empty_scans,
    events_consumed,
    metric_series,
    with_application_name,
)

CFA, SUBJECT, OPCO, NUMERO = "12345678900011", "CFA-2026-00001", "AKTO", "4242"


def _workload(kinds: list[tuple[str, str]]) -> Workload:
    """One dossier and its follow-ups, published in this order: (kind, object) pairs."""
    wl = Workload.create(3, date(2026, 12, 3))
    for i, (kind, obj) in enumerate(kinds):
        wl._add({"id": f"ev-{i}", "subject": SUBJECT}, "submitted", kind, CFA)
        if obj:
            wl.object_of[f"ev-{i}"] = obj
    return wl


def _created(seq: int, route: str, **ids: str) -> dict[str, Any]:
    key = "numeroInterne" if route in ("dossiers_post", "rupture") else "numeroInterneDossier"
    return {"seq": seq, "opco": OPCO, "route": route, "ids": {key: NUMERO, **ids}}


KINDS = [("dossier", ""), ("facture", "FAC-1"), ("facture", "FAC-2"), ("rupture", "")]
WHERE = {(CFA, SUBJECT): (OPCO, NUMERO)}


def test_order_in_publication_order_passes() -> None:
    created = [
        _created(1, "dossiers_post"),
        _created(5, "factures", referenceFactureCFA="FAC-1"),
        _created(7, "factures", referenceFactureCFA="FAC-2"),
        _created(9, "rupture"),
    ]
    problems, order = check_order(_workload(KINDS), WHERE, created)
    assert problems == []
    assert order == {"dossiers": 1, "pairs": 3, "independent_pairs": 2}


def test_successive_factures_swapped_at_the_opco_fail() -> None:
    created = [
        _created(1, "dossiers_post"),
        _created(7, "factures", referenceFactureCFA="FAC-1"),
        _created(5, "factures", referenceFactureCFA="FAC-2"),  # overtook FAC-1
        _created(9, "rupture"),
    ]
    problems, _ = check_order(_workload(KINDS), WHERE, created)
    assert problems == [
        f"{SUBJECT}: facture ev-2 created at seq 5, the facture published before it at seq 7"
    ]


def test_a_followup_never_created_fails() -> None:
    created = [_created(1, "dossiers_post"), _created(5, "factures", referenceFactureCFA="FAC-1")]
    problems, _ = check_order(_workload(KINDS), WHERE, created)
    assert [p.split(":")[1].split(" created")[0].strip() for p in problems] == [
        "facture ev-2",
        "rupture ev-3",
    ]


def _cluster(tmp_path: Path) -> Cluster:
    timeline = Timeline()
    timeline.note("rebalance_join", "ingest-2 joined the group")
    cluster = Cluster(workdir=tmp_path, bootstrap="unused:9092", pg_url="unused", timeline=timeline)
    cluster.pg_terminations = [{"terminated": 3, "relais-dispatch": 3}]
    cluster.joined = {"ingest-2": 5}
    cluster.group_changes = [{"node": "ingest-2", "joined": True}]
    cluster.scrapes = [{"node": "all", "ok": True, "series": 40, "error": None}]
    cluster.exits = [
        {"node": "dispatch", "signal": "SIGKILL", "code": -9, "expected": -9},
        {"node": "ingest", "signal": "SIGTERM", "code": 0, "expected": 0},
    ]
    return cluster


def _effects(cluster: Cluster) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = defaultdict(list)
    check_effects(cluster, problems, {})
    return {k: v for k, v in problems.items() if v}


def test_faults_that_took_effect_pass(tmp_path: Path) -> None:
    assert _effects(_cluster(tmp_path)) == {}


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (lambda c: c.pg_terminations.append({"terminated": 0}), "fault_no_effect"),
        (lambda c: c.joined.update({"ingest-2": 0}), "fault_no_effect"),
        (lambda c: c.joined.clear(), "fault_no_effect"),
        (lambda c: c.group_changes.append({"node": "ingest-2", "left": False}), "fault_no_effect"),
        (
            lambda c: c.scrapes.append({"node": "x", "ok": False, "error": "HTTP 500"}),
            "metrics_scrape_failed",
        ),
        (lambda c: c.scrapes.clear(), "metrics_scrape_failed"),
        (
            lambda c: c.exits.append(
                {"node": "all", "signal": "SIGTERM", "code": -9, "expected": 0}
            ),
            "unexpected_exit_code",
        ),
    ],
)
def test_a_fault_without_effect_fails(tmp_path: Path, breakage: Any, problem: str) -> None:
    cluster = _cluster(tmp_path)
    breakage(cluster)
    assert list(_effects(cluster)) == [problem]


PAGE = """# HELP relais_events_consumed_total CFA events consumed
# TYPE relais_events_consumed_total counter
relais_events_consumed_total{outcome="accepted"} 4.0
relais_events_consumed_total{outcome="dead_lettered"} 1.0
relais_events_consumed_created{outcome="accepted"} 1.7e+09
python_gc_objects_collected_total{generation="0"} 12.0
"""


def test_metrics_page_reading() -> None:
    assert events_consumed(PAGE) == 5
    assert metric_series(PAGE) == 3
    assert events_consumed("") == metric_series("") == 0


def test_application_name_added_or_replaced() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/db"
    assert with_application_name(url, "relais-all") == url + "?application_name=relais-all"
    assert (
        with_application_name(url + "?sslmode=disable&application_name=x", "relais-all")
        == url + "?sslmode=disable&application_name=relais-all"
    )


SCANNED = {"log_lines": 800, "metrics_series": 900, "status": 120, "dlq": 3}
LINES = {"relais-all.log": 50, "relais-ingest.log": 20}


def test_scans_that_scanned_something_pass() -> None:
    assert empty_scans(SCANNED, LINES, ["all", "ingest"], 40, 6) == []


@pytest.mark.parametrize("what", ["log_lines", "metrics_series", "status", "dlq"])
def test_an_empty_scan_fails(what: str) -> None:
    assert empty_scans({**SCANNED, what: 0}, LINES, ["all"], 40, 6) == [f"{what}: nothing scanned"]


def test_a_silent_node_or_no_needle_fails() -> None:
    assert empty_scans(SCANNED, LINES, ["all", "dispatch"], 40, 6) == [
        "relais-dispatch.log: no line"
    ]
    assert empty_scans(SCANNED, LINES, ["all"], 0, 6) == ["needles: 0 personal values, 6 secrets"]
