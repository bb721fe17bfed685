"""Everything ingest takes from a record's headers or key is bounded before any use (issue
"Poison records and tenant isolation", finding 1): a huge ce_* header or Kafka key never reaches a
status event, its key, a result (hence a log line), and the status stays small."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relais.domain.events import MAX_ID, ErrorItem, EventType
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusBody, StatusEvent, Trigger
from relais.domain.status_reasons import StatusReason
from relais.services.ingest import DeadLetter, IngestHandler, IngestPolicy, Outcome
from relais.services.ledger_port import OutboxMessage
from relais.services.statuses import MAX_STATUS_BYTES, to_outbox
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import event, record
from tests.unit.services.fakes import FakeLedger, ManualClock

HUGE = "x" * 450_000


class ListSink:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


def _size(message: OutboxMessage) -> int:
    heads = sum(len(k) + len(v.encode()) for k, v in message.headers.items())
    return len(message.key.encode()) + heads + len(message.value)


def _handler(ledger: FakeLedger, sink: ListSink) -> IngestHandler:
    policy = IngestPolicy(max_message_bytes=2_000_000)
    return IngestHandler(
        ledger, sink, rules=ExplicitOpcoRules(), policy=policy, clock=ManualClock()
    )


def _assert_bounded(ledger: FakeLedger) -> None:
    for message in ledger.statuses():
        assert len(message.key) <= MAX_ID
        assert all(len(v) <= MAX_ID for k, v in message.headers.items() if k != "ce_time")
        assert _size(message) <= MAX_STATUS_BYTES
        body = StatusBody.model_validate_json(message.value)
        assert body.dossierId is None or len(body.dossierId) <= MAX_ID
        assert body.eventId is None or len(body.eventId) <= MAX_ID


async def test_a_huge_subject_is_answered_under_a_bounded_key() -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-huge", subject=HUGE)
    huge = record(hdrs, value)
    result = await _handler(ledger, sink).handle(huge)
    assert result.outcome is Outcome.REJECTED
    assert result.event_id == "e-huge" and result.dossier_id is None  # what the log line shows
    (message,) = ledger.statuses()
    # an unreadable envelope establishes no source: named by its Kafka position, not its ids
    assert message.key == huge.position
    assert "ce_subject" in {e.path for e in result.errors}
    _assert_bounded(ledger)


async def test_a_huge_key_with_a_value_that_is_not_json_is_answered_by_its_position() -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, event_id="e-key", subject="D-1")
    rec = record(hdrs, b"not json", key=b"k" * 1_200_000)
    result = await _handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED and result.dossier_id == "D-1"
    (message,) = ledger.statuses()
    # no envelope read, so no source established: the operators' status, named by position
    assert message.key == rec.position and "ce_cfa" not in message.headers
    _assert_bounded(ledger)
    (letter,) = sink.letters  # the raw record goes on; the producer bounds what it sends
    assert letter.key == rec.key


async def test_a_huge_key_without_headers_is_keyed_by_its_position() -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED)
    del hdrs["ce_id"], hdrs["ce_subject"]
    rec = record(hdrs, b"not json", key=b"k" * 1_200_000, offset=7)
    result = await _handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED
    assert result.event_id == "kafka:cfa.events.v1:0:7" and result.dossier_id is None
    (message,) = ledger.statuses()  # the operators' status, named by position only
    assert message.key == rec.position and "ce_cfa" not in message.headers
    assert ("", "kafka:cfa.events.v1:0:7") in ledger.inbox  # (no CFA, position)


@pytest.mark.parametrize("name", ["ce_id", "ce_subject", "ce_source", "ce_type", "ce_time"])
@pytest.mark.parametrize("value", [b"{}", b"not json"])
async def test_any_huge_header_or_key_leaves_every_status_and_result_bounded(
    name: str, value: bytes
) -> None:
    ledger, sink = FakeLedger(), ListSink()
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, event_id="e-1", subject="D-1")
    hdrs[name] = HUGE
    for offset, key in enumerate([None, b"D-1", HUGE.encode()]):
        result = await _handler(ledger, sink).handle(record(hdrs, value, key=key, offset=offset))
        assert result.outcome in (Outcome.REJECTED, Outcome.DEAD_LETTERED)
        assert result.event_id is None or len(result.event_id) <= MAX_ID
        assert result.dossier_id is None or len(result.dossier_id) <= MAX_ID
    _assert_bounded(ledger)


def _failed(messages: int) -> StatusEvent:
    trigger = Trigger(event_id="e-1", cfa="12345678901234", dossier_id="D-1")
    return StatusEvent.failed(
        trigger,
        opco=OpcoCode.AKTO,
        reason=StatusReason.REJECTED_BY_OPCO,
        occurred_at=datetime(2026, 9, 1, tzinfo=UTC),
        opco_messages=[f"message {i} " + "m" * 100 for i in range(messages)],
    )


def test_a_status_over_the_cap_is_truncated_under_it_with_its_ids() -> None:
    message = to_outbox(_failed(2_000))
    assert _size(message) <= MAX_STATUS_BYTES
    body = StatusBody.model_validate_json(message.value)
    assert body.opcoMessages is not None and body.errors is not None
    kept = len(body.opcoMessages)
    assert 400 < kept < 2_000  # as many as fit, in order
    assert body.opcoMessages == [f"message {i} " + "m" * 100 for i in range(kept)]
    (error,) = body.errors
    assert error.code == "STATUS_TRUNCATED" and f"{2_000 - kept} erreurs" in error.message
    assert (message.event_id, message.key, body.status) == (_failed(1).id, "D-1", "failed")


def test_a_rejection_keeps_the_errors_that_fit() -> None:
    trigger = Trigger(event_id="e-1", dossier_id="D-1")
    errors = [ErrorItem(code="X", path="p" * 256, message="m" * 512) for _ in range(200)]
    status = StatusEvent.rejected(
        trigger, errors=errors, occurred_at=datetime(2026, 9, 1, tzinfo=UTC)
    )
    message = to_outbox(status)
    assert _size(message) <= MAX_STATUS_BYTES
    body = StatusBody.model_validate_json(message.value)
    assert body.errors is not None and 50 < len(body.errors) < 200
    assert body.errors[:-1] == errors[: len(body.errors) - 1]
    assert body.errors[-1].code == "STATUS_TRUNCATED"


def test_a_status_under_the_cap_is_unchanged() -> None:
    event = _failed(3)
    assert to_outbox(event).value == event.value()
