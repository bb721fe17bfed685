"""Golden status ids: consumers de-duplicate status events by ``ce_id`` across relais upgrades.

The literals below were computed once from the code (uuid5 over ``relais.domain.status.NAMESPACE``)
and are written out on purpose: a change of namespace, of the parts hashed or of their order would
give a redelivered outcome a new id after an upgrade, and consumers would see it twice. If one of
these tests fails, the change breaks that promise; do not update the literals to make it pass.

One deliberate change so far: identity became (CFA, event id) (ledger migration 0005, issue
"Poison records and tenant isolation"), so the status of an event whose CFA is established hashes
the CFA SIRET too. Statuses written before that migration keep the ids stored in the outbox; only
statuses created after it use the new form, so no published status changes its id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import pytest

from relais.domain.events import EventKind
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent, Trigger, status_event_id
from relais.domain.status_reasons import StatusReason

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
CFA = "19750000000011"
EVENT_ID = "3f1c2a4e-0d6b-4c8e-9a57-1b2c3d4e5f60"
TRIGGER = Trigger(event_id=EVENT_ID, cfa=CFA, dossier_id="D-42", kind=EventKind.DOSSIER)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StatusEvent.received(TRIGGER, occurred_at=NOW), "d57d17ee-92bf-5f92-a8c5-1c94c5e5fa0e"),
        (
            StatusEvent.rejected(TRIGGER, errors=[], occurred_at=NOW),
            "1864eb38-5cae-571c-8c4a-ca7ca223f9aa",
        ),
        (
            StatusEvent.retrying(
                TRIGGER,
                opco=OpcoCode.AKTO,
                attempt=1,
                next_attempt_at=NOW,
                reason=StatusReason.RETRYABLE,
                occurred_at=NOW,
            ),
            "e18748a9-8e95-5318-bad1-164c1503c819",
        ),
        (
            StatusEvent.retrying(
                TRIGGER,
                opco=OpcoCode.AKTO,
                attempt=2,
                next_attempt_at=NOW,
                reason=StatusReason.RETRYABLE,
                occurred_at=NOW,
            ),
            "a8a73e61-3e20-5b41-815b-26c8b5e1e2a5",
        ),
        (  # one note per pause of the OPCO: the pause's number tells them apart
            StatusEvent.waiting(TRIGGER, opco=OpcoCode.AKTO, pause=1, until=None, occurred_at=NOW),
            "9b4680a9-91a5-598a-a432-06934a04aea8",
        ),
        (
            StatusEvent.waiting(TRIGGER, opco=OpcoCode.AKTO, pause=2, until=NOW, occurred_at=NOW),
            "5a13e688-e986-5da4-9fa4-bfc138c67430",
        ),
        (
            StatusEvent.submitted(TRIGGER, opco=OpcoCode.AKTO, occurred_at=NOW),
            "0ee44a1d-5fa6-5016-8c71-68f38d57bac7",
        ),
        (
            StatusEvent.failed(
                TRIGGER, opco=OpcoCode.AKTO, reason=StatusReason.NOT_SUPPORTED, occurred_at=NOW
            ),
            "90378399-f390-50a7-a2f0-6b0ea1331253",
        ),
        (
            StatusEvent.dead_lettered(
                TRIGGER, reason=StatusReason.ENVELOPE_UNDECODABLE, occurred_at=NOW
            ),
            "0a975bb5-7353-59de-bd23-b0406c79d991",
        ),
        (
            StatusEvent.dead_lettered(
                Trigger.for_record("relais.cfa.events.v1", 3, 1042),
                reason=StatusReason.ENVELOPE_UNDECODABLE,
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
        "waiting-pause-1",
        "waiting-pause-2",
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


def test_the_same_event_id_from_two_cfas_gives_two_status_ids() -> None:
    other = Trigger(event_id=EVENT_ID, cfa="19750000000029", dossier_id="D-42", kind=TRIGGER.kind)
    ours = StatusEvent.received(TRIGGER, occurred_at=NOW)
    theirs = StatusEvent.received(other, occurred_at=NOW)
    assert ours.id != theirs.id


def test_the_form_without_a_cfa_is_the_one_before_migration_0005() -> None:
    """A record whose source is not established is still named as every status was before the
    identity change (its Kafka position as event id, no CFA hashed): this literal is the id that
    the received status of EVENT_ID had before it."""
    assert status_event_id(EVENT_ID, "received") == "26b59fbf-b627-51c4-8cc3-4e7762474b06"
