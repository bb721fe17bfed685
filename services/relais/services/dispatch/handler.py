"""One claimed command to one outcome written in the ledger.

    payload:  ingest's ``CommandPayload`` (unreadable -> failed ``invalid_payload``)
    money:    a convention's cost against its dossier's NPEC, a facture's lines against the
              échéancier read from the OPCO (``services/money_checks.py``): an error -> a
              terminal ``rejected`` status naming it, no call
    dossiers: the numeroInterne of every dossier the call names (ingest's, else the ledger's;
              a follow-up whose dossier is still being submitted waits -> deferred); a
              document's route and facture (``documents.py``)
    doubt:    an ambiguous command is looked up at the OPCO before it is sent again (promise 2)
    call:     the OPCO gateway (the adapter owns HTTP, auth, rate limits, breaker), with the
              event's file opened for its CFA and streamed (``attachments.py``): a refused file
              -> a terminal ``rejected`` naming its FILE_* code, no complete request; a store
              out of reach -> retried (``file_store_unavailable``)
    outcome:  ``outcomes.Outcomes``: done + "submitted" | failed + "failed" | rescheduled
              (+ "retrying") | deferred

A handler never sleeps: a retry is a ``next_attempt_at`` in the ledger and the task ends, so a
dossier waiting on a retry holds no slot and blocks no other dossier (promise 3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from relais.domain.dates import paris_today
from relais.domain.events import (
    ConventionSubmittedData,
    ErrorItem,
    EventData,
    FactureSubmittedData,
    PayloadError,
)
from relais.domain.file_refusals import FileRefusedError
from relais.domain.npec import NpecTable
from relais.domain.opco import OpcoCode
from relais.domain.rules.money import KnownDossier
from relais.domain.status_reasons import StatusReason
from relais.errors import (
    ConfigurationError,
    LedgerError,
    MissingCredentialsError,
    OpcoError,
    PermanentOpcoError,
    RetryableOpcoError,
)
from relais.logging import bound, get_logger
from relais.services.calls import (
    OpcoCall,
    build_call,
    needed_dossiers,
    other_opco_error,
    unresolved_error,
)
from relais.services.clock import Clock
from relais.services.command_payload import CommandPayload, UnreadablePayload
from relais.services.dispatch.attachments import (
    externes_of,
    missing_file_error,
    needs_file,
    refusal_error,
    send,
)
from relais.services.dispatch.documents import facture_numero, route_refusal
from relais.services.dispatch.doubt import look_up
from relais.services.dispatch.options import DispatchOptions
from relais.services.dispatch.outcomes import (
    TERMINAL_OUTCOMES,
    WROTE_STATUSES,
    Outcome,
    Outcomes,
    Wait,
)
from relais.services.files_port import CfaFileOpener, FileStoreUnavailableError
from relais.services.ledger_port import Command, Ledger
from relais.services.money_checks import (
    NOTHING,
    MoneyVerdict,
    convention_verdict,
    facture_verdict,
    known_dossier,
    submitted_cerfa,
)
from relais.services.opco_port import OpcoGateway
from relais.services.retry import is_ambiguous
from relais.tracing import Tracing

log = get_logger("relais.services.dispatch")


class CommandMetrics(Protocol):
    """What dispatch reports (``relais.metrics.Metrics`` satisfies it)."""

    def command(self, opco: str, kind: str, outcome: str) -> None: ...


@runtime_checkable
class LatencyMetrics(Protocol):
    """Optional: event time -> terminal status (``relais_event_latency_seconds{kind}``)."""

    def terminal_latency(self, kind: str, seconds: float) -> None: ...


class CommandHandler:
    """Handles the commands claimed by ``worker`` (one call of ``handle`` per command)."""

    def __init__(
        self,
        ledger: Ledger,
        gateway: OpcoGateway,
        *,
        worker: str,
        options: DispatchOptions,
        clock: Clock,
        metrics: CommandMetrics,
        wake_relay: asyncio.Event | None = None,
        npec: NpecTable | None = None,
        check_factures: bool = False,
        tracing: Tracing | None = None,
        files: CfaFileOpener | None = None,
    ) -> None:
        self._ledger = ledger
        self._tracing = tracing if tracing is not None else Tracing.off()
        self._files = files  # where the files events name are read (None: no file can be sent)
        self._npec = npec  # None: the convention's money is not checked (a bare test rig)
        self._check_factures = check_factures  # against the échéancier read from the OPCO
        self._gateway = gateway
        self._worker = worker
        self._options = options
        self._clock = clock
        self._metrics = metrics
        self._latency = metrics if isinstance(metrics, LatencyMetrics) else None
        # Set after an outcome that wrote status rows, for a relay in this process.
        self._wake_relay = wake_relay
        self._outcomes = Outcomes(ledger, worker, clock, options)
        self._touched: set[int] = set()  # commands whose lookup or OPCO call has started

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
                outcome = await self._traced(command)
            except LedgerError as exc:
                # Nothing more to do here: the lease expires and the command comes back as
                # ambiguous (its OPCO call may have happened), to be looked up before a resend.
                log.warning("dispatch.ledger_failed", error=str(exc))
                return Outcome.LEDGER_ERROR
            except asyncio.CancelledError:
                if command.id in self._touched:
                    await self._interrupted(command)
                raise
            finally:
                self._touched.discard(command.id)
        if outcome not in (Outcome.LOST, Outcome.LEDGER_ERROR):
            self._metrics.command(command.opco, command.kind.value, outcome)
        if self._latency is not None and outcome in TERMINAL_OUTCOMES:
            self._latency.terminal_latency(command.kind.value, self._since_event(command))
        if self._wake_relay is not None and outcome in WROTE_STATUSES:
            self._wake_relay.set()
        return outcome

    async def _traced(self, command: Command) -> str:
        """``_handle`` in a dispatch span (tracing on), the child of the ingest span whose context
        the payload kept (a new root for a payload stored without one); its statuses carry it."""
        if not self._tracing.enabled:
            return await self._handle(command)
        payload = command.payload
        with self._tracing.span(
            "dispatch",
            parent=(payload.trace if isinstance(payload, CommandPayload) else None) or {},
            attributes={
                "relais.command_id": command.id,
                "relais.event_id": command.event_id,
                "relais.cfa": command.cfa,
                "relais.opco": command.opco,
                "relais.kind": command.kind.value,
                "relais.attempt": command.attempts + 1,
            },
        ) as span:
            outcome = await self._handle(command)
            if span is not None:
                span.set_attribute("relais.outcome", outcome)
            return outcome

    def _since_event(self, command: Command) -> float:
        """Seconds from the CFA event's time (``ce_time``; else when ingest accepted it) to now."""
        at = command.created_at
        payload = command.payload
        if isinstance(payload, CommandPayload) and payload.time.utcoffset() is not None:
            at = payload.time
        return max(0.0, (self._clock.now() - at).total_seconds())

    async def _handle(self, command: Command) -> str:
        now = self._clock.now()
        outcomes = self._outcomes
        try:
            opco = OpcoCode(command.opco)
        except ValueError as exc:
            return await outcomes.fail(
                command, StatusReason.INVALID_PAYLOAD, str(exc), called=False
            )
        payload = command.payload
        if isinstance(payload, UnreadablePayload):
            return await outcomes.fail(
                command,
                StatusReason.INVALID_PAYLOAD,
                payload.message,
                errors=payload.errors,
                called=False,
            )

        data = payload.data
        call = await self._prepare(command, opco, payload, now)
        if isinstance(call, str):
            return call  # an outcome written before any call

        resolved = False
        self._touched.add(command.id)  # from here on the OPCO may see a request
        try:
            if command.ambiguous:
                found = await look_up(self._gateway, command, opco, call, data)
                if found is not None:
                    log.info("dispatch.doubt_resolved", found=True)
                    return await outcomes.succeed(command, opco, data, found)
                resolved = True
            if self._too_old(command, now):
                policy = self._options.retry
                return await outcomes.fail(
                    command,
                    StatusReason.RETRIES_EXHAUSTED_TIMEOUT,
                    f"no success within {policy.timeout} (previous attempts may have crashed)",
                    called=False,
                )
            created = await send(self._gateway, self._files, command, opco, call)
        except MissingCredentialsError as exc:
            return await outcomes.fail(
                command, StatusReason.MISSING_CREDENTIALS, str(exc), called=False
            )
        except FileRefusedError as exc:
            return await outcomes.reject(command, opco, [refusal_error(call, exc)])
        except FileStoreUnavailableError as exc:
            return await outcomes.retry_later(command, opco, exc, resolved=resolved)
        except ConfigurationError as exc:
            return await outcomes.fail(command, StatusReason.CONFIGURATION, str(exc), called=False)
        except RetryableOpcoError as exc:
            still_ambiguous = is_ambiguous(exc) or (command.ambiguous and not resolved)
            return await outcomes.retry(command, opco, exc, ambiguous=still_ambiguous)
        except PermanentOpcoError as exc:
            return await outcomes.fail_permanently(command, exc)
        except OpcoError as exc:  # an OpcoError outside the tree's two branches: no retry
            return await outcomes.fail(command, StatusReason.OPCO_ERROR, str(exc), opco_error=exc)
        return await outcomes.succeed(command, opco, data, created)

    async def _prepare(
        self, command: Command, opco: OpcoCode, payload: CommandPayload, now: datetime
    ) -> OpcoCall | str:
        """The call to make, or the outcome written instead (deferred, failed, rejected by the
        money checks) before the OPCO sees anything."""
        outcomes = self._outcomes
        unroutable = route_refusal(self._gateway, opco, command.kind)
        if unroutable is not None:
            return await outcomes.reject(command, opco, [unroutable])
        numeros = await self._resolve_dossiers(command, payload)
        if isinstance(numeros, Wait):
            return await outcomes.defer(command, numeros, now)
        if isinstance(numeros, ErrorItem):
            return await outcomes.fail(
                command,
                StatusReason.DOSSIER_NOT_AT_OPCO,
                numeros.message,
                errors=[numeros],
                called=False,
            )
        data = payload.data
        facture = await facture_numero(self._ledger, command, data)
        if isinstance(facture, Wait):
            return await outcomes.defer(command, facture, now)
        if isinstance(facture, ErrorItem):
            return await outcomes.reject(command, opco, [facture])
        money = await self._money(command, opco, data, numeros)
        if money.errors:
            return await outcomes.reject(command, opco, money.errors + money.warnings)
        try:
            quirks = self._gateway.quirks(opco)
            externes = await externes_of(self._ledger, command.cfa, data)
            call = build_call(
                command.kind, command.dossier_id, data, numeros, quirks, externes, facture
            )
            if call.file is None and needs_file(self._gateway, opco, call):
                error = missing_file_error(call)
                return await outcomes.fail(
                    command, StatusReason.FILE_MISSING, error.message, errors=[error], called=False
                )
            return call
        except ConfigurationError as exc:
            return await outcomes.fail(command, StatusReason.CONFIGURATION, str(exc), called=False)
        except PayloadError as exc:
            return await outcomes.fail(
                command, StatusReason.INVALID_PAYLOAD, str(exc), errors=exc.errors, called=False
            )

    async def _money(
        self, command: Command, opco: OpcoCode, data: EventData, numeros: Mapping[str, str]
    ) -> MoneyVerdict:
        """The money checks before any call: a convention's cost against the NPEC of its
        dossier's certification and IDCC (the dossier's cerfa from the ledger); a facture's
        lines against each dossier's échéancier read from the OPCO."""
        if self._npec is not None and isinstance(data, ConventionSubmittedData):
            commands = await self._ledger.commands_for(command.cfa, command.dossier_id)
            return convention_verdict(data, submitted_cerfa(commands), self._npec)
        # An ambiguous facture passed this check before its first call; that call may have
        # reached the OPCO (its amount now "en cours d'instruction"): the lookup decides.
        if (
            self._check_factures
            and isinstance(data, FactureSubmittedData)
            and not command.ambiguous
        ):
            known = {
                dossier_id: await self._known_dossier(command.cfa, opco, numeros.get(dossier_id))
                for dossier_id in data.facture.dossier_ids
            }
            return facture_verdict(data, known, today=paris_today(self._clock.now()))
        return NOTHING

    async def _known_dossier(
        self, cfa: str, opco: OpcoCode, numero: str | None
    ) -> KnownDossier | None:
        """The dossier as its OPCO gives it now; None (a warning, never a block) when it cannot
        be read (no read route, not found, the OPCO failing)."""
        if numero is None or not self._gateway.supports(opco, "dossier_detail"):
            return None
        try:
            return known_dossier(await self._gateway.get_dossier(cfa, opco, numero))
        except OpcoError as exc:
            log.info("dispatch.echeancier_unavailable", error=str(exc))
            return None

    def _too_old(self, command: Command, now: datetime) -> bool:
        """A command tried before (or whose holder vanished) past the age cap is not resent:
        this also ends the loop of a command whose handling keeps crashing its worker."""
        tried = command.attempts > 0 or command.ambiguous
        grace = self._options.lease  # a retry scheduled just inside the cap may start a bit late
        return tried and now - command.created_at > self._options.retry.timeout + grace

    async def _interrupted(self, command: Command) -> None:
        """Cancelled (shutdown) once its lookup or OPCO call had started: the request may have
        left, so hand the command back as ambiguous (looked up before any resend) rather than let
        a plain ``release`` make it look untouched. If its outcome was already written, the
        reschedule finds the command no longer held and writes nothing."""
        try:
            await asyncio.shield(
                self._ledger.reschedule(
                    command.id,
                    self._worker,
                    self._clock.now(),
                    "interrupted during the OPCO call",
                    ambiguous=True,
                    count_attempt=False,
                )
            )
        except Exception as exc:  # the lease expiry hands it back as ambiguous anyway
            log.warning("dispatch.interrupt_not_recorded", error=repr(exc), exc_info=True)

    async def _resolve_dossiers(
        self, command: Command, payload: CommandPayload
    ) -> Mapping[str, str] | Wait | ErrorItem:
        """The one place a command's dossiers get their numeroInterne: its own dossier's when
        ingest knew it (``CommandPayload.dossier_numero``), else the ledger's; or wait (another
        dossier still being submitted); or a clear failure."""
        numeros: dict[str, str] = {}
        given = payload.dossier_numero
        if given is not None:
            numeros[command.dossier_id] = given
        waiting: list[str] = []
        for dossier_id in needed_dossiers(command.dossier_id, payload):
            if dossier_id in numeros:
                continue
            record = await self._ledger.dossier(command.cfa, dossier_id)
            if record is not None and record.numero_interne:
                if record.opco != command.opco:
                    return other_opco_error()
                numeros[dossier_id] = record.numero_interne
                continue
            own = dossier_id == command.dossier_id
            # The ledger hands out only the head of a dossier's queue: when this command runs,
            # every older command of its own dossier is finished. Another dossier may still be
            # on its way (a facture covering several dossiers).
            if not own and await self._ledger.has_open_command(command.cfa, dossier_id):
                waiting.append(dossier_id)
                continue
            return unresolved_error(own=own)
        if waiting:
            return Wait(tuple(waiting))
        return numeros
