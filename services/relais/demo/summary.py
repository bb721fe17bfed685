"""The demo's verdict: ONE JSON summary (counts by status and OPCO, etats, latency, retries, error
codes, unexpected outcomes) and the invariant checks against the simulator's request record."""

from __future__ import annotations

import time
from typing import Any

from relais.demo.tracker import Tracker
from relais.demo.view import Banner


def verdict(
    tracker: Tracker,
    banner: Banner,
    records: list[dict[str, Any]],
    *,
    planned: int,
    started: float,
    timed_out: bool,
) -> dict[str, Any]:
    """The verdict, once ``tracker`` has settled with the simulator's ``records``."""
    tracker.settle_with(records)
    inv = tracker.invariants()
    unexpected = tracker.unexpected_outcomes()
    t = tracker
    return {
        "ok": inv["violations"] == 0 and not timed_out,
        "timed_out": timed_out,
        "duration_s": round(time.monotonic() - started, 1),
        "events": {
            "planned": planned,
            "published": banner.published,
            "skipped_follow_ups": banner.skipped,
        },
        "counts_by_status": t.counts_by_status(),
        "counts_by_opco": t.counts_by_opco(),
        "etats_by_opco": t.etats_by_opco(),
        "documents": t.documents(),
        "latency_ms": t.latency_summary(),
        "retrying_notes": sum(t.retries_by_opco.values()),
        "retrying_by_opco": dict(sorted(t.retries_by_opco.items())),
        "error_codes": dict(sorted(t.error_codes().items())),
        "unexpected_outcomes": {"count": len(unexpected), "first": unexpected[:10]},
        "status_records": {
            "read": t.status_records,
            "redelivered": t.redelivered,
            "unknown": t.unknown_statuses,
        },
        "simulator_requests": len(records),
        "invariants": inv,
    }
