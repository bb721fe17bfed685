"""``relais send``: publish CFA events from a file (CloudEvents structured JSON) to the input topic.

A file holds one event (a JSON object), a list of events (a JSON array) or one event per line
(JSON Lines). Each event becomes a record in binary content mode: key = ``subject`` (the CFA's
dossier id), ``ce_*`` headers, value = ``data`` as JSON. Events are checked first, like ingest
would (``--no-check`` sends them as they are, to see how relais answers bad input).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relais.config import KafkaSettings
from relais.domain.events import (
    CONTENT_TYPE,
    ENVELOPE_ATTRIBUTES,
    HEADER_PREFIX,
    EventError,
    encode_json,
    structured_to_record,
)
from relais.errors import InputError
from relais.operator.kafka_io import OutRecord, publish


@dataclass(frozen=True)
class Sent:
    event_id: str
    subject: str
    partition: int
    offset: int


def load_events(path: Path) -> list[dict[str, Any]]:
    """The events of a file: a JSON object, a JSON array of objects, or JSON Lines."""
    text = path.read_text(encoding="utf-8")
    try:
        doc: Any = json.loads(text)
    except ValueError:
        doc = None
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            doc = [json.loads(line) for line in lines]
        except ValueError:
            raise InputError(f"{path}: neither JSON nor JSON Lines") from None
    events = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(e, dict) for e in events):
        raise InputError(f"{path}: every event must be a JSON object")
    return events


def raw_record(event: Mapping[str, Any]) -> OutRecord:
    """The record of an event without any check (for trying relais's answers to bad input)."""
    headers = [
        (f"{HEADER_PREFIX}{attr}", str(event[attr]).encode())
        for attr in ENVELOPE_ATTRIBUTES
        if event.get(attr) is not None
    ]
    if not any(name == "ce_datacontenttype" for name, _ in headers):
        headers.append(("ce_datacontenttype", CONTENT_TYPE.encode()))
    subject = event.get("subject")
    data = event.get("data")
    value = data.encode() if isinstance(data, str) else encode_json(data)
    return OutRecord(
        key=str(subject).encode() if subject is not None else None, value=value, headers=headers
    )


def to_records(events: Sequence[Mapping[str, Any]], *, check: bool = True) -> list[OutRecord]:
    """Records for ``events``; with ``check``, raises ``EventError`` naming the first bad event."""
    records = []
    for index, event in enumerate(events):
        if not check:
            records.append(raw_record(event))
            continue
        try:
            rec = structured_to_record(event)
        except EventError as exc:
            raise EventError(
                [e.model_copy(update={"path": f"[{index}].{e.path}"}) for e in exc.errors],
                undecodable=exc.undecodable,
            ) from None
        records.append(OutRecord(key=rec.key, value=rec.value, headers=rec.headers))
    return records


async def send(
    kafka: KafkaSettings,
    events: Sequence[Mapping[str, Any]],
    *,
    topic: str | None = None,
    check: bool = True,
) -> list[Sent]:
    records = to_records(events, check=check)
    positions = await publish(kafka, topic or kafka.input_topic, records)
    return [
        Sent(
            event_id=str(event.get("id")),
            subject=str(event.get("subject")),
            partition=partition,
            offset=offset,
        )
        for event, (partition, offset) in zip(events, positions, strict=True)
    ]
