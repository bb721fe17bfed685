"""Status events (``relais.domain.status``) as outbox messages for the ledger, and the topic
each one goes to."""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.status import StatusEvent
from relais.services.ledger_port import OutboxMessage

SIRET_FIELD = "{siret}"


def to_outbox(event: StatusEvent) -> OutboxMessage:
    """The outbox form of a status event: same id, Kafka key = the CFA's dossier id."""
    return OutboxMessage(
        event_id=event.id, key=event.key, headers=event.headers(), value=event.value()
    )


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
