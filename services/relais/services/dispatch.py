"""The dispatch role: ledger commands -> OPCO calls -> outcomes + status events.

    claim (head of each dossier queue, under a lease)  ->  one task per command, many in parallel
      plan:    parse the payload; follow-ups need their dossiers' numeroInterne (wait or fail)
      doubt:   an ambiguous command is looked up at the OPCO before it is sent again (promise 2)
      call:    the OPCO gateway (the adapter owns HTTP, auth, rate limits, breaker)
      outcome: done + "submitted" | failed + "failed" | rescheduled (+ "retrying") | deferred

A handler never sleeps: a retry is a ``next_attempt_at`` in the ledger and the task ends, so a
dossier waiting on a retry holds no slot and blocks no other dossier (promise 3). The outcome and
its status events are written in one ledger transaction; a worker that lost its lease writes
nothing (``complete``/``reschedule`` return False) and the command's new holder decides.

Crash safety: a worker that dies between the OPCO call and the ledger commit leaves the command
``in_flight``; when the lease expires the ledger hands it out again with ``ambiguous=True`` (the
call may have reached the OPCO), so the next holder looks it up before resending.
"""

from __future__ import annotations

import asyncio
import math
import os
import secrets
import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from relais.domain.events import ErrorItem, EventError, EventKind
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent, Trigger
from relais.errors import (
    AuthError,
    ConfigurationError,
    LedgerError,
    MissingCredentialsError,
    NotFoundError,
    NotSupportedError,
    OpcoError,
    PermanentOpcoError,
    RelaisError,
    RetryableOpcoError,
)
from relais.logging import bound, get_logger
from relais.services.calls import (
    OpcoCall,
    build_call,
    facture_reference,
    is_avenant,
    known_numero,
    natural_key,
    needed_dossiers,
    other_opco_error,
    parse_payload,
    unresolved_error,
)
from relais.services.clock import Clock, SystemClock
from relais.services.ledger_port import (
    Command,
    CommandKind,
    CommandState,
    Completion,
    FactureRecord,
    Ledger,
    OutboxMessage,
)
from relais.services.opco_port import Created, OpcoGateway
from relais.services.retry import GiveUp, RetryPolicy, is_ambiguous
from relais.services.statuses import to_outbox

log = get_logger(__name__)


class CommandMetrics(Protocol):
    """What dispatch reports (``relais.metrics.Metrics`` satisfies it)."""

    def command(self, opco: str, kind: str, outcome: str) -> None: ...


@runtime_checkable
class LatencyMetrics(Protocol):
    """Optional: event time -> terminal status (``relais_event_latency_seconds{kind}``)."""

    def terminal_latency(self, kind: str, seconds: float) -> None: ...


class _NoMetrics:
    def command(self, opco: str, kind: str, outcome: str) -> None:
        return None


AUTO_SHARE = -1  # DispatchOptions.per_opco_inflight: a quarter of inflight_limit


@dataclass(frozen=True)
class DispatchOptions:
    inflight_limit: int = 256  # commands handled at once by this worker (many dossiers)
    # At most this many of those slots for one OPCO, so a slow OPCO cannot starve the others
    # (AUTO_SHARE: max(1, ceil(inflight_limit / 4)); 0 or None: no cap). See Dispatcher.run.
    per_opco_inflight: int | None = AUTO_SHARE
    lease: timedelta = timedelta(seconds=120)  # a crashed worker's claims return after this
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idle_min: timedelta = timedelta(milliseconds=50)  # ledger poll when work just ran out...
    idle_max: timedelta = timedelta(seconds=1)  # ...doubling up to this while nothing is due
    defer: timedelta = timedelta(seconds=5)  # first recheck of a follow-up awaiting its dossier
    defer_max: timedelta = timedelta(minutes=5)  # ...rechecks slow down to this
    retrying_status_every: int = 4  # "retrying" on attempt 1 and every Nth; 0: never
    drain: timedelta = timedelta(seconds=30)  # graceful stop: wait this long for running calls
    coalesce: timedelta = timedelta(milliseconds=5)  # gather slots freed together into one claim

    def __post_init__(self) -> None:
        if self.inflight_limit < 1:
            raise ValueError("inflight_limit must be >= 1")
        if self.per_opco_inflight is not None and self.per_opco_inflight < AUTO_SHARE:
            raise ValueError("per_opco_inflight must be >= 0 (or AUTO_SHARE, or None)")

    @property
    def opco_cap(self) -> int | None:
        """Slots one OPCO may fill at once; None: no cap."""
        share = self.per_opco_inflight
        if share == AUTO_SHARE:
            return max(1, math.ceil(self.inflight_limit / 4))
        return share or None


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _Outcome:
    SUBMITTED = "submitted"
    FAILED = "failed"
    RETRIED = "retried"
    DEFERRED = "deferred"
    LOST = "lease_lost"
    LEDGER_ERROR = "ledger_error"


