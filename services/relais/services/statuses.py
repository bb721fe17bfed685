"""Status events (``relais.domain.status``) as outbox messages for the ledger."""

from __future__ import annotations

from relais.domain.status import StatusEvent
from relais.services.ledger_port import OutboxMessage


def to_outbox(event: StatusEvent) -> OutboxMessage:
    """The outbox form of a status event: same id, Kafka key = the CFA's dossier id."""
    return OutboxMessage(
        event_id=event.id, key=event.key, headers=event.headers(), value=event.value()
    )
