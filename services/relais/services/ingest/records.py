"""What ingest takes and gives: a Kafka record in (``relais.domain.records.Record``, the one type
for a consumed record); a dead letter and one result per record out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from relais.domain.events import ErrorItem, EventKind
from relais.domain.opco import OpcoCode

DLQ_HEADERS = ("dlq_reason", "dlq_topic", "dlq_partition", "dlq_offset")
DLQ_VALUE_DROPPED = "dlq_value_dropped"  # the size of a value left out of the dead letter
DLQ_KEY_DROPPED = "dlq_key_dropped"  # the size of a key left out of the dead letter


@dataclass(frozen=True)
class DeadLetter:
    """The raw record, unchanged, plus why and where it came from (``dlq_*`` headers)."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class DeadLetterSink(Protocol):
    async def dead_letter(self, letter: DeadLetter) -> None:
        """Publish to the DLQ topic and return once the broker has it (acks=all)."""
        ...


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    event_id: str | None = None  # ce_id when known
    dossier_id: str | None = None
    kind: EventKind | None = None
    opco: OpcoCode | None = None
    errors: tuple[ErrorItem, ...] = ()
    reason: str | None = None  # dead letters: the dlq_reason code


class IngestObserver(Protocol):
    def on_result(self, result: Result, latency_s: float | None) -> None: ...
