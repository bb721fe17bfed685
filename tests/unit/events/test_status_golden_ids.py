"""Golden status ids: consumers de-duplicate status events by ``ce_id`` across relais upgrades.

The literals below were computed once from the code (uuid5 over ``relais.domain.status.NAMESPACE``)
and are written out on purpose: a change of namespace, of the parts hashed or of their order would
give a redelivered outcome a new id after an upgrade, and consumers would see it twice. If one of
these tests fails, the change breaks that promise; do not update the literals to make it pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import pytest

from relais.domain.events import EventKind
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent, Trigger

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CFA = "19750000000011"
EVENT_ID = "3f1c2a4e-0d6b-4c8e-9a57-1b2c3d4e5f60"
TRIGGER = Trigger(event_id=EVENT_ID, cfa=CFA, dossier_id="D-42", kind=EventKind.DOSSIER)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StatusEvent.received(TRIGGER, occurred_at=NOW), "26b59fbf-b627-51c4-8cc3-4e7762474b06"),
        (
            StatusEvent.rejected(TRIGGER, errors=[], occurred_at=NOW),
            "fa297183-8abc-565a-8510-0919d2475f6a",
        ),
        (
            StatusEvent.retrying(
                TRIGGER,
                opco=OpcoCode.AKTO,
                attempt=1,
                next_attempt_at=NOW,
                reason="http_503",
                occurred_at=NOW,
            ),
            "d3d8a06e-b60b-5c33-bd8e-07cb61762ed5",
        ),
        (
            StatusEvent.retrying(
                TRIGGER,
                opco=OpcoCode.AKTO,
                attempt=2,
                next_attempt_at=NOW,
                reason="http_503",
                occurred_at=NOW,
            ),
            "9eda5f18-4503-58be-bac3-bb4f5868774b",
        ),
        (
            StatusEvent.submitted(TRIGGER, opco=OpcoCode.AKTO, occurred_at=NOW),
            "15240561-6850-54b7-ac9d-5edb0ed56543",
        ),
        (
            StatusEvent.failed(
                TRIGGER, opco=OpcoCode.AKTO, reason="not_supported", occurred_at=NOW
            ),
            "6d90a99a-1c77-5301-b04f-a7a863d70c25",
        ),
        (
            StatusEvent.dead_lettered(TRIGGER, reason="undecodable", occurred_at=NOW),
            "b62f3944-231f-53a2-88d7-e8ccf9e31acf",
        ),
        (
            StatusEvent.dead_lettered(
                Trigger.for_record("relais.cfa.events.v1", 3, 1042),
                reason="undecodable",
                occurred_at=NOW,
            ),
            "49c8b629-6eda-5dc9-b965-d4269dcfd3f9",
        ),
    ],
    ids=[
        "received",
        "rejected",
        "retrying-1",
        "retrying-2",
        "submitted",
        "failed",
        "dead_lettered",
        "dead_lettered-by-position",
    ],
)
def test_a_status_id_never_changes(status: StatusEvent, expected: str) -> None:
    assert status.id == expected
    assert status.headers()["ce_id"] == expected


@pytest.mark.parametrize(
    ("kind", "opco", "numero", "previous", "etat", "expected"),
    [
        (
            EventKind.DOSSIER,
            OpcoCode.AKTO,
            "AKTO-000123",
            None,
            "TRANSMIS",
            "b8b46bd4-c884-5b95-80ad-fd595916a326",
        ),
        (
            EventKind.DOSSIER,
            OpcoCode.AKTO,
            "AKTO-000123",
            "TRANSMIS",
            "ENGAGE",
            "73c3f40b-9a49-5323-b2ae-3e350cc57e3a",
        ),
        (
            EventKind.FACTURE,
            OpcoCode.ATLAS,
            "F-42",
            "DEPOSEE",
            "PAYEE",
            "c5062522-5666-5fb4-ba5e-1bd4384b51ea",
        ),
    ],
    ids=["dossier-first-seen", "dossier-change", "facture-change"],
)
def test_an_etat_change_id_never_changes(
    kind: Literal[EventKind.DOSSIER, EventKind.FACTURE],
    opco: OpcoCode,
    numero: str,
    previous: str | None,
    etat: str,
    expected: str,
) -> None:
    status = StatusEvent.etat_changed(
        cfa=CFA,
        opco=opco,
        kind=kind,
        numero=numero,
        etat=etat,
        previous_etat=previous,
        occurred_at=NOW,
    )
    assert status.id == expected
