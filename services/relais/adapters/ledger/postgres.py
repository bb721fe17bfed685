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
  long backlog costs claims nothing); accept decides it under a lock on the dossier's latest open
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
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from relais.adapters.ledger import common
from relais.adapters.ledger.migrations import MigrationStatus, load, status
from relais.errors import ConfigurationError
from relais.services import command_payload
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    CommandState,
    Completion,
    DossierRecord,
    FactureRecord,
    NewCommand,
    OutboxMessage,
    OutboxRecord,
    Reject,
)

# pg_advisory_xact_lock key serializing concurrent ``migrate()`` calls ("relais" in ASCII).
MIGRATION_LOCK = 0x72656C616973

_COMMAND_COLUMNS = (
    "id, event_id, cfa, dossier_id, opco, kind, payload::text AS payload, depends_on, state,"
    " attempts, created_at, next_attempt_at, last_error, ambiguous"
)

_DOSSIER_COLUMNS = "cfa, dossier_id, opco, numero_interne, numero_externe, etat, updated_at"

# Status rows from parallel arrays; WITH ORDINALITY + ORDER BY keeps their order in ``seq``.
_STATUS_ROWS = (
    "unnest(${0}::text[], ${1}::text[], ${2}::text[], ${3}::text[], ${4}::bytea[])"
    " WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)"
)


def _outbox_insert(*, now: int, first: int, guard: str = "") -> str:
    """INSERT of status rows: created_at is parameter ``now``, the 5 arrays start at ``first``."""
    rows = _STATUS_ROWS.format(first, first + 1, first + 2, first + 3, first + 4)
    return (
        "INSERT INTO outbox (event_id, topic, key, headers, value, created_at)"
        f" SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, ${now}"
        f" FROM {guard}{rows} ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING"
    )


# accept: a command behind an older open command of its dossier is inserted ``blocked``. The latest
# open command of the dossier is locked first (FOR UPDATE): a concurrent complete of it either
# waits for this insert (and then unblocks it) or finished first (the lock's re-check then finds
# the command terminal: not blocked).
_ACCEPT = f"""
WITH inbox_row AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES ($3, $1, 'accepted', $2)
    ON CONFLICT (cfa, event_id) DO NOTHING RETURNING event_id
), last_open AS (
    SELECT id FROM commands
    WHERE cfa = $3 AND dossier_id = $4 AND state IN ('pending', 'in_flight')
    ORDER BY id DESC
    LIMIT 1
    FOR UPDATE
), command_row AS (
    INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on, state,
                          attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)
    SELECT event_id, $3, $4, $5, $6, $7::jsonb, $8::text[], 'pending', 0, $2, $2, $2, false,
           EXISTS (SELECT 1 FROM last_open)
    FROM inbox_row
    RETURNING id
), outbox_rows AS (
    {_outbox_insert(now=2, first=9, guard="inbox_row, ")}
)
SELECT count(*) FROM inbox_row
"""

_REJECT = f"""
WITH inbox_row AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES ($8, $1, 'rejected', $2)
    ON CONFLICT (cfa, event_id) DO NOTHING RETURNING event_id
), outbox_rows AS (
    {_outbox_insert(now=2, first=3, guard="inbox_row, ")}
)
SELECT count(*) FROM inbox_row
"""


