"""The ledger on PostgreSQL: production, several processes sharing one database.

An asyncpg pool (statements are prepared and cached per connection by asyncpg; no reset round trip
on release, see ``_keep_session``). Every method is ONE statement, hence one round trip and one
implicit transaction: data-modifying CTEs write the inbox, command, dossier/facture and outbox rows
together, and a CTE whose lease check or compare-and-set returns no row makes the others write
nothing; ``ingest_batch`` writes a whole Kafka poll that way. ``claim`` uses ``FOR UPDATE SKIP
LOCKED``, so several dispatchers split the due commands without waiting on each other.

Isolation is READ COMMITTED. What keeps the promises under concurrency:
- inbox primary key (cfa, event_id) + ``ON CONFLICT DO NOTHING``: a redelivered event writes
  nothing;
- claim re-checks a candidate's state on the row it locks (PostgreSQL re-evaluates the WHERE
  clause on the newest row version), so a command claimed or finished meanwhile is skipped, and a
  dossier's next command is a candidate only once every older command of it is terminal (FIFO);
- a command queued behind an open one of its dossier is ``blocked`` (out of the claim index, so a
  long backlog costs claims nothing); ingest decides it under a lock on the dossier's latest open
  command and complete unblocks the next one with a fresh snapshot (``relais_unblock_next``), so
  neither order of a racing accept and complete strands a dossier;
- ``ingest_batch`` takes those locks for each dossier of the batch, after inserting its inbox rows,
  both in sorted order ((cfa, event id), then dossiers): two batches (a redelivery racing itself)
  take them in the same order and cannot deadlock;
- complete/reschedule update ``WHERE locked_by = worker AND state = 'in_flight'``: a worker that
  lost its lease writes nothing;
- record_etat is ``INSERT ... ON CONFLICT DO UPDATE ... WHERE etat IS DISTINCT FROM``, which locks
  the row and compares with its latest committed version: of two racing pollers exactly one wins.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from relais.adapters.ledger import common, pauses
from relais.adapters.ledger.migrations import MigrationStatus, status
from relais.domain.clock import Clock
from relais.services.clock import SystemClock
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    Completion,
    NewCommand,
    OutboxMessage,
    Reject,
)

# pg_advisory_xact_lock key serializing concurrent ``migrate()`` calls ("relais" in ASCII).
MIGRATION_LOCK = 0x72656C616973

# How PostgreSQL hands back what ``common.Codec`` reads: timestamptz and text[] are native.
CODEC = common.Codec(timestamp=lambda value: value, strings=tuple)


def _status_arrays(statuses: Sequence[OutboxMessage]) -> list[list[Any]]:
    unique = common.unique_statuses(statuses)
    return [
        [s.event_id for s in unique],
        [s.topic for s in unique],
        [s.key for s in unique],
        [common.headers_json(s.headers) for s in unique],
        [s.value for s in unique],
    ]


# Above this many bytes of payloads and statuses, ingest_batch sends several statements in one
# transaction (each sees the rows of the previous ones: the same result), so that a poll of large
# records never makes one statement of hundreds of megabytes.
BATCH_STATEMENT_BYTES = 4 << 20

_Entry = tuple[tuple[Any, ...], list[tuple[Any, ...]], int]  # entry row, status rows, size


def _encode(entry: Accept | Reject) -> _Entry:
    """An entry as a row of the ``ingest_batch`` query's entry arrays, its status rows and its
    size."""
    if isinstance(entry, Accept):
        command = entry.command
        payload = common.encode_payload(command.payload)
        row: tuple[Any, ...] = (
            command.event_id,
            "accepted",
            command.cfa,
            command.dossier_id,
            command.opco,
            CommandKind(command.kind).value,
            payload,
            json.dumps(list(command.depends_on)),
        )
        size = len(payload)
    else:
        row, size = (entry.event_id, "rejected", entry.cfa or "", None, None, None, None, None), 0
    statuses = [
        (s.event_id, s.topic, s.key, common.headers_json(s.headers), s.value)
        for s in common.unique_statuses(entry.statuses)
    ]
    return row, statuses, size + sum(len(s[3]) + len(s[4]) for s in statuses)


def _statement_chunks(encoded: list[_Entry]) -> list[list[_Entry]]:
    """Consecutive runs of entries of at most ``BATCH_STATEMENT_BYTES`` (at least one entry)."""
    chunks: list[list[_Entry]] = [[]]
    size = 0
    for entry in encoded:
        if chunks[-1] and size + entry[2] > BATCH_STATEMENT_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += entry[2]
    return chunks


def _batch_arrays(chunk: list[_Entry]) -> list[list[Any]]:
    """The 14 array parameters of the ``ingest_batch`` query after ``now``: entries, then statuses
    (each with the 1-based position of its entry in ``chunk``)."""
    columns: list[list[Any]] = [[] for _ in range(8)]
    statuses: list[list[Any]] = [[] for _ in range(6)]
    for position, (row, status_rows, _) in enumerate(chunk, start=1):
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        for status_row in status_rows:
            for column, value in zip(statuses, (position, *status_row), strict=True):
                column.append(value)
    return [*columns, *statuses]


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset of a released connection: nothing to do, so no round trip.

    asyncpg's default sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``
    after every ``pool.fetch*``: one more round trip per ledger call, for state this ledger never
    leaves on a session. Its only lock is ``pg_advisory_xact_lock`` (released at commit), it SETs
    nothing, LISTENs to nothing and opens no cursor outside a transaction (leadership's session
    lock lives on its own connection, not in this pool). asyncpg still rolls back a transaction
    left open before calling this. ``test_pool`` checks that no session state survives any ledger
    call: a change that needs some must put it on a dedicated connection or reset it here.
    """
    return None


