"""The ledger on SQLite: the embedded default, for one process.

One connection, owned by one worker thread (``sqlite_worker``): every method runs as one function
on that thread, atomically (a savepoint), serialized (SQLite has one writer anyway), committed with
the other methods waiting at that moment (group commit: one fsync for a burst), and the event loop
never blocks. Transactions use ``BEGIN IMMEDIATE``, which takes the write lock at once: another
process on the same file (``relais dossier show`` next to ``relais run``) waits up to
``busy_timeout`` instead of failing half-way through a transaction.

Journal: WAL (readers never block the writer). ``synchronous`` defaults to FULL: with WAL, NORMAL
survives a crash of the process but may lose the last transactions on a power cut or kernel crash,
after ingest has already committed their Kafka offsets, which would break promise 1 (no event lost).
Group commit keeps FULL affordable; ``?synchronous=normal`` in the URL trades durability for speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from relais.adapters.ledger import common
from relais.adapters.ledger.migrations import MigrationStatus, load, status
from relais.adapters.ledger.sqlite_worker import GroupCommitWorker
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

T = TypeVar("T")

_SYNCHRONOUS = ("off", "normal", "full", "extra")

_COMMAND_COLUMNS = (
    "id, event_id, cfa, dossier_id, opco, kind, payload, depends_on, state, attempts,"
    " created_at, next_attempt_at, last_error, ambiguous"
)

_DOSSIER_COLUMNS = "cfa, dossier_id, opco, numero_interne, numero_externe, etat, updated_at"

_INSERT_OUTBOX = (
    "INSERT INTO outbox (event_id, topic, key, headers, value, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)

# The oldest open command of each dossier, when due: pending and due, or in flight under an expired
# lease (its worker crashed). Never a command with an older open one in its dossier (FIFO).
_CLAIM = f"""
UPDATE commands SET
    ambiguous = CASE WHEN state = 'in_flight' THEN 1 ELSE ambiguous END,
    state = 'in_flight', locked_by = :worker, locked_until = :until, updated_at = :now
WHERE id IN (
    SELECT id FROM (
        SELECT c.id, c.next_attempt_at AS due FROM commands AS c
        WHERE c.state = 'pending' AND c.blocked = 0 AND c.next_attempt_at <= :now
          AND c.opco NOT IN (SELECT value FROM json_each(:exclude))
          AND NOT EXISTS (
            SELECT 1 FROM commands AS o
            WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
              AND o.state IN ('pending', 'in_flight'))
        ORDER BY c.next_attempt_at, c.id LIMIT :limit)
    UNION ALL
    SELECT id FROM (
        SELECT c.id, c.locked_until AS due FROM commands AS c
        WHERE c.state = 'in_flight' AND c.locked_until <= :now
          AND c.opco NOT IN (SELECT value FROM json_each(:exclude))
          AND NOT EXISTS (
            SELECT 1 FROM commands AS o
            WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
              AND o.state IN ('pending', 'in_flight'))
        ORDER BY c.locked_until LIMIT :limit)
    LIMIT :limit)
RETURNING {_COMMAND_COLUMNS}
"""


_UNBLOCK_NEXT = """
UPDATE commands SET blocked = 0
WHERE id = (
    SELECT id FROM commands
    WHERE cfa = ? AND dossier_id = ? AND state IN ('pending', 'in_flight')
    ORDER BY id
    LIMIT 1)
  AND blocked = 1