# Outcomes whose ledger write may carry status rows (a retry: on its first and every Nth attempt).
_WROTE_STATUSES = frozenset({_Outcome.SUBMITTED, _Outcome.FAILED, _Outcome.RETRIED})


@dataclass(frozen=True)
class _Wait:
    """A follow-up whose dossier(s) have no numeroInterne yet but are still being submitted."""

    waiting_for: tuple[str, ...]


class Dispatcher:
    def __init__(
        self,
        ledger: Ledger,
        gateway: OpcoGateway,
        options: DispatchOptions | None = None,
        clock: Clock | None = None,
        worker_id: str | None = None,
        metrics: CommandMetrics | None = None,
        wake: asyncio.Event | None = None,
        wake_relay: asyncio.Event | None = None,
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.options = options or DispatchOptions()
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self.metrics: CommandMetrics = metrics or _NoMetrics()
        self._latency = metrics if isinstance(metrics, LatencyMetrics) else None
        self._wake = wake or asyncio.Event()
        # Set after an outcome that wrote status rows, for a relay in this process.
        self._wake_relay = wake_relay
        self._running: dict[asyncio.Task[str], str] = {}  # handler -> its command's OPCO
        self._by_opco: Counter[str] = Counter()  # handlers running per OPCO
        self._touched: set[int] = set()  # commands whose lookup or OPCO call has started

    # ------------------------------------------------------------------ loop

    def notify(self) -> None:
        """New work may be due (ingest accepted a command in this process): claim now."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._running)

    def in_flight_by_opco(self) -> dict[str, int]:
        return {opco: n for opco, n in self._by_opco.items() if n > 0}

    async def run_once(self) -> int:
        """Claim what is due now and handle it all; the number of commands handled (tests)."""
        commands = await self._claim(self.options.inflight_limit)
        if commands:
            async with asyncio.TaskGroup() as tg:
                for command in commands:
                    tg.create_task(self.handle(command))
        return len(commands)

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and handle commands until ``stop`` is set, then drain the running ones."""
        log.info("dispatch.started", worker=self.worker_id, limit=self.options.inflight_limit)
        stopper = asyncio.create_task(self._forward(stop))
        idle = self.options.idle_min
        try:
            while not stop.is_set():
                self._wake.clear()
                free = self.options.inflight_limit - len(self._running)
                cap = self.options.opco_cap
                asked = free if cap is None else min(free, cap)
                claimed, more = 0, False
                if asked > 0:
                    try:
                        commands, more = await self._claim_share(asked)
                    except (RelaisError, OSError) as exc:
                        log.warning("dispatch.claim_failed", error=str(exc))
                        commands = []
                        idle = self.options.idle_max
                    for command in commands:
                        self._spawn(command)
                    claimed = len(commands)
                if claimed:
                    idle = self.options.idle_min
                    if more:
                        continue  # maybe more is due: claim again at once
                if self._wake.is_set():
                    continue
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle.total_seconds())
                    if self._running and not stop.is_set():
                        # Let a few more handlers finish: one claim for several free slots.
                        await asyncio.sleep(self.options.coalesce.total_seconds())
                    continue
                idle = min(idle * 2, self.options.idle_max)
        finally:
            stopper.cancel()
            await self._drain()
            log.info("dispatch.stopped", worker=self.worker_id)

    async def _forward(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _claim(self, limit: int) -> list[Command]:
        return await self.ledger.claim(self.worker_id, limit, self.clock.now(), self.options.lease)

    async def _claim_share(self, limit: int) -> tuple[list[Command], bool]:
        """Claim up to ``limit`` (at most the per-OPCO cap), no OPCO beyond its share of the
        slots; also whether more may be due (every claim got all it asked for).

        A handler holds its slot for as long as its OPCO takes to answer (or while it waits on
        the client's per-OPCO concurrency limit), so without a share a slow OPCO ends up holding
        most slots and the others' throughput falls. An OPCO whose share is full is left out of
        the claims; its commands wait in the ledger (FIFO per dossier unchanged) until one of its
        handlers ends, which wakes the loop. An OPCO with less room left than ``limit`` ("tight")
        is left out of the first claim too, which could hand it more than its room; if that
        claim does not fill ``limit``, a second one asks for no more than the smallest room.
        """
        cap = self.options.opco_cap
        if cap is None:
            commands = await self._claim(limit)
            return commands, len(commands) == limit
        room = {opco: cap - n for opco, n in self._by_opco.items()}
        full = [opco for opco, left in room.items() if left <= 0]
        tight = {opco: left for opco, left in room.items() if 0 < left < limit}
        commands = await self._claim_without(limit, [*full, *tight])
        if len(commands) == limit or not tight:
            return commands, len(commands) == limit
        second = min(min(tight.values()), limit - len(commands))
        # Within the smallest room: no OPCO can get past its cap whatever this claim returns.
        more = await self._claim_without(second, full)
        return commands + more, len(more) == second

    async def _claim_without(self, limit: int, opcos: Sequence[str]) -> list[Command]:
        now = self.clock.now()
        lease = self.options.lease
        return await self.ledger.claim(self.worker_id, limit, now, lease, exclude_opcos=opcos)

    def _spawn(self, command: Command) -> None:
        task = asyncio.create_task(self.handle(command), name=f"dispatch-{command.id}")
        self._running[task] = command.opco
        self._by_opco[command.opco] += 1
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[str]) -> None:
        opco = self._running.pop(task, None)
        if opco is not None:
            self._by_opco[opco] -= 1
            if self._by_opco[opco] <= 0:
                del self._by_opco[opco]
        self._wake.set()  # a slot is free, and the dossier's next command may be due now
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("dispatch.handler_crashed", error=repr(exc), exc_info=exc)

    async def _drain(self) -> None:
        if not self._running:
            return
        pending = set(self._running)
        _, still = await asyncio.wait(pending, timeout=self.options.drain.total_seconds())
        for task in still:
            task.cancel()  # handed back as ambiguous (see _interrupted): looked up first
        if still:
            await asyncio.wait(still)
            log.warning("dispatch.drain_cancelled", commands=len(still))

    # ------------------------------------------------------------------ one command

    async def handle(self, command: Command) -> str:
        """Handle one claimed command to an outcome written in the ledger; returns the outcome
        (``submitted``, ``failed``, ``retried``, ``deferred``, ``lease_lost``, ``ledger_error``)."""
        with bound(
            event_id=command.event_id,
            dossier=command.dossier_id,
            opco=command.opco,
            kind=command.kind.value,
            command_id=command.id,
        ):
            try:
                outcome = await self._handle(command)
            except LedgerError as exc:
                # Nothing more to do here: the lease expires and the command comes back as
                # ambiguous (its OPCO call may have happened), to be looked up before a resend.
                log.warning("dispatch.ledger_failed", error=str(exc))
                return _Outcome.LEDGER_ERROR
            except asyncio.CancelledError:
                if command.id in self._touched:
                    await self._interrupted(command)
                raise
            finally:
                self._touched.discard(command.id)
        if outcome not in (_Outcome.LOST, _Outcome.LEDGER_ERROR):
            self.metrics.command(command.opco, command.kind.value, outcome)
        if self._latency is not None and outcome in (_Outcome.SUBMITTED, _Outcome.FAILED):
            self._latency.terminal_latency(command.kind.value, self._since_event(command))
        if self._wake_relay is not None and outcome in _WROTE_STATUSES:
            self._wake_relay.set()
        return outcome

    def _since_event(self, command: Command) -> float:
        """Seconds from the CFA event's time (``ce_time``; else when ingest accepted it) to now."""
        try:
            at = datetime.fromisoformat(str(command.payload["time"]))
            if at.tzinfo is None:
                raise ValueError("naive time")
        except (KeyError, ValueError):
            at = command.created_at
        return max(0.0, (self.clock.now() - at).total_seconds())

    async def _handle(self, command: Command) -> str:
        now = self.clock.now()
        try:
            opco = OpcoCode(command.opco)
            data = parse_payload(command)
        except (ValueError, EventError) as exc:
            errors = exc.errors if isinstance(exc, EventError) else []
            return await self._fail(
                command, "invalid_payload", str(exc), errors=errors, called=False
            )

        plan = await self._resolve_dossiers(command, data)
        if isinstance(plan, _Wait):
            return await self._defer(command, plan, now)
        if isinstance(plan, ErrorItem):
            return await self._fail(
                command, "dossier_not_at_opco", plan.message, errors=[plan], called=False
            )
        call = build_call(command, data, plan)

        resolved = False
        self._touched.add(command.id)  # from here on the OPCO may see a request
        try:
            if command.ambiguous:
                found = await self._look_up(command, opco, call, data)
                if found is not None:
                    log.info("dispatch.doubt_resolved", found=True)
                    return await self._succeed(command, opco, data, found)
                resolved = True
            if self._too_old(command, now):
                policy = self.options.retry
                return await self._fail(
                    command,
                    "retries_exhausted_timeout",
                    f"no success within {policy.timeout} (previous attempts may have crashed)",
                    called=False,
                )
            created = await self._call(command, opco, call)
        except MissingCredentialsError as exc:
            return await self._fail(command, "missing_credentials", str(exc), called=False)
        except ConfigurationError as exc:
            return await self._fail(command, "configuration", str(exc), called=False)
        except RetryableOpcoError as exc:
            still_ambiguous = is_ambiguous(exc) or (command.ambiguous and not resolved)
            return await self._retry(command, opco, exc, ambiguous=still_ambiguous)
        except PermanentOpcoError as exc:
            return await self._fail(
                command, _permanent_reason(exc), str(exc), opco_messages=exc.messages
            )
        except OpcoError as exc:  # an OpcoError outside the tree's two branches: no retry
            return await self._fail(command, "opco_error", str(exc), opco_messages=exc.messages)
        return await self._succeed(command, opco, data, created)

    def _too_old(self, command: Command, now: datetime) -> bool:
        """A command tried before (or whose holder vanished) past the age cap is not resent:
        this also ends the loop of a command whose handling keeps crashing its worker."""
        tried = command.attempts > 0 or command.ambiguous
        grace = self.options.lease  # a retry scheduled just inside the cap may start a bit late
        return tried and now - command.created_at > self.options.retry.timeout + grace

    async def _interrupted(self, command: Command) -> None:
        """Cancelled (shutdown) once its lookup or OPCO call had started: the request may have
        left, so hand the command back as ambiguous (looked up before any resend) rather than let
        a plain ``release`` make it look untouched. If its outcome was already written, the
        reschedule finds the command no longer held and writes nothing."""
        try:
            await asyncio.shield(
                self.ledger.reschedule(
                    command.id,
                    self.worker_id,
                    self.clock.now(),
                    "interrupted during the OPCO call",
                    ambiguous=True,
                    count_attempt=False,
                )
            )
        except Exception as exc:  # the lease expiry hands it back as ambiguous anyway
            log.warning("dispatch.interrupt_not_recorded", error=repr(exc), exc_info=True)

    async def _resolve_dossiers(
        self, command: Command, data: BaseModel
    ) -> Mapping[str, str] | _Wait | ErrorItem:
        """numeroInterne of every dossier the command needs; or wait; or a clear failure."""
        numeros: dict[str, str] = {}
        given = known_numero(command)
        if given is not None:
            numeros[command.dossier_id] = given  # ingest already knew it
        waiting: list[str] = []
        for dossier_id in needed_dossiers(command, data):
            if dossier_id in numeros:
                continue
            record = await self.ledger.dossier(command.cfa, dossier_id)
            if record is not None and record.numero_interne:
                if record.opco != command.opco:
                    return other_opco_error()
                numeros[dossier_id] = record.numero_interne
                continue
            own = dossier_id == command.dossier_id
            # The ledger hands out only the head of a dossier's queue: when this command runs,
            # every older command of its own dossier is finished. Another dossier may still be
            # on its way (a facture covering several dossiers).
            if not own and await self.ledger.has_open_command(command.cfa, dossier_id):
                waiting.append(dossier_id)
                continue
            return unresolved_error(own=own)
        if waiting:
            return _Wait(tuple(waiting))
        return numeros

    async def _look_up(
        self, command: Command, opco: OpcoCode, call: OpcoCall, data: BaseModel
    ) -> Created | None:
        """Resolve the doubt of an ambiguous command by the best means of its route."""
        if command.kind is CommandKind.DOSSIER:
            if is_avenant(call.body):
                # An avenant shares its contract's natural key (employer, apprentice, start):
                # a search would find the contract itself. Its resend gets the OPCO's 409.
                log.info("dispatch.doubt_unresolvable", why="avenant")
                return None
            key = natural_key(call.body)
            if key is None:
                log.info("dispatch.doubt_unresolvable", why="incomplete natural key")
                return None
            try:
                return await self.gateway.find_dossier(command.cfa, opco, key)
            except NotSupportedError:
                return None  # no read route at this OPCO: rely on its duplicate answer (409)
        if command.kind is CommandKind.FACTURE:
            reference = facture_reference(data)
            if reference is None:
                return None
            try:
                return await self.gateway.find_facture(command.cfa, opco, reference)
            except NotSupportedError:
                return None
        # conventions, certificats, ruptures: no read route; the resend gets 409 if it was stored
        return None

    async def _call(self, command: Command, opco: OpcoCode, call: OpcoCall) -> Created:
        g = self.gateway
        match command.kind:
            case CommandKind.DOSSIER:
                return await g.submit_dossier(command.cfa, opco, call.body)
            case CommandKind.CONVENTION:
                return await g.submit_convention(command.cfa, opco, call.body)
            case CommandKind.FACTURE:
                return await g.submit_facture(command.cfa, opco, call.body)
            case CommandKind.CERTIFICAT:
                return await g.submit_certificat(command.cfa, opco, call.body)
            case CommandKind.RUPTURE:
                return await g.declare_rupture(command.cfa, opco, call.body)

    # ------------------------------------------------------------------ outcomes

    async def _succeed(
        self, command: Command, opco: OpcoCode, data: BaseModel, created: Created
    ) -> str:
        now = self.clock.now()
        ids = dict(created.ids)
        attempts = command.attempts + 1
        dossier_ids: dict[str, str] = {}
        facture: FactureRecord | None = None
        numero_interne = ids.get("numeroInterne") or ids.get("numeroInterneDossier")
        if command.kind is CommandKind.DOSSIER:
            dossier_ids = {k: ids[k] for k in ("numeroInterne", "numeroExterne") if k in ids}
        reference = facture_reference(data)
        if command.kind is CommandKind.FACTURE and reference is not None:
            facture = FactureRecord(
                cfa=command.cfa,
                reference=reference,
                opco=command.opco,
                numero_interne_facture=ids.get("numeroInterneFacture"),
                etat=created.etat,
            )
        status = StatusEvent.submitted(
            _trigger(command),
            opco=opco,
            occurred_at=now,
            numero_interne=numero_interne,
            numero_externe=ids.get("numeroExterne"),
            numero_interne_facture=ids.get("numeroInterneFacture"),
            reference_facture_cfa=reference,
            etat=created.etat,
            attempts=attempts,
        )
        completion = Completion(
            state=CommandState.DONE,
            statuses=[to_outbox(status)],
            dossier_ids=dossier_ids,
            dossier_etat=created.etat if command.kind is CommandKind.DOSSIER else None,
            facture=facture,
        )
        if not await self.ledger.complete(command.id, self.worker_id, completion):
            return self._lost("complete")
        log.info("dispatch.submitted", duplicate=created.duplicate, attempts=attempts)
        return _Outcome.SUBMITTED

    async def _fail(
        self,
        command: Command,
        reason: str,
        error: str,
        *,
        opco_messages: Sequence[str] = (),
        errors: Sequence[ErrorItem] = (),
        called: bool = True,
    ) -> str:
        now = self.clock.now()
        opco = _opco_or_none(command.opco)
        status = StatusEvent.failed(
            _trigger(command),
            opco=opco,
            reason=reason,
            occurred_at=now,
            opco_messages=opco_messages,
            errors=errors,
            attempts=command.attempts + (1 if called else 0),
        )
        completion = Completion(
            state=CommandState.FAILED,
            statuses=[to_outbox(status)],
            error=f"{reason}: {error}",
        )
        if not await self.ledger.complete(command.id, self.worker_id, completion):
            return self._lost("complete")
        log.warning("dispatch.failed", reason=reason, error=error)
        return _Outcome.FAILED

    async def _retry(
        self, command: Command, opco: OpcoCode, exc: RetryableOpcoError, *, ambiguous: bool
    ) -> str:
        now = self.clock.now()
        attempt = command.attempts + 1
        policy = self.options.retry
        decision = policy.decide(exc, failures=attempt, first_seen=command.created_at, now=now)
        if isinstance(decision, GiveUp):
            return await self._fail(
                command,
                f"retries_exhausted_{decision.reason.value}",
                f"{decision.describe(policy)}; last error: {exc}",
                opco_messages=exc.messages,
            )
        statuses: list[OutboxMessage] = []
        every = self.options.retrying_status_every
        if every > 0 and (attempt == 1 or attempt % every == 0):
            status = StatusEvent.retrying(
                _trigger(command),
                opco=opco,
                attempt=attempt,
                next_attempt_at=decision.at,
                reason="ambiguous" if is_ambiguous(exc) else "retryable",
                occurred_at=now,
                opco_messages=exc.messages,
            )
            statuses.append(to_outbox(status))
        written = await self.ledger.reschedule(
            command.id,
            self.worker_id,
            decision.at,
            str(exc),
            ambiguous=ambiguous,
            count_attempt=True,
            statuses=statuses,
        )
        if not written:
            return self._lost("reschedule")
        log.info(
            "dispatch.retry_scheduled",
            attempt=attempt,
            delay_s=decision.delay.total_seconds(),
            status=exc.status,
            ambiguous=ambiguous,
        )
        return _Outcome.RETRIED

    async def _defer(self, command: Command, wait: _Wait, now: datetime) -> str:
        policy = self.options.retry
        if now - command.created_at > policy.timeout:
            item = unresolved_error(own=False)
            return await self._fail(
                command,
                "dossier_not_at_opco",
                f"still waiting for a dossier's numeroInterne after {policy.timeout}",
                errors=[item],
                called=False,
            )
        written = await self.ledger.reschedule(
            command.id,
            self.worker_id,
            now + self._defer_delay(command, now),
            f"waiting for the numeroInterne of {len(wait.waiting_for)} dossier(s)",
            ambiguous=command.ambiguous,
            count_attempt=False,
        )
        if not written:
            return self._lost("reschedule")
        log.info("dispatch.deferred", waiting_for=len(wait.waiting_for))
        return _Outcome.DEFERRED

    def _defer_delay(self, command: Command, now: datetime) -> timedelta:
        """Recheck soon at first, then less often: a tenth of the wait so far, within bounds."""
        waited = max(now - command.created_at, timedelta(0))
        return min(max(self.options.defer, waited / 10), self.options.defer_max)

    def _lost(self, step: str) -> str:
        log.warning("dispatch.lease_lost", step=step, worker=self.worker_id)
        return _Outcome.LOST


def _trigger(command: Command) -> Trigger:
    return Trigger(
        event_id=command.event_id,
        cfa=command.cfa,
        dossier_id=command.dossier_id,
        kind=EventKind(command.kind.value),
    )


def _opco_or_none(value: str) -> OpcoCode | None:
    try:
        return OpcoCode(value)
    except ValueError:
        return None


def _permanent_reason(exc: PermanentOpcoError) -> str:
    if isinstance(exc, NotSupportedError):
        return "not_supported"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, NotFoundError):
        return "not_found"
    return "rejected_by_opco"
