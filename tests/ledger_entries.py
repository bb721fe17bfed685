"""One event into a ledger the way ingest writes it: a batch of one entry (``Ledger.ingest_batch``).

For tests that set up ledger state event by event; the port has no single-event method.
"""

from __future__ import annotations

from collections.abc import Sequence

from relais.services.ledger_port import Accept, Ledger, NewCommand, OutboxMessage, Reject


async def accept(
    ledger: Ledger, command: NewCommand, statuses: Sequence[OutboxMessage] = ()
) -> bool:
    """The event of ``command`` with its statuses; False (nothing written) if seen before."""
    [new] = await ledger.ingest_batch([Accept(command, statuses)])
    return new


async def reject(
    ledger: Ledger,
    event_id: str,
    statuses: Sequence[OutboxMessage] = (),
    cfa: str | None = None,
) -> bool:
    """An event that gets no command; ``cfa`` None: not established (``event_id`` is then the
    Kafka position). False (nothing written) if seen before."""
    [new] = await ledger.ingest_batch([Reject(event_id, statuses, cfa)])
    return new
