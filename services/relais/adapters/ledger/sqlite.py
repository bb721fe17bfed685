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
import sqlite3
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from relais.adapters.ledger import common, pauses
from relais.adapters.ledger.migrations import MigrationStatus, sqlite_statements, status
from relais.adapters.ledger.queries import queries
from relais.adapters.ledger.sqlite_connection import connect
from relais.adapters.ledger.sqlite_worker import GroupCommitWorker
from relais.domain.clock import Clock
from relais.errors import ConfigurationError
from relais.services.clock import SystemClock
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    Completion,
    FactureRecord,
    NewCommand,
    OutboxMessage,
    Reject,
)

T = TypeVar("T")

_SYNCHRONOUS = ("off", "normal", "full", "extra")

SQL = queries("sqlite")


def ts(moment: datetime) -> str:
    """The stored form of a timestamp: fixed-width UTC text, so text order is time order."""
    return common.as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)  # the "Z" suffix gives an aware UTC datetime


def _strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


# How SQLite hands back what ``common.Codec`` reads: timestamps as ``ts`` text, lists as JSON.
CODEC = common.Codec(timestamp=_parse_ts, strings=_strings, stamp=ts)


def _append_outbox(conn: sqlite3.Connection, statuses: Sequence[OutboxMessage], now: str) -> None:
    if statuses:
        conn.executemany(
            SQL["insert_outbox"],
            [
                (s.event_id, s.topic, s.key, common.headers_json(s.headers), s.value, now)
                for s in statuses
            ],
        )


def _command_values(command: NewCommand) -> dict[str, Any]:
    """The parameters of the ``insert_command`` query but ``now``."""
    return {
        "event_id": command.event_id,
        "cfa": command.cfa,
        "dossier_id": command.dossier_id,
        "opco": command.opco,
        "kind": CommandKind(command.kind).value,
        "payload": common.encode_payload(command.payload),
        "depends_on": json.dumps(list(command.depends_on)),
    }


def _accept(
    conn: sqlite3.Connection,
    values: dict[str, Any],
    statuses: Sequence[OutboxMessage],
    now: str,
) -> bool:
    inbox_row = (values["cfa"], values["event_id"], "accepted", now)
    if conn.execute(SQL["insert_inbox"], inbox_row).rowcount == 0:
        return False
    conn.execute(SQL["insert_command"], {**values, "now": now})
    _append_outbox(conn, statuses, now)
    return True


def _reject(conn: sqlite3.Connection, entry: Reject, now: str) -> bool:
    inbox_row = (entry.cfa or "", entry.event_id, "rejected", now)
    if conn.execute(SQL["insert_inbox"], inbox_row).rowcount == 0:
        return False
    _append_outbox(conn, entry.statuses, now)
    return True


def _complete(
    conn: sqlite3.Connection, command_id: int, worker: str, completion: Completion, now: str
) -> bool:
    """The lease check, the dossier and facture rows with their known etats, the statuses, and
    the dossier's next command unblocked."""
    row = conn.execute(
        SQL["complete_command"],
        (completion.state.value, completion.error, now, command_id, worker),
    ).fetchone()
    if row is None:
        return False
    cfa, opco = row["cfa"], row["opco"]
    numero_interne, numero_externe = common.dossier_numbers(completion)
    dossier = conn.execute(
        SQL["complete_dossier"],
        {
            "cfa": cfa,
            "dossier_id": row["dossier_id"],
            "opco": opco,
            "numero_interne": numero_interne,
            "numero_externe": numero_externe,
            "etat": completion.dossier_etat,
            "now": now,
            "facts": common.has_dossier_facts(completion),
            "kind": row["kind"],
            "state": completion.state.value,
        },
    ).fetchone()
    if dossier is not None and completion.dossier_etat is not None:
        _seed_etat(conn, (cfa, opco, "dossier"), dossier["numero_interne"], dossier["etat"], now)
    if completion.facture is not None:
        _complete_facture(conn, completion.facture, row["dossier_id"], now)
    _append_outbox(conn, completion.statuses, now)
    conn.execute(SQL["unblock_next"], (cfa, row["dossier_id"]))
    return True


def _complete_facture(conn: sqlite3.Connection, f: FactureRecord, dossier: str, now: str) -> None:
    values = (f.cfa, f.reference, f.opco, f.numero_interne_facture, f.etat, dossier, now, now)
    stored = conn.execute(SQL["complete_facture"], values).fetchone()
    if f.etat is not None:
        key = (f.cfa, f.opco, "facture")
        _seed_etat(conn, key, stored["numero_interne_facture"], stored["etat"], now)


def _seed_etat(
    conn: sqlite3.Connection, key: tuple[str, str, str], numero: str | None, etat: str, now: str
) -> None:
    """The etat the OPCO gave at submission is the known one (``key``: cfa, opco, kind): polling
    reports only later changes. Nothing without the OPCO's number."""
    if numero is not None:
        conn.execute(SQL["seed_etat"], (*key, numero, etat, now))