# ingest_batch: every entry of a Kafka poll in ONE statement, as if accept/reject ran one by one in
# entry order. Entries come as parallel arrays (ord = position), statuses as parallel arrays with
# the position of their entry. ``first_seen``: a (cfa, event id) repeated in the batch counts once,
# at its first position (cfa '' for a record whose CFA is not established); the inbox insert then
# says which are new. A command is blocked if its dossier has an open command in the ledger
# (locked as in _ACCEPT, dossiers in a fixed order so two batches never deadlock on each other) or
# an earlier new command in the batch (nth > 1), since the statement's snapshot does not see its
# own inserts. Rows are inserted in entry order (ids and seqs follow it). Returns the positions
# of the entries that were new.
_INGEST_BATCH = """
WITH entry AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[])
        WITH ORDINALITY AS e(event_id, outcome, cfa, dossier_id, opco, kind, payload, depends_on,
                             ord)
), first_seen AS (
    SELECT DISTINCT ON (cfa, event_id) cfa, event_id, ord FROM entry ORDER BY cfa, event_id, ord
), inbox_rows AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at)
    SELECT f.cfa, f.event_id, e.outcome, $1 FROM first_seen AS f JOIN entry AS e USING (ord)
    ORDER BY f.cfa, f.event_id
    ON CONFLICT (cfa, event_id) DO NOTHING
    RETURNING cfa, event_id
), fresh AS MATERIALIZED (
    SELECT e.* FROM entry AS e JOIN first_seen AS f USING (ord) JOIN inbox_rows AS i
        ON i.cfa = f.cfa AND i.event_id = f.event_id
), accepted AS MATERIALIZED (
    SELECT *, row_number() OVER (PARTITION BY cfa, dossier_id ORDER BY ord) AS nth
    FROM fresh WHERE outcome = 'accepted'
), open_dossier AS MATERIALIZED (
    SELECT d.cfa, d.dossier_id
    FROM (SELECT DISTINCT cfa, dossier_id FROM accepted ORDER BY cfa, dossier_id) AS d
    CROSS JOIN LATERAL (
        SELECT c.id FROM commands AS c
        WHERE c.cfa = d.cfa AND c.dossier_id = d.dossier_id AND c.state IN ('pending', 'in_flight')
        ORDER BY c.id DESC
        LIMIT 1
        FOR UPDATE
    ) AS last_open
), command_rows AS (
    INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on, state,
                          attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)
    SELECT a.event_id, a.cfa, a.dossier_id, a.opco, a.kind, a.payload::jsonb,
           ARRAY(SELECT jsonb_array_elements_text(a.depends_on::jsonb)), 'pending', 0, $1, $1, $1,
           false,
           a.nth > 1 OR EXISTS (SELECT 1 FROM open_dossier AS o
                                WHERE o.cfa = a.cfa AND o.dossier_id = a.dossier_id)
    FROM accepted AS a
    ORDER BY a.ord
    RETURNING id
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $1
    FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[])
        WITH ORDINALITY AS s(entry, event_id, topic, key, headers, value, ord)
    JOIN fresh ON fresh.ord = s.entry
    ORDER BY s.ord
    ON CONFLICT (event_id) DO NOTHING
)
SELECT ord FROM fresh
"""


# Candidates: the oldest open command of a dossier, due (pending) or abandoned (expired lease).
_NO_OLDER_OPEN = """NOT EXISTS (
            SELECT 1 FROM commands AS o
            WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
              AND o.state IN ('pending', 'in_flight'))"""

_CLAIM = f"""
WITH expired AS (
    SELECT c.id FROM commands AS c
    WHERE c.state = 'in_flight' AND c.locked_until <= $1 AND c.opco <> ALL($5::text[])
      AND {_NO_OLDER_OPEN}
    ORDER BY c.locked_until
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT c.id FROM commands AS c
    WHERE c.state = 'pending' AND NOT c.blocked AND c.next_attempt_at <= $1
      AND c.opco <> ALL($5::text[]) AND {_NO_OLDER_OPEN}
    ORDER BY c.next_attempt_at, c.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $2
)
UPDATE commands AS c SET
    ambiguous = c.ambiguous OR c.state = 'in_flight',
    state = 'in_flight', locked_by = $3, locked_until = $4, updated_at = $1
FROM picked WHERE c.id = picked.id
RETURNING {", ".join("c." + col.strip() for col in _COMMAND_COLUMNS.split(","))}
"""


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
    """An entry as a row of ``_INGEST_BATCH``'s entry arrays, its status rows and its size."""
    if isinstance(entry, Accept):
        command = entry.command
        payload = command_payload.encode(command.payload)
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
    """The 14 array parameters of ``_INGEST_BATCH`` after ``now``: entries, then statuses (each
    with the 1-based position of its entry in ``chunk``)."""
    columns: list[list[Any]] = [[] for _ in range(8)]
    statuses: list[list[Any]] = [[] for _ in range(6)]
    for position, (row, status_rows, _) in enumerate(chunk, start=1):
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        for status_row in status_rows:
            for column, value in zip(statuses, (position, *status_row), strict=True):
                column.append(value)
    return [*columns, *statuses]


