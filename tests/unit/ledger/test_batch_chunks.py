"""How PostgreSQL's ingest_batch cuts a poll of large records into statements (no database)."""

from __future__ import annotations

import json

import pytest

from relais.adapters.ledger import postgres
from relais.services.ledger_port import Accept, CommandKind, NewCommand, OutboxMessage, Reject
from tests.payloads import payload_of


def accept(event_id: str, payload_bytes: int, status_bytes: int = 0) -> Accept:
    command = NewCommand(
        event_id=event_id,
        cfa="19750000000011",
        dossier_id="D1",
        opco="AKTO",
        kind=CommandKind.DOSSIER,
        payload=payload_of({"blob": "x" * payload_bytes}),
    )
    statuses = (
        [OutboxMessage(f"{event_id}-s", "D1", {}, b"y" * status_bytes)] if status_bytes else []
    )
    return Accept(command, statuses)


def chunk_ids(entries: list[Accept | Reject]) -> list[list[str]]:
    chunks = postgres._statement_chunks([postgres._encode(entry) for entry in entries])
    return [[row[0] for row, _, _ in chunk] for chunk in chunks]


def test_an_entry_counts_its_payload_and_its_statuses() -> None:
    entry = accept("e1", 1000, status_bytes=300)
    row, statuses, size = postgres._encode(entry)
    assert json.loads(row[6])["data"]["cerfa"] == {"blob": "x" * 1000}
    assert [s[0] for s in statuses] == ["e1-s"]
    assert size == len(row[6]) + len(b"y" * 300) + len("{}")


def test_a_poll_under_the_limit_is_one_statement() -> None:
    entries: list[Accept | Reject] = [accept(f"e{i}", 1000) for i in range(50)]
    entries.append(Reject("r1"))
    assert chunk_ids(entries) == [[*(f"e{i}" for i in range(50)), "r1"]]


def test_large_records_are_cut_in_order_and_none_is_left_alone_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postgres, "BATCH_STATEMENT_BYTES", 5000)
    entries: list[Accept | Reject] = [
        accept("a", 2000),
        accept("b", 2000),
        accept("c", 2000),  # a + b + c > 5000: c starts the next statement
        accept("huge", 9000),  # larger than the limit: a statement of its own
        Reject("r"),
        accept("d", 100),
    ]
    assert chunk_ids(entries) == [["a", "b"], ["c"], ["huge"], ["r", "d"]]


def test_status_positions_are_those_of_their_entry_in_the_statement() -> None:
    encoded = [postgres._encode(e) for e in (accept("a", 10, 5), Reject("r"), accept("b", 10, 5))]
    arrays = postgres._batch_arrays(encoded)
    assert arrays[0] == ["a", "r", "b"]
    assert arrays[1] == ["accepted", "rejected", "accepted"]
    assert arrays[8] == [1, 3]  # the statuses' entries
    assert arrays[9] == ["a-s", "b-s"]
