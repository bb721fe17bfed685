"""The live view renders what the tracker knows (no terminal needed)."""

from __future__ import annotations

from rich.console import Console

from relais.demo.tracker import Tracker
from relais.demo.view import Banner, render

CFA = "12345678900011"


def test_view_shows_counts_etats_faults_and_errors() -> None:
    t = Tracker()
    t.published(event_id="e1", cfa=CFA, dossier_id="D1", kind="dossier", at=0.0)
    t.published(event_id="e2", cfa=CFA, dossier_id="D2", kind="dossier", at=0.0)
    t.observe("r", {"status": "retrying", "eventId": "e1", "opco": "AKTO"}, 0.5)
    t.observe(
        "s", {"status": "submitted", "eventId": "e1", "opco": "AKTO", "numeroInterne": "N"}, 1
    )
    t.observe("x", {"status": "rejected", "eventId": "e2", "errors": [{"code": "NIR_CLE"}]}, 1)
    t.observe(
        "c",
        {
            "status": "etat_changed",
            "opco": "AKTO",
            "kind": "dossier",
            "numeroInterne": "N",
            "etat": "ENGAGE",
        },
        2,
    )
    banner = Banner(elapsed_s=3.0, planned=2, published=2, faults={"ATLAS": "down for 8s"})

    console = Console(record=True, width=200)
    console.print(render(t, banner))
    text = console.export_text()

    assert "published 2/2" in text
    assert "AKTO" in text and "ENGAGE:1" in text
    assert "fault at ATLAS: down for 8s" in text
    assert "NIR_CLE×1" in text
    akto = next(line for line in text.splitlines() if "│ AKTO" in line)
    assert "1000" in akto  # p50 latency in ms
