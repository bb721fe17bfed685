"""The demo's tracker: counts, latency, settlement and the invariant checks."""

from __future__ import annotations

from typing import Any

from relais.demo.tracker import Tracker, percentile

CFA = "12345678900011"


def status(event: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"status": name, "eventId": event, "cfa": CFA, "opco": "AKTO", **fields}


def record(seq: int, route: str, outcome: str = "created", **ids: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "route": route,
        "opco": "AKTO",
        "cfaSiret": CFA,
        "status": 201,
        "outcome": outcome,
        "created": outcome == "created",
        "naturalKey": ids.pop("nk", None),
        "ids": ids,
    }


def two_event_dossier() -> Tracker:
    t = Tracker()
    t.published(event_id="e1", cfa=CFA, dossier_id="D1", kind="dossier", at=10.0)
    t.published(event_id="e2", cfa=CFA, dossier_id="D1", kind="convention", at=10.1)
    t.observe("s0", status("e1", "received"), 10.2)
    t.observe("s1", status("e1", "submitted", numeroInterne="N1", etat="TRANSMIS"), 10.5)
    t.observe("s2", status("e2", "submitted", numeroInterne="N1"), 11.1)
    return t


def test_a_clean_run_has_no_violation_and_measures_latency() -> None:
    t = two_event_dossier()
    t.settle_with(
        [
            record(1, "dossiers_post", numeroInterne="N1", nk="k1"),
            record(2, "dossiers_etats", outcome="ok"),
            record(3, "conventions", idConvention="C1", numeroInterneDossier="N1"),
        ]
    )

    inv = t.invariants()

    assert (inv["lost"], inv["duplicated"], inv["out_of_order"], inv["violations"]) == (0, 0, 0, 0)
    assert t.counts_by_status() == {"submitted": 2}
    assert t.counts_by_opco() == {"AKTO": {"submitted": 2}}
    assert t.latencies_ms() == [500.0, 1000.0]
    assert t.latency_summary()["p50"] == 500.0


def test_an_event_without_terminal_status_is_lost() -> None:
    t = two_event_dossier()
    t.published(event_id="e3", cfa=CFA, dossier_id="D2", kind="dossier", at=12.0)
    t.observe("s3", status("e3", "retrying", attempts=1), 12.5)

    inv = t.invariants()

    assert inv["without_terminal_status"] == 1
    assert inv["lost"] == 1
    assert inv["details"]["lost"] == ["e3"]
    assert t.retries_by_opco["AKTO"] == 1
    assert not t.done()


def test_submitted_without_a_trace_at_the_opco_is_lost() -> None:
    t = two_event_dossier()
    t.settle_with([record(1, "dossiers_post", numeroInterne="N1", nk="k1")])

    inv = t.invariants()

    assert inv["details"]["lost"] == ["e2"]


def test_an_object_created_twice_is_duplicated_and_a_409_is_not() -> None:
    t = two_event_dossier()
    t.settle_with(
        [
            record(1, "dossiers_post", numeroInterne="N1", nk="k1"),
            record(2, "dossiers_post", numeroInterne="N9", nk="k1"),
            record(3, "conventions", idConvention="C1", numeroInterneDossier="N1"),
            record(4, "conventions", "duplicate", idConvention="C1", numeroInterneDossier="N1"),
        ]
    )

    inv = t.invariants()

    assert inv["duplicated"] == 1
    assert inv["duplicate_answers"] == 1


def test_two_terminal_ids_for_one_event_are_duplicated_a_redelivery_is_not() -> None:
    t = two_event_dossier()
    t.observe("s1", status("e1", "submitted", numeroInterne="N1"), 13.0)  # same id again
    assert t.redelivered == 1
    assert t.invariants()["duplicated"] == 0

    t.observe("other", status("e1", "failed", reason="X"), 13.0)
    assert t.invariants()["details"]["duplicated"] == ["e1"]


def test_requests_in_another_order_than_published_are_out_of_order() -> None:
    t = two_event_dossier()
    t.settle_with(
        [
            record(1, "conventions", idConvention="C1", numeroInterneDossier="N1"),
            record(2, "dossiers_post", numeroInterne="N1", nk="k1"),
        ]
    )

    assert t.invariants()["details"]["out_of_order"] == [f"{CFA}/D1"]


def test_done_waits_for_final_etats() -> None:
    t = two_event_dossier()
    assert t.unsettled() == ["AKTO:N1"]

    t.observe(
        "s9",
        {
            "status": "etat_changed",
            "opco": "AKTO",
            "kind": "dossier",
            "numeroInterne": "N1",
            "etat": "ENGAGE",
            "previousEtat": "TRANSMIS",
        },
        14.0,
    )

    assert t.done()
    assert t.etats_by_opco() == {"AKTO": {"dossier:ENGAGE": 1}}


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 99) == 99.0


def test_a_creation_whose_answer_was_lost_still_reached_the_opco() -> None:
    t = two_event_dossier()
    lost = record(1, "dossiers_post", "fault:stored_lost", numeroInterne="N1", nk="k1")
    lost["created"] = True
    t.settle_with(
        [
            lost,
            record(2, "dossiers_post", "duplicate", numeroInterne="N1", nk="k1"),
            record(3, "conventions", idConvention="C1", numeroInterneDossier="N1"),
        ]
    )

    inv = t.invariants()

    assert (inv["lost"], inv["duplicated"], inv["out_of_order"]) == (0, 0, 0)
    assert inv["duplicate_answers"] == 1


def document_record(seq: int, document_id: str, sha: str) -> dict[str, Any]:
    r = record(seq, "documents", numeroInterneDossier="N1", numeroInterneDocument=document_id)
    r["file"] = {"sha256": sha, "size": 600, "name": "d.pdf", "mediaType": "application/pdf"}
    return r


def test_documents_are_counted_and_found_at_the_opco_by_their_id() -> None:
    t = two_event_dossier()
    t.published(event_id="e3", cfa=CFA, dossier_id="D1", kind="document", at=10.2)
    t.published(event_id="e4", cfa=CFA, dossier_id="D1", kind="document", at=10.3)
    t.observe("s3", status("e3", "submitted", numeroInterneDocument="DOC1"), 11.5)
    t.observe("s4", status("e4", "rejected", errors=[{"code": "FILE_HASH_MISMATCH"}]), 11.6)
    t.settle_with(
        [
            record(1, "dossiers_post", numeroInterne="N1", nk="k1"),
            record(2, "conventions", idConvention="C1", numeroInterneDossier="N1"),
            document_record(3, "DOC1", "a" * 64),
        ]
    )

    assert t.documents() == {
        "published": 2,
        "by_status": {"rejected": 1, "submitted": 1},
        "at_opco": 1,
    }
    assert t.invariants()["violations"] == 0


def test_one_file_created_twice_for_the_same_dossier_is_a_duplicated_document() -> None:
    t = two_event_dossier()
    t.published(event_id="e3", cfa=CFA, dossier_id="D1", kind="document", at=10.2)
    t.observe("s3", status("e3", "submitted", numeroInterneDocument="DOC1"), 11.5)
    t.settle_with(
        [
            record(1, "dossiers_post", numeroInterne="N1", nk="k1"),
            record(2, "conventions", idConvention="C1", numeroInterneDossier="N1"),
            document_record(3, "DOC1", "a" * 64),
            document_record(4, "DOC2", "a" * 64),  # the simulator let a duplicate through
        ]
    )

    assert t.invariants()["duplicated"] == 1
