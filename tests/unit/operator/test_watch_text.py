"""``relais watch``'s one line per status names what the CFA's ERP would act on: the OPCO's own
error codes and fields, the motif of a refusal, the OPCO ids (read from the published examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relais.operator.watch import StatusLine

EXAMPLES = Path(__file__).resolve().parents[3] / "schemas" / "examples" / "status"


def line(name: str) -> tuple[StatusLine, dict[str, Any]]:
    example = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    body = example["value"]
    return StatusLine(example["headers"]["ce_id"], example["key"], body, 0, 1), body


def test_the_opco_errors_show_as_code_at_field() -> None:
    status, body = line("failed.json")
    expected = [
        f"{e.get('code') or '?'}@{e['field']}" if e.get("field") else str(e.get("code") or "?")
        for e in body["opcoErrors"]
    ]
    assert expected
    assert "opco_errors=" + ",".join(expected) in status.text()


def test_a_refusal_shows_its_motif_and_the_etat_change() -> None:
    status, body = line("etat_changed-refused.json")
    text = status.text()
    assert f"motif={body['motif']}" in text
    assert f"etat={body['previousEtat']}->{body['etat']}" in text


def test_without_opco_errors_or_motif_nothing_is_invented() -> None:
    status, _ = line("received.json")
    assert "opco_errors=" not in status.text() and "motif=" not in status.text()
