"""Status events (``relais.domain.status``) as outbox messages for the ledger."""

from __future__ import annotations

from relais.domain.events import ErrorItem
from relais.domain.status import StatusEvent
from relais.services.ledger_port import OutboxMessage

MAX_STATUS_BYTES = 65_536
"""The largest status event relais writes to its outbox and publishes (key + header names and
values + value, in bytes): a sixteenth of Kafka's default 1 MiB record limit. A status above it
has its lists (errors, OPCO messages, échéances) replaced by one ``STATUS_TRUNCATED`` error; a
status still above it (it cannot happen with ids bounded at ingest) is set aside by the relay
instead of being published (``services/relay.py``)."""


def to_outbox(event: StatusEvent) -> OutboxMessage:
    """The outbox form of a status event: same id, Kafka key = the CFA's dossier id; at most
    ``MAX_STATUS_BYTES`` whenever its ids allow it."""
    message = _message(event)
    if message_size(message) <= MAX_STATUS_BYTES:
        return message
    body = event.body
    left_out = len(body.errors or ()) + len(body.opcoMessages or ()) + len(body.echeances or ())
    truncated = ErrorItem(
        code="STATUS_TRUNCATED",
        path="",
        message=f"{left_out} errors, OPCO messages or échéances left out: the status event "
        f"exceeded {MAX_STATUS_BYTES} bytes",
    )
    smaller = body.model_copy(
        update={"errors": [truncated], "opcoMessages": None, "echeances": None}
    )
    return _message(event.model_copy(update={"body": smaller}))


def message_size(message: OutboxMessage) -> int:
    """What a status event weighs on the wire, in bytes (key, header names and values, value)."""
    headers = sum(
        len(k.encode("utf-8", "replace")) + len(v.encode("utf-8", "replace"))
        for k, v in message.headers.items()
    )
    return len(message.key.encode("utf-8", "replace")) + headers + len(message.value)


def _message(event: StatusEvent) -> OutboxMessage:
    return OutboxMessage(
        event_id=event.id, key=event.key, headers=event.headers(), value=event.value()
    )