@common.translate_errors(
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
class PostgresLedger(common.LedgerReads, pauses.LedgerPauses):
    """``Ledger`` on PostgreSQL through an asyncpg pool (created at first use). Its SQL is in
    ``queries/postgres.sql``."""

    engine = "postgres"
    codec = CODEC

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        clock: Clock | None = None,
    ) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._closed = False

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            if self._closed:
                raise RuntimeError("the ledger is closed")
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.url,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        reset=_keep_session,
                    )
        return self._pool

    def _now(self) -> datetime:
        return common.as_utc(self._clock.now())

    async def _rows(self, query: str, *params: Any) -> Sequence[Any]:
        pool = await self._get_pool()
        rows: Sequence[Any] = await pool.fetch(self._sql(query), *params)
        return rows

    async def _value(self, query: str, *params: Any) -> Any:
        pool = await self._get_pool()
        return await pool.fetchval(self._sql(query), *params)

    async def _chain(self, steps: pauses.Steps) -> list[Any]:
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            return await pauses.chain_async(lambda q, p: conn.fetch(self._sql(q), *p), steps)

    # -- lifecycle ------------------------------------------------------------------------------

    async def migrate(self) -> None:
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(self._sql("migration_lock"), MIGRATION_LOCK)
            await conn.execute(self._sql("create_schema_migrations"))
            rows = await conn.fetch(self._sql("applied_migrations"))
            applied = {row["version"]: row["checksum"] for row in rows}
            for migration in common.migrations_to_apply("postgres", applied):
                await conn.execute(migration.sql)
                await conn.execute(
                    self._sql("record_migration"),
                    migration.version,
                    migration.name,
                    migration.checksum,
                    self._now(),
                )

    async def migration_status(self) -> MigrationStatus:
        """Applied and pending migrations, changing nothing (``relais migrate --check``)."""
        applied: dict[int, str] = {}
        if await self._value("schema_migrations_exists"):
            rows = await self._rows("applied_migrations")
            applied = {row["version"]: row["checksum"] for row in rows}
        return status("postgres", applied)

    async def close(self) -> None:
        self._closed = True
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    # -- ingest -------------------------------------------------------------------------------

    async def _accept(self, command: NewCommand, statuses: Sequence[OutboxMessage]) -> bool:
        """A batch of one Accept: the ``accept`` query, simpler to plan than ``ingest_batch``."""
        inserted = await self._value(
            "accept",
            command.event_id,
            self._now(),
            command.cfa,
            command.dossier_id,
            command.opco,
            CommandKind(command.kind).value,
            common.encode_payload(command.payload),
            list(command.depends_on),
            *_status_arrays(statuses),
        )
        return bool(inserted)

    async def _reject(self, entry: Reject) -> bool:
        """A batch of one Reject: the ``reject`` query."""
        inserted = await self._value(
            "reject", entry.event_id, self._now(), *_status_arrays(entry.statuses), entry.cfa or ""
        )
        return bool(inserted)

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        """One statement (one round trip, one commit) for the whole batch (query
        ``ingest_batch``); several in one transaction above ``BATCH_STATEMENT_BYTES``."""
        if not entries:
            return []
        if len(entries) == 1:  # a poll of one record: the simpler statement plans faster
            [entry] = entries
            if isinstance(entry, Accept):
                return [await self._accept(entry.command, entry.statuses)]
            return [await self._reject(entry)]
        chunks = _statement_chunks([_encode(entry) for entry in entries])
        pool = await self._get_pool()
        now = self._now()
        sql = self._sql("ingest_batch")
        if len(chunks) == 1:
            rows = await pool.fetch(sql, now, *_batch_arrays(chunks[0]))
            fresh = {row["ord"] for row in rows}
            return [position in fresh for position in range(1, len(entries) + 1)]
        results: list[bool] = []
        async with pool.acquire() as conn, conn.transaction():
            for chunk in chunks:
                rows = await conn.fetch(sql, now, *_batch_arrays(chunk))
                fresh = {row["ord"] for row in rows}
                results += [position in fresh for position in range(1, len(chunk) + 1)]
        return results

    # -- dispatch -----------------------------------------------------------------------------

    async def claim(
        self,
        worker: str,
        limit: int,
        now: datetime,
        lease: timedelta,
        exclude_opcos: Collection[str] = (),
    ) -> list[Command]:
        if limit <= 0:
            return []
        now = common.as_utc(now)
        excluded = sorted(set(exclude_opcos))
        rows = await self._rows("claim", now, limit, worker, now + lease, excluded)
        return sorted((CODEC.command(row) for row in rows), key=lambda c: c.id)

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        common.check_completion(completion)
        numero_interne, numero_externe = common.dossier_numbers(completion)
        facture = completion.facture
        # one statement: row None = lease lost (nothing written); the value = dossiers unblocked
        unblocked = await self._value(
            "complete",
            command_id,
            self._now(),
            completion.state.value,
            completion.error,
            worker,
            numero_interne,
            numero_externe,
            completion.dossier_etat,
            common.has_dossier_facts(completion),
            facture.cfa if facture else None,
            facture.reference if facture else None,
            facture.opco if facture else None,
            facture.numero_interne_facture if facture else None,
            facture.etat if facture else None,
            *_status_arrays(completion.statuses),
        )
        return unblocked is not None

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
    ) -> bool:
        done = await self._value(
            "reschedule",
            command_id,
            self._now(),
            common.as_utc(next_attempt_at),
            1 if count_attempt else 0,
            error,
            ambiguous,
            worker,
            *_status_arrays(statuses),
        )
        return bool(done)

    async def release(self, worker: str) -> int:
        pool = await self._get_pool()
        status = await pool.execute(self._sql("release"), self._now(), worker)
        return int(status.split()[-1])

    # -- polling ------------------------------------------------------------------------------

    async def record_etat(
        self,
        *,
        cfa: str,
        opco: str,
        numero_interne: str,
        kind: str,
        etat: str,
        statuses: Sequence[OutboxMessage],
    ) -> bool:
        common.check_etat_kind(kind)
        changed = await self._value(
            "record_etat",
            self._now(),
            cfa,
            opco,
            kind,
            numero_interne,
            etat,
            *_status_arrays(statuses),
        )
        return bool(changed)

    # -- relay --------------------------------------------------------------------------------

    async def republish(self, events: Sequence[tuple[str, str]]) -> int:
        if not events:
            return 0
        cfas, event_ids = [cfa for cfa, _ in events], [event_id for _, event_id in events]
        rows = await self._rows("republish", cfas, event_ids, common.ETAT_CHANGED_TYPE)
        return len(rows)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        pool = await self._get_pool()
        await pool.execute(self._sql("mark_published"), self._now(), [int(seq) for seq in seqs])

    async def set_aside(self, seq: int, reason: str) -> None:
        pool = await self._get_pool()
        await pool.execute(self._sql("set_aside"), self._now(), reason, int(seq))
