"""``relais dlq list|replay``: dead letters, read from the DLQ topic and sent back.

A dead letter is the raw record that could not even be read as an event, unchanged, with
``dlq_reason``, ``dlq_topic``, ``dlq_partition``, ``dlq_offset`` and ``dlq_errors`` headers added
by ingest. ``list`` shows them without their value (it may hold personal data); ``replay`` sends
the original key, value and headers back to the original topic (or another one), e.g. once the
CFA fixed its producer or relais learnt to read the record.

A record too large for the DLQ topic is dead-lettered without its value (``dlq_value_dropped``
holds the value's size), and without its key too when even that is too large (``dlq_key_dropped``);
the original stays at its source position, so such a letter cannot be replayed from the DLQ:
``replay`` skips it and says where the original is. The relay reports a status event it set aside
the same way (``dlq_reason`` STATUS_*, origin ``outbox:?:<seq>``): never replayed either.

Ingest is idempotent on ``ce_id``: a replayed record whose ``ce_id`` was already answered (a
``dead_lettered`` status) is ignored. ``new_id`` gives the replayed record a fresh ``ce_id`` and
keeps the original one in ``ce_replayof``, so it is processed again.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relais.config import KafkaSettings
from relais.domain.records import Record
from relais.operator.kafka_io import OutRecord, publish, read_topic

DLQ_PREFIX = "dlq_"
VALUE_DROPPED = "dlq_value_dropped"


@dataclass(frozen=True)
class DeadLetter:
    record: Record

    @property
    def offset(self) -> int:
        return self.record.offset

    @property
    def reason(self) -> str | None:
        return self.record.header("dlq_reason")

    @property
    def origin(self) -> str:
        r = self.record
        return (
            f"{r.header('dlq_topic') or '?'}:{r.header('dlq_partition') or '?'}:"
            f"{r.header('dlq_offset') or '?'}"
        )

    @property
    def event_id(self) -> str | None:
        return self.record.header("ce_id")

    @property
    def value_dropped(self) -> int | None:
        """Size of the value ingest left out (too large for the DLQ topic), or None."""
        raw = self.record.header(VALUE_DROPPED)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return -1

    def errors(self) -> list[dict[str, Any]]:
        raw = self.record.header("dlq_errors")
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "partition": self.record.partition,
            "offset": self.offset,
            "reason": self.reason,
            "origin": self.origin,
            "eventId": self.event_id,
            "type": self.record.header("ce_type"),
            "key": self.record.key_text,
            "valueBytes": len(self.record.value or b""),
            "valueDropped": self.value_dropped,
            "errors": [{k: e.get(k) for k in ("code", "path")} for e in self.errors()],
        }

    def text(self) -> str:
        codes = ",".join(str(e.get("code")) for e in self.errors())
        return (
            f"{self.record.partition}:{self.offset:<6} {self.reason or '?':<20} from {self.origin}"
            f"  event={self.event_id or '-'} key={self.record.key_text or '-'}"
            f"  {self._size()}  {codes}"
        )

    def _size(self) -> str:
        if self.value_dropped is not None:
            return f"value of {self.value_dropped} bytes left at the origin"
        return f"{len(self.record.value or b'')} bytes"

    def replay_record(self, *, new_id: bool = False) -> OutRecord:
        headers = [(k, v) for k, v in self.record.headers if not k.startswith(DLQ_PREFIX)]
        if new_id:
            original = self.event_id
            headers = [(k, v) for k, v in headers if k not in ("ce_id", "ce_replayof")]
            headers.append(("ce_id", str(uuid.uuid4()).encode()))
            if original:
                headers.append(("ce_replayof", original.encode()))
        return OutRecord(key=self.record.key, value=self.record.value, headers=headers)


async def list_dead_letters(kafka: KafkaSettings, *, idle_s: float = 1.0) -> list[DeadLetter]:
    reader = read_topic(kafka, kafka.dlq_topic, from_beginning=True, follow=False, idle_s=idle_s)
    async with contextlib.aclosing(reader) as records:
        return [DeadLetter(r) async for r in records]


def select(
    letters: Sequence[DeadLetter],
    *,
    offsets: Sequence[int] = (),
    reason: str | None = None,
    every: bool = False,
) -> list[DeadLetter]:
    chosen = [
        d
        for d in letters
        if (every or d.offset in offsets) and (reason is None or d.reason == reason)
    ]
    return sorted(chosen, key=lambda d: (d.record.partition, d.offset))


async def replay(
    kafka: KafkaSettings,
    letters: Sequence[DeadLetter],
    *,
    topic: str | None = None,
    new_id: bool = False,
) -> list[tuple[DeadLetter, str, int, int]]:
    """Send each dead letter back to its origin topic (or ``topic``); in DLQ order. Letters
    whose value was dropped are not sent (see ``unreplayable``)."""
    out = []
    for letter in letters:
        if letter.value_dropped is not None:
            continue
        target = topic or letter.record.header("dlq_topic") or kafka.input_topic
        [(partition, offset)] = await publish(kafka, target, [letter.replay_record(new_id=new_id)])
        out.append((letter, target, partition, offset))
    return out


def unreplayable(letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """Letters without their value: the original must be read at its source position."""
    return [d for d in letters if d.value_dropped is not None]
