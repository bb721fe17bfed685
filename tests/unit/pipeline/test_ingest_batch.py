"""A poll's records in few ledger transactions, with the outcomes of one-by-one handling."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from relais.domain.events import EventType
from relais.services.ingest import BatchInterrupted, DeadLetter, IngestHandler, Outcome, Record
from relais.services.ledger_port import Accept, Reject
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import event, facture, record
from tests.unit.services.fakes import FakeLedger, ManualClock


class CountingLedger(FakeLedger):
    """The fake ledger, counting its write transactions; an entry of ``poison`` fails them."""

    def __init__(self, poison: str | None = None, error: Exception | None = None) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.poison = poison
        self.error = error or ValueError("the database refuses this row")

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        ids = [e.command.event_id if isinstance(e, Accept) else e.event_id for e in entries]
        if self.poison in ids:
            raise self.error
        self.batches.append(ids)
        return await super().ingest_batch(entries)


class OrderedSink:
    def __init__(self, ledger: CountingLedger) -> None:
        self.ledger = ledger
        self.seen: list[tuple[str, int]] = []  # (dlq_offset, ledger batches written before)

    async def dead_letter(self, letter: DeadLetter) -> None:
        offset = dict(letter.headers)["dlq_offset"].decode()
        self.seen.append((offset, len(self.ledger.batches)))


def _dossier(n: int, subject: str | None = None) -> Record:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id=f"e-{n}", subject=subject or f"D-{n}")
    return record(hdrs, value, offset=n)


def _handler(ledger: CountingLedger) -> tuple[IngestHandler, OrderedSink]:
    sink = OrderedSink(ledger)
    return IngestHandler(ledger, sink, rules=ExplicitOpcoRules(), clock=ManualClock()), sink


async def test_a_poll_is_one_transaction_with_one_outcome_per_record() -> None:
    ledger = CountingLedger()
    handler, sink = _handler(ledger)
    records = [_dossier(0), _dossier(1), record({}, b"not json", offset=2), _dossier(3)]
    records.append(_dossier(4, subject="D-4"))
    records.append(record(dict(records[0].headers), records[0].value or b"", offset=5))  # again
    results = await handler.handle_batch(records)
    assert [r.outcome for r in results] == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.DEAD_LETTERED,
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,  # the first occurrence of an event id wins, as one by one
    ]
    assert len(ledger.batches) == 1
    assert sink.seen == [("2", 0)]  # the dead letter is on its topic before the transaction
    assert [r.command.event_id for r in ledger.rows] == ["e-0", "e-1", "e-3", "e-4"]


async def test_a_followup_of_a_dossier_decided_in_the_same_poll_sees_it() -> None:
    ledger = CountingLedger()
    handler, _ = _handler(ledger)
    conv_h, conv_v = event(EventType.CONVENTION_SUBMITTED, event_id="c-1", subject="D-1")
    fact_h, fact_v = event(
        EventType.FACTURE_SUBMITTED, facture("F-1", "D-1", "D-2"), event_id="f-1", subject="D-1"
    )
    records = [
        _dossier(1, "D-1"),
        _dossier(2, "D-2"),
        record(conv_h, conv_v, offset=3),
        _dossier(4, "D-4"),
        record(fact_h, fact_v, offset=5),
    ]
    results = await handler.handle_batch(records)
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 5, results
    # Written up to the dossiers before the convention reads the ledger; again before the facture.
    assert ledger.batches == [["e-1", "e-2"], ["c-1", "e-4"], ["f-1"]]


async def test_a_record_the_database_refuses_is_isolated_the_others_are_written() -> None:
    ledger = CountingLedger(poison="e-2")
    handler, _ = _handler(ledger)
    with pytest.raises(BatchInterrupted) as stopped:
        await handler.handle_batch([_dossier(n) for n in range(5)])
    assert isinstance(stopped.value.cause, ValueError) and "refuses" in str(stopped.value.cause)
    # Retried one by one: what precedes the bad record is durable, the caller resumes from it.
    assert [r.event_id for r in stopped.value.handled] == ["e-0", "e-1"]
    assert [r.command.event_id for r in ledger.rows] == ["e-0", "e-1"]


async def test_the_ledger_down_writes_nothing_and_reports_nothing_handled() -> None:
    ledger = CountingLedger(poison="e-0", error=ConnectionError("ledger unreachable"))
    handler, _ = _handler(ledger)
    with pytest.raises(BatchInterrupted) as stopped:
        await handler.handle_batch([_dossier(n) for n in range(3)])
    assert isinstance(stopped.value.cause, ConnectionError)
    assert stopped.value.handled == () and ledger.rows == []


async def test_a_decision_that_raises_leaves_the_earlier_records_written() -> None:
    class Exploding:
        def check_dossier(self, data: object, today: object) -> object:
            if getattr(data, "opco", None) is None:
                raise RuntimeError("a bug meeting odd data")
            from relais.services.ingest import RuleCheck

            return RuleCheck(opco=data.opco)  # type: ignore[attr-defined]

        def check_followup(self, event: object, today: object) -> object:
            raise AssertionError("unused")

    ledger = CountingLedger()
    handler = IngestHandler(ledger, OrderedSink(ledger), rules=Exploding(), clock=ManualClock())  # type: ignore[arg-type]
    odd_h, odd_v = event(EventType.DOSSIER_SUBMITTED, {"cerfa": {}}, event_id="e-9")
    with pytest.raises(BatchInterrupted) as stopped:
        await handler.handle_batch([_dossier(0), _dossier(1), record(odd_h, odd_v, offset=2)])
    assert isinstance(stopped.value.cause, RuntimeError)
    assert [r.event_id for r in stopped.value.handled] == ["e-0", "e-1"]
    assert ledger.batches == [["e-0", "e-1"]]


async def test_a_cancelled_poll_reports_what_was_made_durable_before() -> None:
    class StuckSink:
        def __init__(self) -> None:
            self.reached = asyncio.Event()

        async def dead_letter(self, letter: DeadLetter) -> None:
            self.reached.set()
            await asyncio.Event().wait()  # the DLQ topic never answers

    ledger = CountingLedger()
    sink = StuckSink()
    handler = IngestHandler(ledger, sink, rules=ExplicitOpcoRules(), clock=ManualClock())
    conv_h, conv_v = event(EventType.CONVENTION_SUBMITTED, event_id="c-1", subject="D-1")
    records = [_dossier(1, "D-1"), record(conv_h, conv_v, offset=2), record({}, b"?", offset=3)]
    task = asyncio.create_task(handler.handle_batch(records))
    await sink.reached.wait()  # the dossier is written (the convention read it), then stuck
    task.cancel()
    with pytest.raises(BatchInterrupted) as stopped:
        await task
    assert isinstance(stopped.value.cause, asyncio.CancelledError)
    assert [r.event_id for r in stopped.value.handled] == ["e-1"]
    assert ledger.batches == [["e-1"]]
