"""How one command ends, written in the ledger with its status events (ONE transaction each).

``submitted`` (done), ``failed``, ``retried`` (rescheduled, a ``retrying`` note on the first and
every Nth attempt), ``deferred`` (a follow-up waiting for its dossier's numeroInterne). A worker
that lost its lease writes nothing: ``complete``/``reschedule`` return False, the outcome is
``lease_lost`` and the command's new holder decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from relais.domain.events import ErrorItem, EventData, EventKind
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail
from relais.domain.status import StatusEvent, Trigger
from relais.domain.status_reasons import StatusReason
from relais.errors import (
    AuthError,
    NotFoundError,
    NotSupportedError,
    OpcoError,
    PermanentOpcoError,
    RetryableOpcoError,
)
from relais.logging import get_logger
from relais.services.calls import facture_reference, unresolved_error
from relais.services.clock import Clock
from relais.services.dispatch.options import DispatchOptions
from relais.services.ledger_port import (
    Command,
    CommandKind,
    CommandState,
    Completion,
    FactureRecord,
    Ledger,
    OutboxMessage,
)
from relais.services.opco_port import Created
from relais.services.retry import GiveUp, is_ambiguous
from relais.services.statuses import to_outbox

log = get_logger("relais.services.dispatch")


class Outcome:
    SUBMITTED = "submitted"
    FAILED = "failed"
    REJECTED = "rejected"  # refused before any call (the money checks)
    RETRIED = "retried"
    DEFERRED = "deferred"
    LOST = "lease_lost"
    LEDGER_ERROR = "ledger_error"


TERMINAL_OUTCOMES = frozenset({Outcome.SUBMITTED, Outcome.FAILED, Outcome.REJECTED})
# Outcomes whose ledger write may carry status rows (a retry: on its first and every Nth attempt).
WROTE_STATUSES = frozenset({Outcome.SUBMITTED, Outcome.FAILED, Outcome.REJECTED, Outcome.RETRIED})


@dataclass(frozen=True)
class Wait:
    """A follow-up whose dossier(s) have no numeroInterne yet but are still being submitted."""

    waiting_for: tuple[str, ...]


class Outcomes:
    """Writes the outcome of a command held by ``worker``."""

    def __init__(self, ledger: Ledger, worker: str, clock: Clock, options: DispatchOptions) -> None:
        self._ledger = ledger
        self._worker = worker
        self._clock = clock
        self._options = options

    async def succeed(
        self, command: Command, opco: OpcoCode, data: EventData, created: Created
    ) -> str:
        now = self._clock.now()
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
        warnings = await self._shared_numero(command, numero_interne)
        status = StatusEvent.submitted(
            trigger_of(command),
            opco=opco,
            occurred_at=now,
            numero_interne=numero_interne,
            numero_externe=ids.get("numeroExterne"),
            numero_interne_facture=ids.get("numeroInterneFacture"),
            reference_facture_cfa=reference,
            numero_interne_document=ids.get("numeroInterneDocument"),
            etat=created.etat,
            attempts=attempts,
            already_at_opco=created.duplicate,
            warnings=warnings,
        )
        completion = Completion(
            state=CommandState.DONE,
            statuses=[to_outbox(status)],
            dossier_ids=dossier_ids,
            dossier_etat=created.etat if command.kind is CommandKind.DOSSIER else None,
            facture=facture,
        )
        if not await self._ledger.complete(command.id, self._worker, completion):
            return self.lost("complete")
        log.info("dispatch.submitted", duplicate=created.duplicate, attempts=attempts)
        if warnings:
            log.warning("dispatch.numero_shared", kind=command.kind.value)
        return Outcome.SUBMITTED

    async def _shared_numero(self, command: Command, numero_interne: str | None) -> list[ErrorItem]:
        """A warning when the OPCO's dossier is already the one of another dossier of the CFA
        (two CFA dossiers the OPCO matched to one numeroInterne): only a dossier's own
        submission is checked (a follow-up names its dossier's numeroInterne on purpose)."""
        if command.kind is not CommandKind.DOSSIER or numero_interne is None:
            return []
        known = await self._ledger.dossier_by_numero(command.opco, numero_interne)
        if known is None or known.cfa != command.cfa or known.dossier_id == command.dossier_id:
            return []
        return [shared_numero_warning(numero_interne, known.dossier_id)]

    async def fail(
        self,
        command: Command,
        reason: StatusReason,
        error: str,
        *,
        opco_error: OpcoError | None = None,
        errors: Sequence[ErrorItem] = (),
        called: bool = True,
    ) -> str:
        """A terminal ``failed``; ``opco_error``: the OPCO's answer, whose messages and details
        the status carries."""
        now = self._clock.now()
        opco = _opco_or_none(command.opco)
        status = StatusEvent.failed(
            trigger_of(command),
            opco=opco,
            reason=reason,
            occurred_at=now,
            opco_messages=opco_error.messages if opco_error is not None else (),
            opco_errors=opco_details(opco_error),
            errors=errors,
            attempts=command.attempts + (1 if called else 0),
        )
        completion = Completion(
            state=CommandState.FAILED,
            statuses=[to_outbox(status)],
            error=f"{reason}: {error}",
        )
        if not await self._ledger.complete(command.id, self._worker, completion):
            return self.lost("complete")
        log.warning("dispatch.failed", reason=reason, error=error)
        return Outcome.FAILED

    async def reject(self, command: Command, opco: OpcoCode, errors: Sequence[ErrorItem]) -> str:
        """Refused before any call (what relais knows says the OPCO would refuse it): a terminal
        ``rejected`` status naming every finding; the command ends failed, never sent."""
        status = StatusEvent.rejected(
            trigger_of(command), errors=errors, occurred_at=self._clock.now(), opco=opco
        )
        codes = ", ".join(dict.fromkeys(e.code for e in errors if e.severity == "error"))
        completion = Completion(
            state=CommandState.FAILED,
            statuses=[to_outbox(status)],
            error=f"rejected: {codes}",
        )
        if not await self._ledger.complete(command.id, self._worker, completion):
            return self.lost("complete")
        log.warning("dispatch.rejected", codes=codes)
        return Outcome.REJECTED

    async def fail_permanently(self, command: Command, exc: PermanentOpcoError) -> str:
        return await self.fail(command, permanent_reason(exc), str(exc), opco_error=exc)

    async def retry_later(
        self, command: Command, opco: OpcoCode, exc: Exception, *, resolved: bool
    ) -> str:
        """A dependency other than the OPCO (the file store) out of reach: retried like a
        retryable OPCO error, with the ``file_store_unavailable`` reason; nothing is lost. No
        request completed (a file's last chunk leaves only once it matched): no new doubt, and
        an old one stays unless its look-up ran (``resolved``)."""
        retryable = RetryableOpcoError(str(exc), opco=opco.value)
        ambiguous = command.ambiguous and not resolved
        reason = StatusReason.FILE_STORE_UNAVAILABLE
        return await self.retry(command, opco, retryable, ambiguous=ambiguous, reason=reason)

    async def retry(
        self,
        command: Command,
        opco: OpcoCode,
        exc: RetryableOpcoError,
        *,
        ambiguous: bool,
        reason: StatusReason | None = None,
    ) -> str:
        now = self._clock.now()
        attempt = command.attempts + 1
        policy = self._options.retry
        decision = policy.decide(exc, failures=attempt, first_seen=command.created_at, now=now)
        if isinstance(decision, GiveUp):
            return await self.fail(
                command,
                StatusReason(f"retries_exhausted_{decision.reason.value}"),
                f"{decision.describe(policy)}; last error: {exc}",
                opco_error=exc,
            )
        statuses: list[OutboxMessage] = []
        every = self._options.retrying_status_every
        if every > 0 and (attempt == 1 or attempt % every == 0):
            status = StatusEvent.retrying(
                trigger_of(command),
                opco=opco,
                attempt=attempt,
                next_attempt_at=decision.at,
                reason=reason or (_AMBIGUOUS if is_ambiguous(exc) else StatusReason.RETRYABLE),
                occurred_at=now,
                opco_messages=exc.messages,
                opco_errors=opco_details(exc),
            )
            statuses.append(to_outbox(status))
        written = await self._ledger.reschedule(
            command.id,
            self._worker,
            decision.at,
            str(exc),
            ambiguous=ambiguous,
            count_attempt=True,
            statuses=statuses,
        )
        if not written:
            return self.lost("reschedule")
        log.info(
            "dispatch.retry_scheduled",
            attempt=attempt,
            delay_s=decision.delay.total_seconds(),
            status=exc.status,
            ambiguous=ambiguous,
        )
        return Outcome.RETRIED

    async def defer(self, command: Command, wait: Wait, now: datetime) -> str:
        policy = self._options.retry
        if now - command.created_at > policy.timeout:
            item = unresolved_error(own=False)
            return await self.fail(
                command,
                StatusReason.DOSSIER_NOT_AT_OPCO,
                f"still waiting for a dossier's numeroInterne after {policy.timeout}",
                errors=[item],
                called=False,
            )
        written = await self._ledger.reschedule(
            command.id,
            self._worker,
            now + self._defer_delay(command, now),
            f"waiting for the numeroInterne of {len(wait.waiting_for)} dossier(s)",
            ambiguous=command.ambiguous,
            count_attempt=False,
        )
        if not written:
            return self.lost("reschedule")
        log.info("dispatch.deferred", waiting_for=len(wait.waiting_for))
        return Outcome.DEFERRED

    def _defer_delay(self, command: Command, now: datetime) -> timedelta:
        """Recheck soon at first, then less often: a tenth of the wait so far, within bounds."""
        waited = max(now - command.created_at, timedelta(0))
        return min(max(self._options.defer, waited / 10), self._options.defer_max)

    def lost(self, step: str) -> str:
        log.warning("dispatch.lease_lost", step=step, worker=self._worker)
        return Outcome.LOST


_AMBIGUOUS = StatusReason.AMBIGUOUS


def trigger_of(command: Command) -> Trigger:
    """The CFA event a command's statuses answer."""
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


def permanent_reason(exc: PermanentOpcoError) -> StatusReason:
    if isinstance(exc, NotSupportedError):
        return StatusReason.NOT_SUPPORTED
    if isinstance(exc, AuthError):
        return StatusReason.AUTH
    if isinstance(exc, NotFoundError):
        return StatusReason.NOT_FOUND
    return StatusReason.REJECTED_BY_OPCO


MAX_OPCO_ERRORS = 20


def opco_details(exc: OpcoError | None) -> tuple[OpcoErrorDetail, ...]:
    """The OPCO's errors an exception carries (``OpcoError.details``), at most
    ``MAX_OPCO_ERRORS``."""
    if exc is None:
        return ()
    details = (d for d in exc.details if isinstance(d, OpcoErrorDetail))
    return tuple(details)[:MAX_OPCO_ERRORS]


SHARED_NUMERO = "DOSSIER_NUMERO_INTERNE_PARTAGE"


def shared_numero_warning(numero_interne: str, other_dossier_id: str) -> ErrorItem:
    return ErrorItem(
        code=SHARED_NUMERO,
        path="numeroInterne",
        severity="warning",
        message=f"L'OPCO a rattaché ce dossier à son dossier {numero_interne}, déjà celui du "
        f"dossier {other_dossier_id} de ce CFA : deux dossiers du CFA désignent le même dossier "
        "à l'OPCO.",
    )
