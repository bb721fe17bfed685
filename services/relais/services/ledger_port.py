"""The port through which the services keep state (implemented by ``relais.adapters.ledger``).

One ledger, two engines: PostgreSQL (production, several processes) and SQLite (embedded default,
one process). Every method is one transaction. What the promises of DESIGN.md need from it:

- ``ingest_batch`` writes a whole poll's records (``Accept``/``Reject`` entries in record order)
  in ONE transaction (one durable commit and, on PostgreSQL, one statement): per entry the inbox
  row, the command (an ``Accept``) and the first status events, and whether the event was new;
  ingest commits the Kafka offsets only after. An event is identified by (CFA SIRET, event id):
  CloudEvents ids are unique per source only, so the same id from two CFAs is two events. A record
  whose CFA is not established is keyed by its Kafka position
  (``kafka:<topic>:<partition>:<offset>``) with no CFA (stored as ``''``).
- ``claim`` hands out due commands, only the oldest open command of each dossier (FIFO per dossier),
  never two commands of one dossier at once, each under a lease so a crashed worker's claims return.
  On PostgreSQL it uses ``FOR UPDATE SKIP LOCKED`` so several dispatchers split the work.
- ``complete``/``reschedule`` record the outcome of one OPCO call together with its status
  events (transactional outbox) and the dossier/facture ids the OPCO gave.
- ``outbox_batch``/``mark_published`` feed the relay, in outbox order (= per-dossier order);
  ``set_aside`` takes out a row the broker refuses for itself, so that it blocks nothing.
- ``record_etat`` is a compare-and-set on the last known OPCO etat and writes the change event in
  the same transaction, so a change is published under one stable id, once.
- ``pause_opco``/``resume_opco``/``opco_pauses``: an OPCO paused by an operator (its maintenance
  window); ``claim`` hands out none of its commands while the pause holds (until resumed or its
  ``until`` passed, at the claim's ``now``), so every replica obeys. ``held_commands``/
  ``note_held`` give a held command its one "waiting" note per pause (a compare-and-set).
- ``republish`` answers a resent event (a (CFA, event id) ``ingest_batch`` found seen) with the
  status it already has: its latest status row queued again, same id (a duplicate delivery).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from relais.services.command_payload import CommandPayload, StoredPayload


class CommandKind(StrEnum):
    DOSSIER = "dossier"
    CONVENTION = "convention"
    FACTURE = "facture"
    CERTIFICAT = "certificat"
    RUPTURE = "rupture"
    DOCUMENT = "document"


class CommandState(StrEnum):
    PENDING = "pending"  # waiting for its turn / its next attempt
    IN_FLIGHT = "in_flight"  # claimed by a dispatcher under a lease
    DONE = "done"  # terminal: submitted (or found already there)
    FAILED = "failed"  # terminal: permanent OPCO error, caps reached, not supported


@dataclass(frozen=True)
class OutboxMessage:
    """A status event ready to publish: its id is stable (a redelivery repeats it)."""

    event_id: str
    key: str  # the CFA's dossier id (Kafka key)
    headers: Mapping[str, str]
    value: bytes
    topic: str | None = None  # None: the configured status topic


@dataclass(frozen=True)
class OutboxRecord:
    seq: int
    message: OutboxMessage


@dataclass(frozen=True)
class NewCommand:
    event_id: str  # the CFA event's ce_id (inbox key, with cfa)
    cfa: str  # CFA SIRET (from ce_source)
    dossier_id: str  # the CFA's own dossier id (ce_subject / Kafka key)
    opco: str
    kind: CommandKind
    payload: CommandPayload  # what dispatch needs to build the OPCO call
    depends_on: Sequence[str] = ()  # other CFA dossier ids whose numeroInterne is needed (facture)


@dataclass(frozen=True)
class Accept:
    """An entry of ``Ledger.ingest_batch``: an event that gets a command (inbox row, command,
    statuses)."""

    command: NewCommand
    statuses: Sequence[OutboxMessage] = ()


@dataclass(frozen=True)
class Reject:
    """An entry of ``Ledger.ingest_batch``: an event that gets no command (inbox row and
    statuses)."""

    event_id: str
    statuses: Sequence[OutboxMessage] = ()
    cfa: str | None = None  # the CFA SIRET; None: not established (event_id is a Kafka position)


@dataclass(frozen=True)
class Command:
    id: int
    event_id: str
    cfa: str
    dossier_id: str
    opco: str
    kind: CommandKind
    payload: StoredPayload  # stored JSON read back (``command_payload.load``)
    depends_on: tuple[str, ...]
    state: CommandState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    ambiguous: bool  # the previous attempt may have reached the OPCO: look up before resending


@dataclass(frozen=True)
class DossierRecord:
    cfa: str
    dossier_id: str
    opco: str
    numero_interne: str | None
    numero_externe: str | None
    etat: str | None
    updated_at: datetime


@dataclass(frozen=True)
class FactureRecord:
    cfa: str
    reference: str  # referenceFactureCFA
    opco: str
    numero_interne_facture: str | None
    etat: str | None
    dossier_id: str | None = None  # the CFA dossier id of the event that submitted it (its key)


@dataclass(frozen=True)
class Completion:
    """The terminal outcome of a command, written with its status events in one transaction."""

    state: CommandState  # DONE or FAILED
    statuses: Sequence[OutboxMessage]
    error: str | None = None
    dossier_ids: Mapping[str, str] = field(default_factory=dict)  # numeroInterne/numeroExterne
    dossier_etat: str | None = None
    facture: FactureRecord | None = None


@dataclass(frozen=True)
class OpcoPause:
    """An OPCO's pause (one per OPCO, kept after a resume); ``pause_id`` grows with each pause."""

    opco: str
    pause_id: int
    paused_at: datetime
    until: datetime | None
    reason: str | None
    resumed_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Whether the pause holds at ``now``: not resumed and ``until`` not passed."""
        return self.resumed_at is None and (self.until is None or self.until > now)


@dataclass(frozen=True)
class HeldCommand:
    """A pending command of a paused OPCO that has not had that pause's note yet."""

    command: Command
    pause_id: int
    until: datetime | None


