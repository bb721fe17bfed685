"""What both ledger engines share: argument checks, the payload and row codecs, the reads (lookups,
relay batch, counts), the migration plan, and error translation.

Each engine keeps only what its driver needs: how it runs a named query of its ``queries/<engine>
.sql`` (``LedgerReads._rows``), how it stores timestamps and lists (``Codec``), and its writes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from relais.adapters.ledger.migrations import Engine, Migration, load
from relais.adapters.ledger.queries import queries
from relais.domain.status_kinds import StatusName
from relais.errors import ConfigurationError, LedgerError
from relais.services import command_payload
from relais.services.command_payload import CommandPayload, StoredPayload
from relais.services.ledger_port import (
    Command,
    CommandKind,
    CommandState,
    Completion,
    DossierRecord,
    FactureRecord,
    OutboxMessage,
    OutboxRecord,
)

TERMINAL_STATES = (CommandState.DONE, CommandState.FAILED)
ETAT_KINDS = ("dossier", "facture")

# ``counts()``: one key per command state, plus the unpublished outbox rows under this key (the
# ``counts`` query names them so).
OUTBOX_BACKLOG = "outbox"


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_completion(completion: Completion) -> None:
    if completion.state not in TERMINAL_STATES:
        raise ValueError(f"a completion is terminal (done or failed), not {completion.state!r}")


def check_etat_kind(kind: str) -> None:
    if kind not in ETAT_KINDS:
        raise ValueError(f"etat kind must be one of {ETAT_KINDS}, not {kind!r}")


def encode_payload(payload: CommandPayload) -> str:
    """A payload as stored (JSON text; ``jsonb`` on PostgreSQL): ``command_payload.encode``."""
    return command_payload.encode(payload)


def decode_payload(stored: str) -> StoredPayload:
    """A stored payload back: ``command_payload.decode`` (an unreadable row loads, never raises)."""
    return command_payload.decode(stored)


def headers_json(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers), separators=(",", ":"), ensure_ascii=False)


def dossier_numbers(completion: Completion) -> tuple[str | None, str | None]:
    ids = completion.dossier_ids
    return ids.get("numeroInterne"), ids.get("numeroExterne")


def has_dossier_facts(completion: Completion) -> bool:
    """Whether a completion brings ids or an etat for its dossier. The engines' ``complete`` query
    writes the dossiers row then, or when a dossier command is done (the dossier just created)."""
    return bool(completion.dossier_ids or completion.dossier_etat is not None)


def unique_statuses(statuses: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """The statuses once each, first occurrence kept (event ids are unique in the outbox)."""
    seen: set[str] = set()
    out = []
    for status in statuses:
        if status.event_id not in seen:
            seen.add(status.event_id)
            out.append(status)
    return out


def migrations_to_apply(engine: Engine, applied: Mapping[int, str]) -> list[Migration]:
    """The shipped migrations not applied yet, in version order, given the applied ``{version:
    checksum}``. An applied migration whose file changed since is a ``ConfigurationError``."""
    pending = []
    for migration in load(engine):
        if migration.version not in applied:
            pending.append(migration)
        elif applied[migration.version] != migration.checksum:
            raise ConfigurationError(
                f"ledger migration {migration.version:04d}_{migration.name} was "
                "changed after it was applied: add a new migration instead"
            )
    return pending


class Row(Protocol):
    """A result row as both drivers give it (``asyncpg.Record``, ``sqlite3.Row``)."""

    def __getitem__(self, key: Any, /) -> Any: ...


@dataclass(frozen=True)
class Codec:
    """Rows to port records. What differs between engines: how a timestamp and a list of strings
    are stored (PostgreSQL ``timestamptz``/``text[]``, SQLite text and JSON text); ``stamp`` is
    the way back for a timestamp parameter."""

    timestamp: Callable[[Any], datetime]
    strings: Callable[[Any], tuple[str, ...]]
    stamp: Callable[[datetime], Any] = as_utc  # an aware UTC datetime as the engine stores it

    def command(self, row: Row) -> Command:
        return Command(
            id=row["id"],
            event_id=row["event_id"],
            cfa=row["cfa"],
            dossier_id=row["dossier_id"],
            opco=row["opco"],
            kind=CommandKind(row["kind"]),
            payload=decode_payload(row["payload"]),
            depends_on=self.strings(row["depends_on"]),
            state=CommandState(row["state"]),
            attempts=row["attempts"],
            created_at=self.timestamp(row["created_at"]),
            next_attempt_at=self.timestamp(row["next_attempt_at"]),
            last_error=row["last_error"],
            ambiguous=bool(row["ambiguous"]),
        )

    def dossier(self, row: Row) -> DossierRecord:
        return DossierRecord(
            cfa=row["cfa"],
            dossier_id=row["dossier_id"],
            opco=row["opco"],
            numero_interne=row["numero_interne"],
            numero_externe=row["numero_externe"],
            etat=row["etat"],
            updated_at=self.timestamp(row["updated_at"]),
        )

    @staticmethod
    def facture(row: Row) -> FactureRecord:
        return FactureRecord(
            cfa=row["cfa"],
            reference=row["reference"],
            opco=row["opco"],
            numero_interne_facture=row["numero_interne_facture"],
            etat=row["etat"],
            dossier_id=row["dossier_id"],
        )

    @staticmethod
    def outbox(row: Row) -> OutboxRecord:
        return OutboxRecord(
            seq=row["seq"],
            message=OutboxMessage(
                event_id=row["event_id"],
                key=row["key"],
                headers=json.loads(row["headers"]),
                value=bytes(row["value"]),
                topic=row["topic"],
            ),
        )


class LedgerReads:
    """The reads of the port, written once: each runs one named query of the engine's file
    through ``_rows`` (one statement, one snapshot) and maps the rows with the engine's codec."""

    engine: Engine
    codec: Codec

    async def _rows(self, query: str, *params: Any) -> Sequence[Row]:
        """The rows of ``queries(self.engine)[query]`` run with positional ``params``."""
        raise NotImplementedError

    def _sql(self, name: str) -> str:
        return queries(self.engine)[name]

    async def ping(self) -> None:
        await self._rows("ping")

    async def dossier(self, cfa: str, dossier_id: str) -> DossierRecord | None:
        rows = await self._rows("dossier", cfa, dossier_id)
        return self.codec.dossier(rows[0]) if rows else None

    async def dossier_by_numero(self, opco: str, numero_interne: str) -> DossierRecord | None:
        rows = await self._rows("dossier_by_numero", opco, numero_interne)
        return self.codec.dossier(rows[0]) if rows else None

    async def has_open_command(self, cfa: str, dossier_id: str) -> bool:
        rows = await self._rows("has_open_command", cfa, dossier_id)
        return bool(rows[0][0])

    async def facture(self, cfa: str, reference: str) -> FactureRecord | None:
        rows = await self._rows("facture", cfa, reference)
        return self.codec.facture(rows[0]) if rows else None

    async def commands_for(self, cfa: str, dossier_id: str) -> list[Command]:
        return [
            self.codec.command(row) for row in await self._rows("commands_for", cfa, dossier_id)
        ]

    async def outbox_batch(self, limit: int) -> list[OutboxRecord]:
        return [self.codec.outbox(row) for row in await self._rows("outbox_batch", limit)]

    async def counts(self) -> Mapping[str, int]:
        result = {state.value: 0 for state in CommandState}
        for row in await self._rows("counts"):
            result[row["name"]] = row["n"]
        return result


