"""``decide``: one record to its decision with no I/O (no ledger, no broker, no clock read)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relais.domain.events import EventType
from relais.domain.status import status_event_id
from relais.services.command_payload import CommandPayload
from relais.services.ingest import IngestPolicy, Outcome
from relais.services.ingest.answers import Plan
from relais.services.ingest.decide import Context, FollowUp, KnownDossier, decide
from relais.services.ledger_port import Accept, Reject
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import CFA, event, facture, record

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONTEXT = Context(IngestPolicy(), ExplicitOpcoRules(), NOW, date(2026, 11, 27))


def test_a_dossier_is_decided_whole_with_its_received_status() -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-1", subject="D-1")
    plan = decide(record(hdrs, value), CONTEXT)
    assert isinstance(plan, Plan) and isinstance(plan.entry, Accept)
    assert plan.result.outcome is Outcome.ACCEPTED
    command = plan.entry.command
    assert (command.cfa, command.dossier_id, command.opco) == (CFA, "D-1", "AKTO")
    assert command.payload.type is EventType.DOSSIER_SUBMITTED
    assert command.payload.numero_interne is None
    [status] = plan.entry.statuses
    assert status.event_id == status_event_id("e-1", "received", cfa=CFA)


def test_a_follow_up_names_its_dossiers_then_is_decided_with_what_the_ledger_knows() -> None:
    hdrs, value = event(EventType.CONVENTION_SUBMITTED, event_id="c-1", subject="D-1")
    step = decide(record(hdrs, value), CONTEXT)
    assert isinstance(step, FollowUp) and step.dossier_ids == ["D-1"]

    plan = step.decide({"D-1": KnownDossier("ATLAS", "NI-7")}, NOW)
    assert isinstance(plan.entry, Accept) and plan.result.opco == "ATLAS"
    payload = plan.entry.command.payload
    assert isinstance(payload, CommandPayload) and payload.numero_interne == "NI-7"

    unknown = step.decide({"D-1": None}, NOW)
    assert isinstance(unknown.entry, Reject)
    assert [(e.code, e.path) for e in unknown.result.errors] == [("DOSSIER_UNKNOWN", "ce_subject")]


def test_an_invoice_waits_for_no_one_but_names_every_dossier_it_covers() -> None:
    hdrs, value = event(
        EventType.FACTURE_SUBMITTED, facture("F-1", "D-1", "D-2"), event_id="f-1", subject="D-1"
    )
    step = decide(record(hdrs, value), CONTEXT)
    assert isinstance(step, FollowUp) and step.dossier_ids == ["D-1", "D-2"]
    plan = step.decide({"D-1": KnownDossier("AKTO"), "D-2": KnownDossier("ATLAS")}, NOW)
    assert [e.code for e in plan.result.errors] == ["FACTURE_SEVERAL_OPCO"]
    both = step.decide({"D-1": KnownDossier("AKTO"), "D-2": KnownDossier("AKTO")}, NOW)
    assert isinstance(both.entry, Accept) and both.entry.command.depends_on == ("D-2",)


def test_the_same_record_and_context_give_the_same_decision() -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, {"cerfa": {}}, event_id="e-2")
    first, again = decide(record(hdrs, value), CONTEXT), decide(record(hdrs, value), CONTEXT)
    assert first == again and isinstance(first, Plan)
    assert first.result.outcome is Outcome.REJECTED