class Ledger(Protocol):
    async def migrate(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        """Each entry in order, all in ONE transaction; one bool per entry: True if the event was
        new (its inbox row, command and statuses written), False if (CFA, event id) was seen.

        The result and the rows written are those of the entries one by one in entry order: a (CFA,
        event id) seen before, or earlier in the batch, gives False and writes nothing; a command
        behind an older open one of its dossier (in the ledger or earlier in the batch) waits for it
        (FIFO); status rows are enqueued in entry order. All or nothing: if it raises, nothing is
        written.
        """
        ...

    async def claim(
        self,
        worker: str,
        limit: int,
        now: datetime,
        lease: timedelta,
        exclude_opcos: Collection[str] = (),
    ) -> list[Command]:
        """Up to ``limit`` due commands; none of an OPCO in ``exclude_opcos`` (a dispatcher whose
        share of slots for that OPCO is full). An excluded OPCO's commands stay where they are:
        FIFO per dossier is unchanged, they are handed out by a later claim."""
        ...

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        """False if this worker no longer holds the command (lease lost): nothing written."""
        ...

    async def reschedule(
        self,
        command_id: int,
        worker: str,
        next_attempt_at: datetime,
        error: str,
        *,
        ambiguous: bool,
        count_attempt: bool = True,
        statuses: Sequence[OutboxMessage] = (),
    ) -> bool: ...

    async def release(self, worker: str) -> int:
        """Give back every command this worker holds (graceful shutdown)."""
        ...

    async def dossier(self, cfa: str, dossier_id: str) -> DossierRecord | None: ...

    async def dossier_by_numero(self, opco: str, numero_interne: str) -> DossierRecord | None: ...

    async def has_open_command(self, cfa: str, dossier_id: str) -> bool: ...

    async def facture(self, cfa: str, reference: str) -> FactureRecord | None: ...

    async def record_etat(
        self,
        *,
        cfa: str,
        opco: str,
        numero_interne: str,
        kind: str,  # "dossier" | "facture"
        etat: str,
        statuses: Sequence[OutboxMessage],
    ) -> bool:
        """Set the last known etat if it differs and enqueue ``statuses``; False if unchanged."""
        ...

    async def outbox_batch(self, limit: int) -> list[OutboxRecord]: ...

    async def republish(self, events: Sequence[tuple[str, str]]) -> int:
        """Answer resent events ((CFA, event id) pairs seen before; CFA '' for a Kafka position)
        with the status each already has: its latest status (``etat_changed`` aside) is queued
        again under its own id (a duplicate delivery, not a second status); one not published
        yet, or set aside, is left as it is. Returns how many rows were queued again."""
        ...

    async def mark_published(self, seqs: Sequence[int]) -> None: ...

    async def set_aside(self, seq: int, reason: str) -> None:
        """Take an outbox row the relay cannot publish out of the queue, with why (a reason code):
        the rows after it flow on (``outbox_batch`` no longer returns it)."""
        ...

    async def commands_for(self, cfa: str, dossier_id: str) -> list[Command]: ...

    async def counts(self) -> Mapping[str, int]:
        """Commands by state (one key per ``CommandState`` value) and the outbox backlog (key
        ``outbox``: unpublished rows), for metrics and ``demo --exit``."""
        ...

    async def pause_opco(
        self, opco: str, *, until: datetime | None, reason: str | None
    ) -> OpcoPause:
        """Pause ``opco`` (now: the ledger's clock) until resumed or ``until``; an active pause
        keeps its id and start and takes the new ``until`` and ``reason``."""
        ...

    async def resume_opco(self, opco: str) -> bool:
        """Lift ``opco``'s pause; False if it held no more (never paused, resumed or expired)."""
        ...

    async def opco_pauses(self) -> list[OpcoPause]:
        """Every OPCO's pause, active or not, by OPCO."""
        ...

    async def held_commands(self, now: datetime, limit: int) -> list[HeldCommand]:
        """Up to ``limit`` pending commands of OPCOs paused at ``now`` without that pause's note
        yet, oldest first."""
        ...

    async def note_held(
        self, command_id: int, pause_id: int, statuses: Sequence[OutboxMessage]
    ) -> bool:
        """Mark the command noted for pause ``pause_id`` and enqueue ``statuses``, in ONE
        transaction; False (nothing written) if it was already noted or is no longer pending."""
        ...