ETAT_CHANGED_TYPE = StatusName.ETAT_CHANGED.event_type
"""Left aside when a resent event is answered (``republish``): a dossier's etat changes carry
the event id that created it, they are not its answer."""

# The port's methods (and the adapters' own): what ``translate_errors`` wraps.
PUBLIC_METHODS = (
    "migrate",
    "ping",
    "ingest_batch",
    "claim",
    "complete",
    "reschedule",
    "release",
    "dossier",
    "dossier_by_numero",
    "has_open_command",
    "facture",
    "record_etat",
    "outbox_batch",
    "republish",
    "mark_published",
    "set_aside",
    "commands_for",
    "counts",
    "pause_opco",
    "resume_opco",
    "opco_pauses",
    "held_commands",
    "note_held",
    "migration_status",
)

C = TypeVar("C", bound=type)


def translate_errors(*library_errors: type[BaseException]) -> Callable[[C], C]:
    """Class decorator: the driver's exceptions leave the adapter as ``LedgerError``.

    The message names the operation and the driver's error class and text (SQLSTATE messages, not
    row values: no personal data).
    """

    def wrap_method(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except library_errors as exc:
                raise LedgerError(f"ledger {name} failed: {type(exc).__name__}: {exc}") from exc

        return wrapper

    def decorate(cls: C) -> C:
        for name in PUBLIC_METHODS:
            setattr(cls, name, wrap_method(name, getattr(cls, name)))
        return cls

    return decorate