def _record_etat(
    conn: sqlite3.Connection,
    values: tuple[str, str, str, str, str],
    statuses: Sequence[OutboxMessage],
    now: str,
) -> bool:
    cfa, opco, kind, numero_interne, etat = values
    if conn.execute(SQL["record_etat"], (*values, now)).rowcount == 0:
        return False
    linked = "record_dossier_etat" if kind == "dossier" else "record_facture_etat"
    conn.execute(SQL[linked], (etat, now, opco, numero_interne, cfa))
    _append_outbox(conn, statuses, now)
    return True


@common.translate_errors(sqlite3.Error, OSError)
class SqliteLedger(common.LedgerReads, pauses.LedgerPauses):
    """``Ledger`` on one SQLite file (or ``:memory:``). Its SQL is in ``queries/sqlite.sql``."""

    engine = "sqlite"
    codec = CODEC

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "full",
        busy_timeout_ms: int = 5000,
        clock: Clock | None = None,
    ) -> None:
        if synchronous.lower() not in _SYNCHRONOUS:
            raise ConfigurationError(f"sqlite synchronous must be one of {_SYNCHRONOUS}")
        self.path = path
        self._synchronous = synchronous.upper()
        self._busy_timeout_ms = busy_timeout_ms
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._closed = False
        self._worker = GroupCommitWorker(self._open, name="relais-ledger-sqlite")

    # -- plumbing -------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The one connection (called on the worker thread, at the first job)."""
        return connect(
            self.path, synchronous=self._synchronous, busy_timeout_ms=self._busy_timeout_ms
        )

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` atomically on the worker thread; return once it is committed."""
        if self._closed:
            raise RuntimeError("the ledger is closed")
        result: T = await self._worker.submit(fn)
        return result

    def _now(self) -> str:
        return ts(self._clock.now())

    async def _rows(self, query: str, *params: Any) -> list[sqlite3.Row]:
        sql = SQL[query]
        return await self._run(lambda conn: conn.execute(sql, params).fetchall())

    async def _chain(self, steps: pauses.Steps) -> list[Any]:
        return await self._run(
            lambda conn: pauses.chain(lambda q, p: conn.execute(SQL[q], p).fetchall(), steps)
        )

    # -- lifecycle ------------------------------------------------------------------------------

    async def migrate(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(SQL["create_schema_migrations"])
            applied = dict(conn.execute(SQL["applied_migrations"]).fetchall())
            for migration in common.migrations_to_apply("sqlite", applied):
                for statement in sqlite_statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    SQL["record_migration"],
                    (migration.version, migration.name, migration.checksum, self._now()),
                )

        await self._run(run)

    async def migration_status(self) -> MigrationStatus:
        """Applied and pending migrations, changing nothing (``relais migrate --check``)."""

        def run(conn: sqlite3.Connection) -> MigrationStatus:
            applied: dict[int, str] = {}
            if conn.execute(SQL["schema_migrations_exists"]).fetchone():
                applied = dict(conn.execute(SQL["applied_migrations"]).fetchall())
            return status("sqlite", applied)

        return await self._run(run)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # refuse new calls; the queued ones run first
        await asyncio.get_running_loop().run_in_executor(None, self._worker.stop)

    # -- ingest -------------------------------------------------------------------------------

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
                else _reject(conn, entry, now)
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
            return [CODEC.command(row) for row in conn.execute(SQL["claim"], params).fetchall()]

        commands = await self._run(run)
        commands.sort(key=lambda c: c.id)
        return commands

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        common.check_completion(completion)
        return await self._run(
            lambda conn: _complete(conn, command_id, worker, completion, self._now())
        )

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
                SQL["reschedule"],
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
            return conn.execute(SQL["release"], (self._now(), worker)).rowcount

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
        values = (cfa, opco, kind, numero_interne, etat)
        return await self._run(lambda conn: _record_etat(conn, values, statuses, self._now()))

    # -- relay --------------------------------------------------------------------------------

    async def republish(self, events: Sequence[tuple[str, str]]) -> int:
        rows = [(cfa, event_id, common.ETAT_CHANGED_TYPE) for cfa, event_id in events]
        sql = SQL["republish"]
        return await self._run(lambda conn: sum(conn.execute(sql, r).rowcount for r in rows))

    async def mark_published(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        values = [(int(seq),) for seq in seqs]

        def run(conn: sqlite3.Connection) -> None:
            now = self._now()
            conn.executemany(SQL["mark_published"], [(now, seq) for (seq,) in values])

        await self._run(run)

    async def set_aside(self, seq: int, reason: str) -> None:
        values = (self._now(), reason, int(seq))
        await self._run(lambda conn: conn.execute(SQL["set_aside"], values))