def _command(row: asyncpg.Record) -> Command:
    return Command(
        id=row["id"],
        event_id=row["event_id"],
        cfa=row["cfa"],
        dossier_id=row["dossier_id"],
        opco=row["opco"],
        kind=CommandKind(row["kind"]),
        payload=command_payload.decode(row["payload"]),
        depends_on=tuple(row["depends_on"]),
        state=CommandState(row["state"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        ambiguous=row["ambiguous"],
    )


def _dossier(row: asyncpg.Record) -> DossierRecord:
    return DossierRecord(
        cfa=row["cfa"],
        dossier_id=row["dossier_id"],
        opco=row["opco"],
        numero_interne=row["numero_interne"],
        numero_externe=row["numero_externe"],
        etat=row["etat"],
        updated_at=row["updated_at"],
    )


# complete: the lease check, the dossier/facture rows (ids and etats, keeping known values), the
# known etats for polling, the statuses, and the dossier's next command unblocked; one statement.
# Each CTE reads the previous one's RETURNING, so nothing is written when ``cmd`` (the lease check)
# returns no row. relais_unblock_next (migration 0003) is VOLATILE: its query takes a fresh
# snapshot, after ``cmd`` got the row lock, so it sees a command accepted meanwhile.
_COMPLETE = f"""
WITH cmd AS (
    UPDATE commands SET state = $3, last_error = $4, locked_by = NULL, locked_until = NULL,
                        updated_at = $2
    WHERE id = $1 AND locked_by = $5 AND state = 'in_flight'
    RETURNING cfa, dossier_id, opco, kind, state
), dossier AS (
    INSERT INTO dossiers (cfa, dossier_id, opco, numero_interne, numero_externe, etat,
                          created_at, updated_at)
    SELECT cfa, dossier_id, opco, $6, $7, $8, $2, $2 FROM cmd
    WHERE $9 OR (cmd.kind = 'dossier' AND cmd.state = 'done')
    ON CONFLICT (cfa, dossier_id) DO UPDATE SET
        opco = EXCLUDED.opco,
        numero_interne = coalesce(EXCLUDED.numero_interne, dossiers.numero_interne),
        numero_externe = coalesce(EXCLUDED.numero_externe, dossiers.numero_externe),
        etat = coalesce(EXCLUDED.etat, dossiers.etat),
        updated_at = EXCLUDED.updated_at
    RETURNING cfa, opco, numero_interne, etat
), dossier_etat AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    SELECT cfa, opco, 'dossier', numero_interne, etat, $2 FROM dossier
    WHERE $8::text IS NOT NULL AND numero_interne IS NOT NULL
    ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
), facture AS (
    INSERT INTO factures (cfa, reference, opco, numero_interne_facture, etat,
                          created_at, updated_at)
    SELECT $10, $11, $12, $13, $14, $2, $2 FROM cmd WHERE $10::text IS NOT NULL
    ON CONFLICT (cfa, reference) DO UPDATE SET
        opco = EXCLUDED.opco,
        numero_interne_facture =
            coalesce(EXCLUDED.numero_interne_facture, factures.numero_interne_facture),
        etat = coalesce(EXCLUDED.etat, factures.etat),
        updated_at = EXCLUDED.updated_at
    RETURNING cfa, opco, numero_interne_facture, etat
), facture_etat AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    SELECT cfa, opco, 'facture', numero_interne_facture, etat, $2 FROM facture
    WHERE $14::text IS NOT NULL AND numero_interne_facture IS NOT NULL
    ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
), outbox_rows AS (
    {_outbox_insert(now=2, first=15, guard="cmd, ")}
)
SELECT relais_unblock_next(cfa, dossier_id, $1) FROM cmd
"""


_RESCHEDULE = f"""
WITH cmd AS (
    UPDATE commands SET state = 'pending', next_attempt_at = $3, attempts = attempts + $4,
                        last_error = $5, ambiguous = $6, locked_by = NULL, locked_until = NULL,
                        updated_at = $2
    WHERE id = $1 AND locked_by = $7 AND state = 'in_flight'
    RETURNING id
), outbox_rows AS (
    {_outbox_insert(now=2, first=8, guard="cmd, ")}
)
SELECT count(*) FROM cmd
"""

# record_etat: the compare-and-set, then (only when it changed) the linked row and the statuses.
_RECORD_ETAT = f"""
WITH changed AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    VALUES ($2, $3, $4, $5, $6, $1) ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
    WHERE opco_etats.etat IS DISTINCT FROM EXCLUDED.etat
    RETURNING kind
), dossier AS (
    UPDATE dossiers SET etat = $6, updated_at = $1 FROM changed
    WHERE changed.kind = 'dossier' AND dossiers.opco = $3 AND dossiers.numero_interne = $5
      AND dossiers.cfa = $2
), facture AS (
    UPDATE factures SET etat = $6, updated_at = $1 FROM changed
    WHERE changed.kind = 'facture' AND factures.opco = $3
      AND factures.numero_interne_facture = $5 AND factures.cfa = $2
), outbox_rows AS (
    {_outbox_insert(now=1, first=7, guard="changed, ")}
)
SELECT count(*) FROM changed
"""


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
class PostgresLedger:
    """``Ledger`` on PostgreSQL through an asyncpg pool (created at first use)."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        clock: common.Clock = common.utc_now,
    ) -> None:
        self.url = url
        self._min_size = min_size
        self._max_size = max_size
        self._clock = clock
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
        return common.as_utc(self._clock())

    # -- lifecycle ------------------------------------------------------------------------------

    async def migrate(self) -> None:
        pool = await self._get_pool()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL)"
            )
            applied = {
                row["version"]: row["checksum"]
                for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
            }
            for migration in load("postgres"):
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise ConfigurationError(
                            f"ledger migration {migration.version:04d}_{migration.name} was "
                            "changed after it was applied: add a new migration instead"
                        )
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                    " VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                    self._now(),
                )

    async def migration_status(self) -> MigrationStatus:
        """Applied and pending migrations, changing nothing (``relais migrate --check``)."""
        pool = await self._get_pool()
        applied: dict[int, str] = {}
        if await pool.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            rows = await pool.fetch("SELECT version, checksum FROM schema_migrations")
            applied = {row["version"]: row["checksum"] for row in rows}
        return status("postgres", applied)

    async def ping(self) -> None:
        pool = await self._get_pool()
        await pool.fetchval("SELECT 1")

    async def close(self) -> None:
        self._closed = True
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    # -- ingest -------------------------------------------------------------------------------

    async def accept(self, command: NewCommand, statuses: Sequence[OutboxMessage]) -> bool:
        pool = await self._get_pool()
        inserted = await pool.fetchval(
            _ACCEPT,
            command.event_id,
            self._now(),
            command.cfa,
            command.dossier_id,
            command.opco,
            CommandKind(command.kind).value,
            command_payload.encode(command.payload),
            list(command.depends_on),
            *_status_arrays(statuses),
        )
        return bool(inserted)

    async def reject(
        self, event_id: str, statuses: Sequence[OutboxMessage], cfa: str | None = None
    ) -> bool:
        pool = await self._get_pool()
        inserted = await pool.fetchval(
            _REJECT, event_id, self._now(), *_status_arrays(statuses), cfa or ""
        )
        return bool(inserted)

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        """One statement (one round trip, one commit) for the whole batch, see _INGEST_BATCH;
        several in one transaction above ``BATCH_STATEMENT_BYTES``."""
        if not entries:
            return []
        if len(entries) == 1:  # a poll of one record: the simpler statement plans faster
            [entry] = entries
            if isinstance(entry, Accept):
                return [await self.accept(entry.command, entry.statuses)]
            return [await self.reject(entry.event_id, entry.statuses, entry.cfa)]
        chunks = _statement_chunks([_encode(entry) for entry in entries])
        pool = await self._get_pool()
        now = self._now()
        if len(chunks) == 1:
            rows = await pool.fetch(_INGEST_BATCH, now, *_batch_arrays(chunks[0]))
            fresh = {row["ord"] for row in rows}
            return [position in fresh for position in range(1, len(entries) + 1)]
        results: list[bool] = []
        async with pool.acquire() as conn, conn.transaction():
            for chunk in chunks:
                rows = await conn.fetch(_INGEST_BATCH, now, *_batch_arrays(chunk))
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
        pool = await self._get_pool()
        now = common.as_utc(now)
        excluded = sorted(set(exclude_opcos))
        rows = await pool.fetch(_CLAIM, now, limit, worker, now + lease, excluded)
        return sorted((_command(row) for row in rows), key=lambda c: c.id)

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        common.check_completion(completion)
        numero_interne, numero_externe = common.dossier_numbers(completion)
        facture = completion.facture
        pool = await self._get_pool()
        # one statement: row None = lease lost (nothing written); the value = dossiers unblocked
        unblocked = await pool.fetchval(
            _COMPLETE,
            command_id,
            self._now(),
            completion.state.value,
            completion.error,
            worker,
            numero_interne,
            numero_externe,
            completion.dossier_etat,
            bool(completion.dossier_ids or completion.dossier_etat is not None),
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
        pool = await self._get_pool()
        done = await pool.fetchval(
            _RESCHEDULE,
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
        status = await pool.execute(
            "UPDATE commands SET state = 'pending', locked_by = NULL, locked_until = NULL,"
            " updated_at = $1 WHERE locked_by = $2 AND state = 'in_flight'",
            self._now(),
            worker,
        )
        return int(status.split()[-1])

    # -- lookups ------------------------------------------------------------------------------

    async def dossier(self, cfa: str, dossier_id: str) -> DossierRecord | None:
        pool = await self._get_pool()
        row = await pool.fetchrow(
            f"SELECT {_DOSSIER_COLUMNS} FROM dossiers WHERE cfa = $1 AND dossier_id = $2",
            cfa,
            dossier_id,
        )
        return None if row is None else _dossier(row)

    async def dossier_by_numero(self, opco: str, numero_interne: str) -> DossierRecord | None:
        pool = await self._get_pool()
        row = await pool.fetchrow(
            f"SELECT {_DOSSIER_COLUMNS} FROM dossiers WHERE opco = $1 AND numero_interne = $2"
            " ORDER BY updated_at DESC LIMIT 1",
            opco,
            numero_interne,
        )
        return None if row is None else _dossier(row)

    async def has_open_command(self, cfa: str, dossier_id: str) -> bool:
        pool = await self._get_pool()
        found = await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM commands WHERE cfa = $1 AND dossier_id = $2"
            " AND state IN ('pending', 'in_flight'))",
            cfa,
            dossier_id,
        )
        return bool(found)

    async def facture(self, cfa: str, reference: str) -> FactureRecord | None:
        pool = await self._get_pool()
        row = await pool.fetchrow(
            "SELECT cfa, reference, opco, numero_interne_facture, etat FROM factures"
            " WHERE cfa = $1 AND reference = $2",
            cfa,
            reference,
        )
        return None if row is None else FactureRecord(**dict(row))

    async def commands_for(self, cfa: str, dossier_id: str) -> list[Command]:
        pool = await self._get_pool()
        rows = await pool.fetch(
            f"SELECT {_COMMAND_COLUMNS} FROM commands WHERE cfa = $1 AND dossier_id = $2"
            " ORDER BY id",
            cfa,
            dossier_id,
        )
        return [_command(row) for row in rows]

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
        pool = await self._get_pool()
        changed = await pool.fetchval(
            _RECORD_ETAT,
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

    async def outbox_batch(self, limit: int) -> list[OutboxRecord]:
        pool = await self._get_pool()
        rows = await pool.fetch(
            "SELECT seq, event_id, topic, key, headers::text AS headers, value FROM outbox"
            " WHERE published_at IS NULL ORDER BY seq LIMIT $1",
            limit,
        )
        return [
            OutboxRecord(
                seq=row["seq"],
                message=OutboxMessage(
                    event_id=row["event_id"],
                    key=row["key"],
                    headers=json.loads(row["headers"]),
                    value=row["value"],
                    topic=row["topic"],
                ),
            )
            for row in rows
        ]

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        pool = await self._get_pool()
        await pool.execute(
            "UPDATE outbox SET published_at = $1 WHERE seq = ANY($2::bigint[])"
            " AND published_at IS NULL",
            self._now(),
            [int(seq) for seq in seqs],
        )

    async def set_aside(self, seq: int, reason: str) -> None:
        pool = await self._get_pool()
        await pool.execute(
            "UPDATE outbox SET published_at = $1, set_aside = $2"
            " WHERE seq = $3 AND published_at IS NULL",
            self._now(),
            reason,
            int(seq),
        )

    # -- operations ---------------------------------------------------------------------------

    async def counts(self) -> Mapping[str, int]:
        pool = await self._get_pool()
        result = {state.value: 0 for state in CommandState}
        for row in await pool.fetch(common.COUNTS_QUERY):  # one statement: one snapshot
            result[row["name"]] = row["n"]
        return result

    async def describe_schema(self) -> dict[str, Any]:
        """The schema as the database has it (not part of the port): see ``ledger.schema``."""
        pool = await self._get_pool()
        async with pool.acquire() as conn:
            schema = await conn.fetchval("SELECT current_schema()")
            columns = await conn.fetch(
                "SELECT cl.relname AS table_name, a.attname AS column_name,"
                " format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,"
                " pg_get_expr(d.adbin, d.adrelid) AS default, a.attidentity::text AS identity"
                " FROM pg_attribute AS a JOIN pg_class AS cl ON cl.oid = a.attrelid"
                " JOIN pg_namespace AS ns ON ns.oid = cl.relnamespace"
                " LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                " WHERE ns.nspname = $1 AND cl.relkind = 'r' AND a.attnum > 0"
                " AND NOT a.attisdropped ORDER BY cl.relname, a.attnum",
                schema,
            )
            constraints = await conn.fetch(
                "SELECT cl.relname AS table_name, co.conname, pg_get_constraintdef(co.oid) AS def"
                " FROM pg_constraint AS co JOIN pg_class AS cl ON cl.oid = co.conrelid"
                " JOIN pg_namespace AS ns ON ns.oid = cl.relnamespace"
                # PostgreSQL 18 lists NOT NULL as constraints too: the columns already say it
                " WHERE ns.nspname = $1 AND co.contype <> 'n' ORDER BY 1, 2",
                schema,
            )
            functions = await conn.fetch(
                "SELECT p.proname, pg_get_functiondef(p.oid) AS def FROM pg_proc AS p"
                " JOIN pg_namespace AS ns ON ns.oid = p.pronamespace"
                " WHERE ns.nspname = $1 ORDER BY 1",
                schema,
            )
            indexes = await conn.fetch(
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = $1 ORDER BY 1, 2",
                schema,
            )
        tables: dict[str, Any] = {}
        for col in columns:
            table = tables.setdefault(col["table_name"], {"columns": [], "constraints": {}})
            text = col["column_name"] + " " + col["type"] + (" NOT NULL" if col["not_null"] else "")
            if col["default"] is not None:
                text += f" DEFAULT {col['default']}"
            if col["identity"]:
                kind = {"a": "ALWAYS", "d": "BY DEFAULT"}[col["identity"]]
                text += f" GENERATED {kind} AS IDENTITY"
            table["columns"].append(text)  # a list: column order is part of the schema
        for con in constraints:
            tables[con["table_name"]]["constraints"][con["conname"]] = con["def"]
        return {
            "engine": "postgres",
            "tables": tables,
            "functions": {
                fn["proname"]: fn["def"].replace(f" {schema}.", " ").strip().splitlines()
                for fn in functions
            },
            "indexes": {
                idx["indexname"]: idx["indexdef"].replace(f" ON {schema}.", " ON ")
                for idx in indexes
            },
        }
