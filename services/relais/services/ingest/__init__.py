"""Ingest: one Kafka record of a CFA in, one durable decision in the ledger out.

Following one record, top-down:

1. ``adapters/kafka/ingest.py`` (the subscriber) decodes nothing: it hands the raw records of a
   poll to ``handler.IngestHandler.handle_batch`` and commits their offsets only after it
   returns (DESIGN promise 1), or up to the records a ``BatchInterrupted`` says are handled.
2. ``decide.decide(record, context)`` (pure) takes the decision: ``hygiene`` (size caps, the
   value parsed once), the envelope, ``authorize`` (topic -> ce_source binding, ``signature``),
   decoding, ``rules`` (control rules, routing); a follow-up's OPCO is its dossier's, read from
   the ledger by the handler and handed to ``decide.FollowUp.decide``.
3. ``answers`` builds what the decision writes: the ledger entry, the status that answers the
   record (``relais.domain.status``), the dead letter, the result.
4. ``writer.BatchWriter`` publishes the poll's dead letters (awaited), then writes every inbox
   row, command and status in ONE ``Ledger.ingest_batch`` transaction.

For each record it reaches exactly one of four outcomes:

``accepted``       envelope + data + control rules + routing OK -> the inbox row, the command
                   (payload: ``relais.services.command_payload.CommandPayload``) and a
                   ``received`` status
``rejected``       the event is readable but wrong (envelope attribute, source not allowed on
                   this topic, bad signature, schema, control rules, unknown dossier) -> ONE
                   ``rejected`` status carrying every error found
``duplicate``      the event id was already in the inbox: nothing is written again
``dead_lettered``  the record cannot be read as an event (no usable ce_id, required ce_* headers
                   missing, not JSON, not an object, nested deeper than ``MAX_DEPTH`` levels, not
                   UTF-8, a NUL in an id, too large, empty) -> the raw record to the DLQ topic
                   (awaited: durable before the offset commit), then a ``dead_lettered`` status
                   (for the CFA when its source is established, else for the operators, named
                   by the record's Kafka position)

Anything else (the ledger or the DLQ topic unreachable) raises: the subscriber does not commit and
the record comes again.

Inbox keys: (the CFA's SIRET, its ``ce_id``) for events whose source is trusted: CloudEvents ids
are unique per source only, so the same id from two CFAs is two events. An event refused because
its source may not use this topic or its signature is wrong is keyed by its Kafka position instead
(``kafka:<topic>:<partition>:<offset>``, no CFA), so a forged event can never take the inbox slot
of the real CFA's event id. Its refusal is named by that position too (status id, Kafka key,
``eventId``), carries no CFA and none of the ids it claims, and so goes to the operators' topic
(``kafka.rejected_topic``), never to a CFA's status topic.
"""

from relais.domain.records import Record
from relais.services.ingest.authorize import IngestPolicy
from relais.services.ingest.handler import BatchInterrupted, IngestHandler
from relais.services.ingest.records import (
    DLQ_HEADERS,
    DLQ_KEY_DROPPED,
    DLQ_VALUE_DROPPED,
    DeadLetter,
    DeadLetterSink,
    IngestObserver,
    Outcome,
    Result,
)
from relais.services.ingest.rules import DomainRules, RuleCheck, Rules

__all__ = [
    "DLQ_HEADERS",
    "DLQ_KEY_DROPPED",
    "DLQ_VALUE_DROPPED",
    "BatchInterrupted",
    "DeadLetter",
    "DeadLetterSink",
    "DomainRules",
    "IngestHandler",
    "IngestObserver",
    "IngestPolicy",
    "Outcome",
    "Record",
    "Result",
    "RuleCheck",
    "Rules",
]