"""


def ts(moment: datetime) -> str:
    """The stored form of a timestamp: fixed-width UTC text, so text order is time order."""
    return common.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the "Z" suffix gives an aware UTC datetime


def _command(row: sqlite3.Row) -> Command:
    return Command(
        id=row["id"],
        event_id=row["event_id"],
        cfa=row["cfa"],
        dossier_id=row["dossier_id"],
        opco=row["opco"],
        kind=CommandKind(row["kind"]),
        payload=command_payload.decode(row["payload"]),
        depends_on=tuple(json.loads(row["depends_on"])),
        state=CommandState(row["state"]),
        attempts=row["attempts"],
        created_at=_parse_ts(row["created_at"]),
        next_attempt_at=_parse_ts(row["next_attempt_at"]),
        last_error=row["last_error"],
        ambiguous=bool(row["ambiguous"]),
    )


def _dossier(row: sqlite3.Row) -> DossierRecord:
    return DossierRecord(
        cfa=row["cfa"],
        dossier_id=row["dossier_id"],
        opco=row["opco"],
        numero_interne=row["numero_interne"],
        numero_externe=row["numero_externe"],
        etat=row["etat"],
        updated_at=_parse_ts(row["updated_at"]),
    )


def _append_outbox(conn: sqlite3.Connection, statuses: Sequence[OutboxMessage], now: str) -> None:
    if statuses:
        conn.executemany(
            _INSERT_OUTBOX,
            [
                (s.event_id, s.topic, s.key, common.headers_json(s.headers), s.value, now)
                for s in statuses
            ],
        )


# The inbox key is (cfa, event_id); cfa '' for a record whose CFA is not established.
_INSERT_INBOX = (
    "INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (cfa, event_id) DO NOTHING"
)

# blocked: behind an older open command of its dossier (FIFO; claim skips it until complete
# unblocks it). Earlier commands of the same batch are rows of this transaction: seen here.
_INSERT_COMMAND = (
    "INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on,"
    " state, attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)"
    " VALUES (:event_id, :cfa, :dossier_id, :opco, :kind, :payload, :depends_on, 'pending', 0,"
    " :now, :now, :now, 0, EXISTS ("
    "  SELECT 1 FROM commands WHERE cfa = :cfa AND dossier_id = :dossier_id"
    "  AND state IN ('pending', 'in_flight')))"
)


def _command_values(command: NewCommand) -> dict[str, Any]:
    """The parameters of ``_INSERT_COMMAND`` but ``now``."""
    return {
        "event_id": command.event_id,
        "cfa": command.cfa,
        "dossier_id": command.dossier_id,
        "opco": command.opco,
        "kind": CommandKind(command.kind).value,
        "payload": command_payload.encode(command.payload),
        "depends_on": json.dumps(list(command.depends_on)),
    }


def _accept(
    conn: sqlite3.Connection,
    values: dict[str, Any],
    statuses: Sequence[OutboxMessage],
    now: str,
) -> bool:
    inbox_row = (values["cfa"], values["event_id"], "accepted", now)
    if conn.execute(_INSERT_INBOX, inbox_row).rowcount == 0:
        return False
    conn.execute(_INSERT_COMMAND, {**values, "now": now})
    _append_outbox(conn, statuses, now)
    return True


def _reject(
    conn: sqlite3.Connection,
    event_id: str,
    statuses: Sequence[OutboxMessage],
    now: str,
    cfa: str | None = None,
) -> bool:
    if conn.execute(_INSERT_INBOX, (cfa or "", event_id, "rejected", now)).rowcount == 0:
        return False
    _append_outbox(conn, statuses, now)
    return True


def _seed_etat(
    conn: sqlite3.Connection, cfa: str, opco: str, kind: str, numero: str, etat: str, now: str
) -> None:
    """What the OPCO told us at submission is the known etat: polling reports only later changes."""
    conn.execute(
        "INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (cfa, opco, kind, numero)"
        " DO UPDATE SET etat = excluded.etat, updated_at = excluded.updated_at",
        (cfa, opco, kind, numero, etat, now),
    )


@common.translate_errors(sqlite3.Error, OSError)
class SqliteLedger:
    """``Ledger`` on one SQLite file (or ``:memory:``)."""

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "full",
        busy_timeout_ms: int = 5000,
        clock: common.Clock = common.utc_now,
    ) -> None:
        if synchronous.lower() not in _SYNCHRONOUS:
            raise ConfigurationError(f"sqlite synchronous must be one of {_SYNCHRONOUS}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        self._clock = clock
        self._closed = False
        self._worker = GroupCommitWorker(self._open, name="relais-ledger-sqlite")

    # -- plumbing -------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The one connection (called on the worker thread, at the first job)."""
        if self.path != ":memory:":
            _private_files(Path(self.path))
        conn = sqlite3.connect(self.path, isolation_level=None, cached_statements=256)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        self._enable_wal(conn)
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switching a fresh file to WAL needs a moment alone with it, and SQLite answers "locked"
        at once (busy_timeout does not apply) when another connection opens it at the same time:
        retry within the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.02)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` atomically on the worker thread; return once it is committed."""
        if self._closed:
            raise RuntimeError("the ledger is closed")
        result: T = await self._worker.submit(fn)
        return result

    def _now(self) -> str:
        return ts(self._clock())

    # -- lifecycle ------------------------------------------------------------------------------

    async def migrate(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
                " applied_at TEXT NOT NULL) STRICT"
            )
            applied = {
                row["version"]: row["checksum"]
                for row in conn.execute("SELECT version, checksum FROM schema_migrations")
            }
            for migration in load("sqlite"):
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise ConfigurationError(
                            f"ledger migration {migration.version:04d}_{migration.name} was "
                            "changed after it was applied: add a new migration instead"
                        )
                    continue
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                    " VALUES (?, ?, ?, ?)",
                    (migration.version, migration.name, migration.checksum, self._now()),
                )

        await self._run(run)

    async def migration_status(self) -> MigrationStatus:
        """Applied and pending migrations, changing nothing (``relais migrate --check``)."""

        def run(conn: sqlite3.Connection) -> MigrationStatus:
            exists = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
            applied: dict[int, str] = {}
            if exists:
                applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations"))
            return status("sqlite", applied)

        return await self._run(run)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # refuse new calls; the queued ones run first
        await asyncio.get_running_loop().run_in_executor(None, self._worker.stop)

    # -- ingest -------------------------------------------------------------------------------

    async def accept(self, command: NewCommand, statuses: Sequence[OutboxMessage]) -> bool:
        row = _command_values(command)
        return await self._run(lambda conn: _accept(conn, row, statuses, self._now()))

    async def reject(
        self, event_id: str, statuses: Sequence[OutboxMessage], cfa: str | None = None
    ) -> bool:
        return await self._run(lambda conn: _reject(conn, event_id, statuses, self._now(), cfa))

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        """One job on the worker thread: the entries one by one, in one savepoint and commit."""
        if not entries:
            return []
        batch = list(entries)

        def run(conn: sqlite3.Connection) -> list[bool]:
            now = self._now()
            return [
                _accept(conn, _command_values(entry.command), entry.statuses, now)
                if isinstance(entry, Accept)
                else _reject(conn, entry.event_id, entry.statuses, now, entry.cfa)
                for entry in batch
            ]

        return await self._run(run)

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
        params = {
            "worker": worker,
            "limit": limit,
            "now": ts(now),
            "until": ts(now + lease),
            "exclude": json.dumps(sorted(set(exclude_opcos))),
        }

        def run(conn: sqlite3.Connection) -> list[Command]:
            return [_command(row) for row in conn.execute(_CLAIM, params).fetchall()]

        commands = await self._run(run)
        commands.sort(key=lambda c: c.id)
        return commands

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        common.check_completion(completion)
        numero_interne, numero_externe = common.dossier_numbers(completion)
        facture = completion.facture

        def run(conn: sqlite3.Connection) -> bool:
            now = self._now()
            row = conn.execute(
                "UPDATE commands SET state = ?, last_error = ?, locked_by = NULL,"
                " locked_until = NULL, updated_at = ?"
                " WHERE id = ? AND locked_by = ? AND state = 'in_flight'"
                " RETURNING cfa, dossier_id, opco, kind",
                (completion.state.value, completion.error, now, command_id, worker),
            ).fetchone()
            if row is None:
                return False
            cfa, opco = row["cfa"], row["opco"]
            if common.touches_dossier(row["kind"], completion):
                dossier = conn.execute(
                    "INSERT INTO dossiers (cfa, dossier_id, opco, numero_interne, numero_externe,"
                    " etat, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (cfa, dossier_id) DO UPDATE SET opco = excluded.opco,"
                    " numero_interne = coalesce(excluded.numero_interne, numero_interne),"
                    " numero_externe = coalesce(excluded.numero_externe, numero_externe),"
                    " etat = coalesce(excluded.etat, etat), updated_at = excluded.updated_at"
                    " RETURNING numero_interne, etat",
                    (
                        cfa,
                        row["dossier_id"],
                        opco,
                        numero_interne,
                        numero_externe,
                        completion.dossier_etat,
                        now,
                        now,
                    ),
                ).fetchone()
                if completion.dossier_etat is not None and dossier["numero_interne"] is not None:
                    _seed_etat(
                        conn, cfa, opco, "dossier", dossier["numero_interne"], dossier["etat"], now
                    )
            if facture is not None:
                stored = conn.execute(
                    "INSERT INTO factures (cfa, reference, opco, numero_interne_facture, etat,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (cfa, reference) DO UPDATE SET opco = excluded.opco,"
                    " numero_interne_facture ="
                    " coalesce(excluded.numero_interne_facture, numero_interne_facture),"
                    " etat = coalesce(excluded.etat, etat), updated_at = excluded.updated_at"
                    " RETURNING numero_interne_facture, etat",
                    (
                        facture.cfa,
                        facture.reference,
                        facture.opco,
                        facture.numero_interne_facture,
                        facture.etat,
                        now,
                        now,
                    ),
                ).fetchone()
                if facture.etat is not None and stored["numero_interne_facture"] is not None:
                    _seed_etat(
                        conn,
                        facture.cfa,
                        facture.opco,
                        "facture",
                        stored["numero_interne_facture"],
                        stored["etat"],
                        now,
                    )
            _append_outbox(conn, completion.statuses, now)
            # the dossier's next command is its head now
            conn.execute(_UNBLOCK_NEXT, (cfa, row["dossier_id"]))
            return True

        return await self._run(run)

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
        def run(conn: sqlite3.Connection) -> bool:
            now = self._now()
            changed = conn.execute(
                "UPDATE commands SET state = 'pending', next_attempt_at = ?,"
                " attempts = attempts + ?, last_error = ?, ambiguous = ?,"
                " locked_by = NULL, locked_until = NULL, updated_at = ?"
                " WHERE id = ? AND locked_by = ? AND state = 'in_flight'",
                (
                    ts(next_attempt_at),
                    1 if count_attempt else 0,
                    error,
                    1 if ambiguous else 0,
                    now,
                    command_id,
                    worker,
                ),
            )
            if changed.rowcount == 0:
                return False
            _append_outbox(conn, statuses, now)
            return True

        return await self._run(run)

    async def release(self, worker: str) -> int:
        def run(conn: sqlite3.Connection) -> int:
            released = conn.execute(
                "UPDATE commands SET state = 'pending', locked_by = NULL, locked_until = NULL,"
                " updated_at = ? WHERE locked_by = ? AND state = 'in_flight'",
                (self._now(), worker),
            )
            return released.rowcount

        return await self._run(run)

    # -- lookups ------------------------------------------------------------------------------

    async def dossier(self, cfa: str, dossier_id: str) -> DossierRecord | None:
        def run(conn: sqlite3.Connection) -> DossierRecord | None:
            row = conn.execute(
                f"SELECT {_DOSSIER_COLUMNS} FROM dossiers WHERE cfa = ? AND dossier_id = ?",
                (cfa, dossier_id),
            ).fetchone()
            return None if row is None else _dossier(row)

        return await self._run(run)

    async def dossier_by_numero(self, opco: str, numero_interne: str) -> DossierRecord | None:
        def run(conn: sqlite3.Connection) -> DossierRecord | None:
            row = conn.execute(
                f"SELECT {_DOSSIER_COLUMNS} FROM dossiers WHERE opco = ? AND numero_interne = ?"
                " ORDER BY updated_at DESC LIMIT 1",
                (opco, numero_interne),
            ).fetchone()
            return None if row is None else _dossier(row)

        return await self._run(run)

    async def has_open_command(self, cfa: str, dossier_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM commands WHERE cfa = ? AND dossier_id = ?"
                " AND state IN ('pending', 'in_flight'))",
                (cfa, dossier_id),
            ).fetchone()
            return bool(row[0])

        return await self._run(run)

    async def facture(self, cfa: str, reference: str) -> FactureRecord | None:
        def run(conn: sqlite3.Connection) -> FactureRecord | None:
            row = conn.execute(
                "SELECT cfa, reference, opco, numero_interne_facture, etat FROM factures"
                " WHERE cfa = ? AND reference = ?",
                (cfa, reference),
            ).fetchone()
            return None if row is None else FactureRecord(**dict(row))

        return await self._run(run)

    async def commands_for(self, cfa: str, dossier_id: str) -> list[Command]:
        def run(conn: sqlite3.Connection) -> list[Command]:
            rows = conn.execute(
                f"SELECT {_COMMAND_COLUMNS} FROM commands WHERE cfa = ? AND dossier_id = ?"
                " ORDER BY id",
                (cfa, dossier_id),
            ).fetchall()
            return [_command(row) for row in rows]

        return await self._run(run)

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

        def run(conn: sqlite3.Connection) -> bool:
            now = self._now()
            changed = conn.execute(
                "INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cfa, opco, kind, numero)"
                " DO UPDATE SET etat = excluded.etat, updated_at = excluded.updated_at"
                " WHERE etat IS NOT excluded.etat",
                (cfa, opco, kind, numero_interne, etat, now),
            )
            if changed.rowcount == 0:
                return False
            if kind == "dossier":
                conn.execute(
                    "UPDATE dossiers SET etat = ?, updated_at = ?"
                    " WHERE opco = ? AND numero_interne = ? AND cfa = ?",
                    (etat, now, opco, numero_interne, cfa),
                )
            else:
                conn.execute(
                    "UPDATE factures SET etat = ?, updated_at = ?"
                    " WHERE opco = ? AND numero_interne_facture = ? AND cfa = ?",
                    (etat, now, opco, numero_interne, cfa),
                )
            _append_outbox(conn, statuses, now)
            return True

        return await self._run(run)

    # -- relay --------------------------------------------------------------------------------

    async def outbox_batch(self, limit: int) -> list[OutboxRecord]:
        def run(conn: sqlite3.Connection) -> list[OutboxRecord]:
            rows = conn.execute(
                "SELECT seq, event_id, topic, key, headers, value FROM outbox"
                " WHERE published_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                OutboxRecord(
                    seq=row["seq"],
                    message=OutboxMessage(
                        event_id=row["event_id"],
                        key=row["key"],
                        headers=json.loads(row["headers"]),
                        value=bytes(row["value"]),
                        topic=row["topic"],
                    ),
                )
                for row in rows
            ]

        return await self._run(run)

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        values = [(int(seq),) for seq in seqs]

        def run(conn: sqlite3.Connection) -> None:
            now = self._now()
            conn.executemany(
                "UPDATE outbox SET published_at = ? WHERE seq = ? AND published_at IS NULL",
                [(now, seq) for (seq,) in values],
            )

        await self._run(run)

    async def set_aside(self, seq: int, reason: str) -> None:
        values = (self._now(), reason, int(seq))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE outbox SET published_at = ?, set_aside = ?"
                " WHERE seq = ? AND published_at IS NULL",
                values,
            )

        await self._run(run)

    # -- operations ---------------------------------------------------------------------------

    async def counts(self) -> Mapping[str, int]:
        def run(conn: sqlite3.Connection) -> dict[str, int]:
            result = {state.value: 0 for state in CommandState}
            for row in conn.execute(common.COUNTS_QUERY):
                result[row["name"]] = row["n"]
            return result

        return await self._run(run)

    async def describe_schema(self) -> dict[str, Any]:
        """The schema as the database has it (not part of the port): see ``ledger.schema``."""

        def run(conn: sqlite3.Connection) -> dict[str, Any]:
            rows = conn.execute(
                "SELECT type, name, sql FROM sqlite_master"
                " WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY type, name"
            ).fetchall()
            return {
                "engine": "sqlite",
                "objects": {
                    f"{row['type']} {row['name']}": " ".join(row["sql"].split()) for row in rows
                },
            }

        return await self._run(run)


def _statements(script: str) -> list[str]:
    """Split a SQL script into statements (``sqlite3.complete_statement`` knows triggers)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement.rstrip(";").strip() and not _only_comments(statement):
                statements.append(statement)
            buffer = ""
    if buffer.strip() and not _only_comments(buffer):
        raise ValueError("incomplete SQL statement at the end of a migration")
    return statements


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())


def _private_files(path: Path) -> None:
    """The ledger file (NIRs, IBANs inside) readable by its owner only: created 0600 before SQLite
    opens it (SQLite gives its -wal and -shm files the database file's mode), and an existing
    looser file, or companion, tightened."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except FileNotFoundError:
            continue
