"""In-memory fakes of the service ports (Ledger, OpcoGateway), checked against the Protocols.

``FakeLedger`` keeps the promises the ``Ledger`` Protocol states (FIFO per dossier, one claim per
dossier at a time, leases, outcome + statuses in one step, compare-and-set etats); ``FakeGateway``
is a tiny OPCO that creates things, detects duplicates by natural key, and can be told to fail the
next call of a route (before or after applying it: "stored but response lost").
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from relais.adapters.ledger.common import (
    OUTBOX_BACKLOG,
    check_completion,
    check_etat_kind,
    has_dossier_facts,
)
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import Quirks, RouteName
from relais.domain.status_kinds import StatusName
from relais.errors import MissingCredentialsError, NotSupportedError
from relais.services import command_payload
from relais.services.clock import Clock
from relais.services.files_port import FileSource
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    CommandState,
    Completion,
    DossierRecord,
    FactureRecord,
    HeldCommand,
    Ledger,
    NewCommand,
    OpcoPause,
    OutboxMessage,
    OutboxRecord,
    Reject,
)
from relais.services.opco_port import (
    Created,
    DossierEtat,
    DossierNaturalKey,
    FactureEtat,
    KeyInfo,
    OpcoGateway,
)

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return (self.current - T0).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class _Row:
    command: Command
    worker: str | None = None
    lease_until: datetime | None = None
    held_note: int | None = None  # the pause whose "waiting" note this command had


class FakeLedger:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or ManualClock()
        self.inbox: set[tuple[str, str]] = set()  # (cfa, event id); cfa "" when not established
        self.rows: list[_Row] = []
        self.outbox: list[OutboxRecord] = []
        self.published: set[int] = set()
        self.set_aside_rows: dict[int, str] = {}  # seq -> reason
        self.dossiers: dict[tuple[str, str], DossierRecord] = {}
        self.factures: dict[tuple[str, str], FactureRecord] = {}
        self.etats: dict[tuple[str, str, str, str], str] = {}  # (cfa, opco, kind, numero)
        self.completions: dict[int, Completion] = {}
        self.reschedules: list[tuple[int, datetime, str, bool, bool]] = []
        self.claims: list[frozenset[str]] = []  # the OPCOs each claim excluded
        self.pauses: dict[str, OpcoPause] = {}
        self._outbox_ids: set[str] = set()  # a status id is enqueued once, ever
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the ledger is closed")

    # -- lifecycle
    async def migrate(self) -> None:
        self._check_open()

    async def ping(self) -> None:
        self._check_open()

    async def close(self) -> None:
        self._closed = True

    # -- intake
    def _enqueue(self, statuses: Sequence[OutboxMessage]) -> None:
        for message in statuses:
            if message.event_id in self._outbox_ids:
                continue
            self._outbox_ids.add(message.event_id)
            self.outbox.append(OutboxRecord(seq=next(self._seq), message=message))

    async def _accept(self, command: NewCommand, statuses: Sequence[OutboxMessage]) -> bool:
        self._check_open()
        if (command.cfa, command.event_id) in self.inbox:
            return False
        self.inbox.add((command.cfa, command.event_id))
        now = self.clock.now()
        row = Command(
            id=next(self._ids),
            event_id=command.event_id,
            cfa=command.cfa,
            dossier_id=command.dossier_id,
            opco=command.opco,
            kind=command.kind,
            payload=command_payload.decode(command_payload.encode(command.payload)),
            depends_on=tuple(command.depends_on),
            state=CommandState.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            last_error=None,
            ambiguous=False,
        )
        self.rows.append(_Row(row))
        self._enqueue(statuses)
        return True

    async def _reject(
        self, event_id: str, statuses: Sequence[OutboxMessage], cfa: str | None = None
    ) -> bool:
        self._check_open()
        if (cfa or "", event_id) in self.inbox:
            return False
        self.inbox.add((cfa or "", event_id))
        self._enqueue(statuses)
        return True

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        self._check_open()
        results = []
        for entry in entries:  # nothing here can fail half-way: one by one is all or nothing
            if isinstance(entry, Accept):
                results.append(await self._accept(entry.command, entry.statuses))
            else:
                results.append(await self._reject(entry.event_id, entry.statuses, entry.cfa))
        return results

    # -- dispatch
    def _open(self, row: _Row) -> bool:
        return row.command.state in (CommandState.PENDING, CommandState.IN_FLIGHT)

    async def claim(
        self,
        worker: str,
        limit: int,
        now: datetime,
        lease: timedelta,
        exclude_opcos: Collection[str] = (),
    ) -> list[Command]:
        self._check_open()
        self.claims.append(frozenset(exclude_opcos))
        if limit <= 0:
            return []
        heads: dict[tuple[str, str], _Row] = {}
        for row in self.rows:  # rows are in insertion (= publication) order
            key = (row.command.cfa, row.command.dossier_id)
            if key not in heads and self._open(row):
                heads[key] = row
        # As the engines do: expired leases first (oldest lease first), then due commands (by
        # next_attempt_at, then id); a dossier's head stays its head whatever the exclusions.
        expired = sorted(
            (
                r
                for r in heads.values()
                if r.command.state is CommandState.IN_FLIGHT
                and r.lease_until is not None
                and r.lease_until <= now
                and r.command.opco not in exclude_opcos
                and not self._paused(r.command.opco, now)
            ),
            key=lambda r: (r.lease_until, r.command.id),
        )
        due = sorted(
            (
                r
                for r in heads.values()
                if r.command.state is CommandState.PENDING
                and r.command.next_attempt_at <= now
                and r.command.opco not in exclude_opcos
                and not self._paused(r.command.opco, now)
            ),
            key=lambda r: (r.command.next_attempt_at, r.command.id),
        )
        claimed: list[Command] = []
        for row in (*expired, *due)[:limit]:
            cmd = row.command
            if cmd.state is CommandState.IN_FLIGHT:
                # The lease expired: the previous holder may have reached the OPCO.
                cmd = replace(cmd, ambiguous=True)
            row.command = replace(cmd, state=CommandState.IN_FLIGHT)
            row.worker = worker
            row.lease_until = now + lease
            claimed.append(row.command)
        return sorted(claimed, key=lambda c: c.id)

    def _held(self, command_id: int, worker: str) -> _Row | None:
        for row in self.rows:
            if row.command.id == command_id:
                held = row.command.state is CommandState.IN_FLIGHT and row.worker == worker
                return row if held else None
        return None

    async def complete(self, command_id: int, worker: str, completion: Completion) -> bool:
        self._check_open()
        check_completion(completion)
        row = self._held(command_id, worker)
        if row is None:
            return False
        cmd = row.command
        row.command = replace(cmd, state=completion.state, last_error=completion.error)
        row.worker = None
        row.lease_until = None
        self.completions[command_id] = completion
        # the engines' rule: dossier facts, or the dossier just created
        created = cmd.kind == CommandKind.DOSSIER and completion.state == CommandState.DONE
        if has_dossier_facts(completion) or created:
            old = self.dossiers.get((cmd.cfa, cmd.dossier_id))
            dossier = DossierRecord(
                cfa=cmd.cfa,
                dossier_id=cmd.dossier_id,
                opco=cmd.opco,
                numero_interne=completion.dossier_ids.get(
                    "numeroInterne", old.numero_interne if old else None
                ),
                numero_externe=completion.dossier_ids.get(
                    "numeroExterne", old.numero_externe if old else None
                ),
                etat=completion.dossier_etat or (old.etat if old else None),
                updated_at=self.clock.now(),
            )
            self.dossiers[(cmd.cfa, cmd.dossier_id)] = dossier
            if completion.dossier_etat is not None and dossier.numero_interne is not None:
                # what the OPCO said at submission is known: polling reports later changes only
                key = (cmd.cfa, cmd.opco, "dossier", dossier.numero_interne)
                self.etats[key] = completion.dossier_etat
        if completion.facture is not None:
            f = completion.facture
            old_f = self.factures.get((f.cfa, f.reference))
            stored = replace(
                f,
                numero_interne_facture=f.numero_interne_facture
                or (old_f.numero_interne_facture if old_f else None),
                etat=f.etat or (old_f.etat if old_f else None),
                dossier_id=(old_f.dossier_id if old_f else None) or cmd.dossier_id,
            )
            self.factures[(f.cfa, f.reference)] = stored
            if stored.etat is not None and stored.numero_interne_facture is not None:
                key = (f.cfa, f.opco, "facture", stored.numero_interne_facture)
                self.etats[key] = stored.etat
        self._enqueue(completion.statuses)
        return True

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
        self._check_open()
        row = self._held(command_id, worker)
        if row is None:
            return False
        cmd = row.command
        row.command = replace(
            cmd,
            state=CommandState.PENDING,
            next_attempt_at=next_attempt_at,
            last_error=error,
            ambiguous=ambiguous,
            attempts=cmd.attempts + (1 if count_attempt else 0),
        )
        row.worker = None
        row.lease_until = None
        self.reschedules.append((command_id, next_attempt_at, error, ambiguous, count_attempt))
        self._enqueue(statuses)
        return True

    async def release(self, worker: str) -> int:
        self._check_open()
        n = 0
        for row in self.rows:
            if row.worker == worker and row.command.state is CommandState.IN_FLIGHT:
                row.command = replace(row.command, state=CommandState.PENDING)
                row.worker = None
                row.lease_until = None
                n += 1
        return n

    # -- reads
    async def dossier(self, cfa: str, dossier_id: str) -> DossierRecord | None:
        self._check_open()
        return self.dossiers.get((cfa, dossier_id))

    async def dossier_by_numero(self, opco: str, numero_interne: str) -> DossierRecord | None:
        self._check_open()
        found = [
            record
            for record in self.dossiers.values()
            if record.opco == opco and record.numero_interne == numero_interne
        ]
        return max(found, key=lambda r: r.updated_at) if found else None

    async def has_open_command(self, cfa: str, dossier_id: str) -> bool:
        self._check_open()
        return any(
            self._open(r) and r.command.cfa == cfa and r.command.dossier_id == dossier_id
            for r in self.rows
        )

    async def facture(self, cfa: str, reference: str) -> FactureRecord | None:
        self._check_open()
        return self.factures.get((cfa, reference))

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
        self._check_open()
        check_etat_kind(kind)
        key = (cfa, opco, kind, numero_interne)
        if self.etats.get(key) == etat:
            return False
        self.etats[key] = etat
        if kind == "dossier":
            for k, record in self.dossiers.items():
                if (record.cfa, record.opco, record.numero_interne) == (cfa, opco, numero_interne):
                    self.dossiers[k] = replace(record, etat=etat)
        else:
            for k, f in self.factures.items():
                if (f.cfa, f.opco, f.numero_interne_facture) == (cfa, opco, numero_interne):
                    self.factures[k] = replace(f, etat=etat)
        self._enqueue(statuses)
        return True

    async def outbox_batch(self, limit: int) -> list[OutboxRecord]:
        self._check_open()
        return [r for r in self.outbox if r.seq not in self.published][:limit]

    async def republish(self, events: Sequence[tuple[str, str]]) -> int:
        self._check_open()
        count = 0
        for cfa, event_id in events:
            mine = [
                r
                for r in self.outbox
                if r.message.headers.get("ce_cfa", "") == cfa
                and r.message.headers.get("ce_correlationid") == event_id
                and r.message.headers.get("ce_type") != StatusName.ETAT_CHANGED.event_type
            ]
            if mine and mine[-1].seq in self.published and mine[-1].seq not in self.set_aside_rows:
                self.published.discard(mine[-1].seq)
                count += 1
        return count

    async def mark_published(self, seqs: Sequence[int]) -> None:
        self._check_open()
        self.published.update(seqs)

    async def set_aside(self, seq: int, reason: str) -> None:
        if seq not in self.published:
            self.published.add(seq)
            self.set_aside_rows[seq] = reason

    async def commands_for(self, cfa: str, dossier_id: str) -> list[Command]:
        self._check_open()
        return [
            r.command
            for r in self.rows
            if r.command.cfa == cfa and r.command.dossier_id == dossier_id
        ]

    async def counts(self) -> Mapping[str, int]:
        self._check_open()
        out = {state.value: 0 for state in CommandState}
        for row in self.rows:
            out[row.command.state.value] += 1
        out[OUTBOX_BACKLOG] = len(self.outbox) - len(self.published)
        return out

    # -- pauses
    def _paused(self, opco: str, now: datetime) -> bool:
        pause = self.pauses.get(opco)
        return pause is not None and pause.active(now)

    async def pause_opco(
        self, opco: str, *, until: datetime | None, reason: str | None
    ) -> OpcoPause:
        self._check_open()
        now = self.clock.now()
        old = self.pauses.get(opco)
        if old is not None and old.active(now):
            pause = replace(old, until=until, reason=reason)
        else:
            pause_id = 1 if old is None else old.pause_id + 1
            pause = OpcoPause(opco, pause_id, now, until, reason, resumed_at=None)
        self.pauses[opco] = pause
        return pause

    async def resume_opco(self, opco: str) -> bool:
        self._check_open()
        now = self.clock.now()
        old = self.pauses.get(opco)
        if old is None or old.resumed_at is not None:
            return False
        self.pauses[opco] = replace(old, resumed_at=now)
        return old.active(now)

    async def opco_pauses(self) -> list[OpcoPause]:
        self._check_open()
        return [self.pauses[opco] for opco in sorted(self.pauses)]

    async def held_commands(self, now: datetime, limit: int) -> list[HeldCommand]:
        self._check_open()
        held = []
        for row in sorted(self.rows, key=lambda r: r.command.id):
            pause = self.pauses.get(row.command.opco)
            if (
                pause is not None
                and pause.active(now)
                and row.command.state is CommandState.PENDING
                and row.held_note != pause.pause_id
            ):
                held.append(HeldCommand(row.command, pause.pause_id, pause.until))
        return held[: max(limit, 0)]

    async def note_held(
        self, command_id: int, pause_id: int, statuses: Sequence[OutboxMessage]
    ) -> bool:
        self._check_open()
        for row in self.rows:
            if row.command.id == command_id:
                if row.command.state is not CommandState.PENDING or row.held_note == pause_id:
                    return False
                row.held_note = pause_id
                self._enqueue(statuses)
                return True
        return False

    # -- test helpers
    def command(self, command_id: int) -> Command:
        return next(r.command for r in self.rows if r.command.id == command_id)

    def statuses(self) -> list[OutboxMessage]:
        return [r.message for r in self.outbox]

    def expire_leases(self) -> None:
        for row in self.rows:
            if row.lease_until is not None:
                row.lease_until = datetime.min.replace(tzinfo=UTC)


# -------------------------------------------------------------------------------------------


@dataclass
class Fault:
    error: BaseException
    applied: bool = False  # True: the OPCO stored the request, then the answer was lost
    opco: OpcoCode | None = None  # None: whichever OPCO gets the next call


@dataclass
class _Dossier:
    numero_interne: str
    numero_externe: str
    etat: str
    natural_key: tuple[str, ...]
    detail: Json = field(default_factory=dict)


def natural_key_of(cerfa: Json) -> tuple[str, ...]:
    emp = cerfa.get("employeur", {})
    app = cerfa.get("apprenti", {})
    con = cerfa.get("contrat", {})
    return (
        str(emp.get("siret")),
        str(app.get("nom")).upper(),
        str(app.get("prenom")).upper(),
        str(app.get("dateNaissance"))[:10],
        str(con.get("dateDebutContrat"))[:10],
        str(con.get("typeContratApp")),  # the OPCO's duplicate key has it; a search cannot
    )


class FakeGateway:
    """A small in-memory OPCO for one or several (CFA, OPCO) pairs."""

    ROUTES = (
        "submit_dossier",
        "submit_convention",
        "submit_facture",
        "submit_certificat",
        "declare_rupture",
        "submit_document",
        "dossier_etats",
        "facture_etats",
        "get_dossier",
        "find_dossier",
        "find_facture",
    )

    def __init__(
        self,
        *,
        credentials: set[tuple[str, OpcoCode]] | None = None,
        unsupported: set[tuple[OpcoCode, str]] | None = None,
    ) -> None:
        self.credentials = credentials  # None: every pair has credentials
        self.unsupported = unsupported or set()
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.calls: list[tuple[str, str, OpcoCode, Json]] = []
        self.dossiers: dict[tuple[str, OpcoCode], list[_Dossier]] = defaultdict(list)
        self.factures: dict[tuple[str, OpcoCode], list[FactureEtat]] = defaultdict(list)
        self.created: dict[str, int] = defaultdict(int)  # route -> creations
        self.seen_once: dict[tuple[str, str], dict[str, str]] = {}  # duplicates of other routes
        self._n = itertools.count(1)
        self.latency = 0.0  # seconds each creating call takes
        self.listing_latency: dict[OpcoCode, float] = {}  # seconds an etats listing takes
        self.active = 0
        self.max_active = 0
        self.multipart: set[tuple[OpcoCode, str]] = set()  # routes taken as multipart
        self.files: list[tuple[str, FileSource | None]] = []  # (route, file) of each submission

    async def _enter(self) -> None:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.latency)
        finally:
            self.active -= 1

    def fail_next(
        self,
        route: str,
        error: BaseException,
        *,
        applied: bool = False,
        opco: OpcoCode | None = None,
    ) -> None:
        assert route in self.ROUTES, route
        self.faults[route].append(Fault(error, applied, opco))

    def _fault(self, route: str, opco: OpcoCode | None = None) -> Fault | None:
        queue = self.faults[route]
        for fault in queue:
            if fault.opco is None or fault.opco == opco:
                queue.remove(fault)
                return fault
        return None

    def _check(self, cfa: str, opco: OpcoCode, capability: str | None) -> None:
        if not self.has_credentials(cfa, opco):
            raise MissingCredentialsError(cfa, opco)
        if capability is not None and not self.supports(opco, capability):
            raise NotSupportedError(
                f"{opco} does not implement {capability}", opco=opco, status=501
            )

    async def _create(
        self,
        route: str,
        cfa: str,
        opco: OpcoCode,
        body: Json,
        capability: str,
        dup_key: str,
        make: Any,
        etat: str | None = None,
    ) -> Created:
        self._check(cfa, opco, capability)
        self.calls.append((route, cfa, opco, body))
        await self._enter()
        fault = self._fault(route, opco)
        if fault is not None and not fault.applied:
            raise fault.error
        existing = self.seen_once.get((route, f"{cfa}|{opco}|{dup_key}"))
        if existing is not None:
            created = Created(ids=existing, duplicate=True, etat=etat)
        else:
            ids = make()
            self.created[route] += 1
            self.seen_once[(route, f"{cfa}|{opco}|{dup_key}")] = ids
            created = Created(ids=ids, etat=etat)
        if fault is not None:
            raise fault.error
        return created

    async def submit_dossier(self, cfa: str, opco: OpcoCode, cerfa: Json) -> Created:
        self._check(cfa, opco, "dossiers_v1")
        self.calls.append(("submit_dossier", cfa, opco, cerfa))
        await self._enter()
        fault = self._fault("submit_dossier", opco)
        if fault is not None and not fault.applied:
            raise fault.error
        key = natural_key_of(cerfa)
        found = next((d for d in self.dossiers[(cfa, opco)] if d.natural_key == key), None)
        if found is not None:
            created = Created(
                ids={"numeroInterne": found.numero_interne, "numeroExterne": found.numero_externe},
                duplicate=True,
                etat=found.etat,
            )
        else:
            n = next(self._n)
            found = _Dossier(f"NI{n:06d}", f"NE{n:06d}", "TRANSMIS", key)
            self.dossiers[(cfa, opco)].append(found)
            self.created["submit_dossier"] += 1
            created = Created(
                ids={"numeroInterne": found.numero_interne, "numeroExterne": found.numero_externe},
                etat="TRANSMIS",
            )
        if fault is not None:
            raise fault.error
        return created

    async def submit_convention(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        self.files.append(("conventions", file))
        n = next(self._n)
        return await self._create(
            "submit_convention",
            cfa,
            opco,
            body,
            "conventions",
            str(body.get("numeroInterneDossier")),
            lambda: {"idConvention": f"CV{n:06d}"},
        )

    async def submit_facture(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        self.files.append(("factures", file))
        n = next(self._n)
        ref = str(body.get("numero", body.get("referenceFactureCFA")))

        def make() -> dict[str, str]:
            self.factures[(cfa, opco)].append(
                FactureEtat(f"FA{n:06d}", ref, "TRANSMIS", {"referenceFactureCFA": ref})
            )
            return {"numeroInterneFacture": f"FA{n:06d}", "referenceFactureCFA": ref}

        return await self._create(
            "submit_facture", cfa, opco, body, "factures", ref, make, etat="TRANSMIS"
        )

    async def submit_certificat(self, cfa: str, opco: OpcoCode, body: Json) -> Created:
        n = next(self._n)
        key = f"{body.get('numeroInterneDossier')}|{body.get('echeance', {}).get('numero')}"
        return await self._create(
            "submit_certificat",
            cfa,
            opco,
            body,
            "certificats",
            key,
            lambda: {"idCertificat": f"CE{n:06d}"},
        )

    async def declare_rupture(self, cfa: str, opco: OpcoCode, body: Json) -> Created:
        numero = str(body.get("numeroInterne"))
        return await self._create(
            "declare_rupture",
            cfa,
            opco,
            body,
            "rupture",
            numero,
            lambda: {"numeroInterne": numero},
        )

    async def submit_document(
        self, cfa: str, opco: OpcoCode, infos: Json, file: FileSource
    ) -> Created:
        """Duplicate by (CFA, typeFichier, objets, the file's SHA-256), as the OPCO's 409."""
        self.files.append(("documents", file))
        digest = hashlib.sha256()
        async for chunk in file.chunks():
            digest.update(chunk)
        n = next(self._n)
        key = f"{json.dumps(infos, sort_keys=True)}|{digest.hexdigest()}"
        return await self._create(
            "submit_document",
            cfa,
            opco,
            infos,
            "documents",
            key,
            lambda: {"numeroInterneDocument": f"DO{n:06d}"},
        )

    async def dossier_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[DossierEtat]:
        self._check(cfa, opco, "dossiers_etats")
        self.calls.append(("dossier_etats", cfa, opco, {}))
        await asyncio.sleep(self.listing_latency.get(opco, 0.0))
        fault = self._fault("dossier_etats", opco)
        if fault is not None:
            raise fault.error
        for d in list(self.dossiers[(cfa, opco)]):
            yield DossierEtat(d.numero_interne, d.numero_externe, None, d.etat)

    async def facture_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[FactureEtat]:
        self._check(cfa, opco, "factures_etats")
        self.calls.append(("facture_etats", cfa, opco, {}))
        fault = self._fault("facture_etats", opco)
        if fault is not None:
            raise fault.error
        for f in list(self.factures[(cfa, opco)]):
            yield f

    async def get_dossier(self, cfa: str, opco: OpcoCode, numero_interne: str) -> Json:
        self._check(cfa, opco, "dossier_detail")
        self.calls.append(("get_dossier", cfa, opco, {"numeroInterne": numero_interne}))
        fault = self._fault("get_dossier", opco)
        if fault is not None:
            raise fault.error
        for d in self.dossiers[(cfa, opco)]:
            if d.numero_interne == numero_interne:
                return {
                    "cerfa": {"numeroInterne": d.numero_interne, "etat": d.etat},
                    **d.detail,
                }
        raise AssertionError("unknown dossier")

    async def find_dossier(
        self, cfa: str, opco: OpcoCode, key: DossierNaturalKey
    ) -> Created | None:
        self._check(cfa, opco, None)
        self.calls.append(("find_dossier", cfa, opco, {}))
        fault = self._fault("find_dossier", opco)
        if fault is not None:
            raise fault.error
        wanted = (
            key.employeur_siret,
            key.apprenti_nom.upper(),
            key.apprenti_prenom.upper(),
            key.apprenti_date_naissance.isoformat(),
            key.date_debut_contrat.isoformat(),
        )
        for d in self.dossiers[(cfa, opco)]:
            if d.natural_key[:5] == wanted:
                return Created(
                    ids={"numeroInterne": d.numero_interne, "numeroExterne": d.numero_externe},
                    duplicate=True,
                    etat=d.etat,
                )
        return None

    async def find_facture(self, cfa: str, opco: OpcoCode, reference: str) -> Created | None:
        self._check(cfa, opco, None)
        self.calls.append(("find_facture", cfa, opco, {"referenceFactureCFA": reference}))
        fault = self._fault("find_facture", opco)
        if fault is not None:
            raise fault.error
        for f in self.factures[(cfa, opco)]:
            if f.reference_facture_cfa == reference:
                return Created(
                    ids={
                        "numeroInterneFacture": f.numero_interne_facture,
                        "referenceFactureCFA": reference,
                    },
                    duplicate=True,
                    etat=f.etat,
                )
        return None

    async def key_info(self, cfa: str, opco: OpcoCode) -> KeyInfo:
        self._check(cfa, opco, "cfakeyinfo")
        return KeyInfo(valid=True, date_fin_validite=date(2027, 12, 31))

    def has_credentials(self, cfa: str, opco: OpcoCode) -> bool:
        return self.credentials is None or (cfa, opco) in self.credentials

    def supports(self, opco: OpcoCode, capability: str) -> bool:
        return (opco, capability) not in self.unsupported

    def transport_is_multipart(self, opco: OpcoCode, route: RouteName) -> bool:
        return (opco, route) in self.multipart

    def quirks(self, opco: OpcoCode) -> Quirks:
        return Quirks()

    async def aclose(self) -> None:
        return None

    # -- test helpers
    def set_etat(
        self, cfa: str, opco: OpcoCode, numero_interne: str, etat: str, **detail: Any
    ) -> None:
        for d in self.dossiers[(cfa, opco)]:
            if d.numero_interne == numero_interne:
                d.etat = etat
                d.detail.update(detail)
                return
        raise KeyError(numero_interne)

    def set_facture_etat(self, cfa: str, opco: OpcoCode, numero: str, etat: str) -> None:
        rows = self.factures[(cfa, opco)]
        for i, f in enumerate(rows):
            if f.numero_interne_facture == numero:
                rows[i] = replace(f, etat=etat)
                return
        raise KeyError(numero)

    def calls_to(self, route: str) -> list[Json]:
        return [body for r, _, _, body in self.calls if r == route]


def _protocol_check(ledger: FakeLedger, gateway: FakeGateway) -> tuple[Ledger, OpcoGateway]:
    """mypy checks here that the fakes satisfy the Protocols (run mypy on this file)."""
    return ledger, gateway
