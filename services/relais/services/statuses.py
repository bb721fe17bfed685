"""Status events (``relais.domain.status``) as outbox messages for the ledger, and the topic
each one goes to."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from relais.domain.events import ErrorItem
from relais.domain.status import StatusEvent
from relais.services.ledger_port import OutboxMessage
from relais.tracing import current_context

SIRET_FIELD = "{siret}"

MAX_STATUS_BYTES = 65_536
"""The largest status event relais writes to its outbox and publishes (key + header names and
values + value, in bytes): a sixteenth of Kafka's default 1 MiB record limit. A status above it
has its lists (errors, OPCO messages and errors, échéances) replaced by one ``STATUS_TRUNCATED``
error; a status still above it (it cannot happen with ids bounded at ingest) is set aside by the
relay instead of being published (``services/relay.py``)."""


def to_outbox(event: StatusEvent) -> OutboxMessage:
    """The outbox form of a status event: same id, Kafka key = the CFA's dossier id; at most
    ``MAX_STATUS_BYTES`` whenever its ids allow it (errors, then OPCO messages, kept in order as
    long as they fit; échéances dropped; one ``STATUS_TRUNCATED`` error says how many are not)."""
    message = _message(event)
    if message_size(message) <= MAX_STATUS_BYTES:
        return message
    body = event.body
    dropped = {"errors": None, "opcoMessages": None, "opcoErrors": None, "echeances": None}
    bare = body.model_copy(update=dropped)
    budget = MAX_STATUS_BYTES - message_size(_message(event.model_copy(update={"body": bare})))
    budget -= _TRUNCATION_ROOM
    errors = _fitting(body.errors or [], budget, lambda e: e.model_dump(exclude_none=True))
    budget -= sum(_json_size(e.model_dump(exclude_none=True)) for e in errors)
    messages = _fitting(body.opcoMessages or [], budget, lambda m: m)
    left_out = (
        len(body.errors or ())
        - len(errors)
        + len(body.opcoMessages or ())
        - len(messages)
        + len(body.echeances or ())
        + len(body.opcoErrors or ())
    )
    truncated = ErrorItem(
        code="STATUS_TRUNCATED",
        path="",
        message=f"{left_out} erreurs, messages de l'OPCO ou échéances omis : l'événement de "
        f"statut dépassait {MAX_STATUS_BYTES} octets",
    )
    smaller = body.model_copy(
        update={**dropped, "errors": [*errors, truncated], "opcoMessages": messages or None}
    )
    return _message(event.model_copy(update={"body": smaller}))


_TRUNCATION_ROOM = 512  # bytes kept for the STATUS_TRUNCATED error and the lists' JSON syntax

T = TypeVar("T")


def _fitting(items: Sequence[T], budget: int, as_json: Callable[[T], object]) -> list[T]:
    """The first items whose JSON fits in ``budget`` bytes."""
    kept: list[T] = []
    for item in items:
        budget -= _json_size(as_json(item))
        if budget < 0:
            break
        kept.append(item)
    return kept


def _json_size(obj: object) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()) + 1


def message_size(message: OutboxMessage) -> int:
    """What a status event weighs on the wire, in bytes (key, header names and values, value)."""
    headers = sum(
        len(k.encode("utf-8", "replace")) + len(v.encode("utf-8", "replace"))
        for k, v in message.headers.items()
    )
    return len(message.key.encode("utf-8", "replace")) + headers + len(message.value)


def _message(event: StatusEvent) -> OutboxMessage:
    # Tracing on: the status carries the trace context of the span that decided it (ingest's,
    # dispatch's); the relay's publish span continues it (``relais.tracing``).
    headers = {**event.headers(), **current_context()}
    return OutboxMessage(event_id=event.id, key=event.key, headers=headers, value=event.value())


@dataclass(frozen=True)
class StatusTopics:
    """Where the relay publishes a status event.

    - a message with its own ``topic`` goes there;
    - a status of an established CFA (``ce_cfa`` header) goes to that CFA's topic,
      ``per_cfa.format(siret=...)``, when ``per_cfa`` is set, else to the ``shared`` topic;
    - a status without a CFA (the refusal of a record whose source is not established, named by
      its Kafka position) goes to the operators' ``rejected`` topic, never to a CFA's.
    """

    shared: str
    rejected: str
    per_cfa: str | None = None  # a topic name template with ``{siret}``

    def topic_for(self, message: OutboxMessage) -> str:
        if message.topic is not None:
            return message.topic
        cfa = message.headers.get("ce_cfa")
        if not cfa:
            return self.rejected
        if self.per_cfa is None:
            return self.shared
        return self.per_cfa.replace(SIRET_FIELD, cfa)
