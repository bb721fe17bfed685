"""The poll role: follow dossiers and factures at the OPCO, publish each change once.

For every (CFA, OPCO) pair that has credentials, every ``interval``::

    GET dossiers/etats (all pages)  -> etat differs from the ledger's? -> GET dossier details
                                       (engagement, échéancier) -> ledger.record_etat(event)
    GET factures/etats (all pages)  -> etat differs? -> ledger.record_etat(event)

``record_etat`` is a compare-and-set on the last known etat that writes the ``etat_changed`` status
event in the same transaction, and the event id is derived from (CFA, OPCO, kind, numero, previous
etat, etat): an unchanged state writes nothing, and a change seen again after a restart is refused
by the compare-and-set (and would carry the same id anyway). Pairs are polled concurrently and
independently: one OPCO down (or one CFA key refused) backs off that pair only. An OPCO paused by
the operators (``relais opco pause``, read in the ledger) is skipped for an ``interval``: its API
is in maintenance, polling it would only fail and back off.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from relais.domain.events import EventKind
from relais.domain.opco import OpcoCode
from relais.domain.status import EcheanceSummary, StatusEvent
from relais.errors import (
    AuthError,
    ConfigurationError,
    NotFoundError,
    NotSupportedError,
    RelaisError,
)
from relais.logging import bound, get_logger
from relais.services.clock import Clock, SystemClock
from relais.services.ledger_port import Ledger
from relais.services.opco_port import DossierEtat, FactureEtat, OpcoGateway
from relais.services.retry import RetryPolicy, retry_after_of
from relais.services.statuses import to_outbox

log = get_logger(__name__)

Pair = tuple[str, OpcoCode]  # (CFA SIRET, OPCO)


class PollMetrics(Protocol):
    def poll_succeeded(self, opco: str, at: datetime) -> None: ...


class _NoMetrics:
    def poll_succeeded(self, opco: str, at: datetime) -> None:
        return None


def _pair_backoff() -> RetryPolicy:
    return RetryPolicy(
        wait_initial=timedelta(seconds=30), wait_max=timedelta(hours=1), wait_jitter=0.5
    )


@dataclass(frozen=True)
class PollOptions:
    interval: timedelta = timedelta(minutes=5)  # between two complete polls of one pair
    backoff: RetryPolicy = field(default_factory=_pair_backoff)  # a failing pair waits longer
    concurrency: int = 4  # pairs polled at once
    details: bool = True  # read engagement + échéancier of a changed dossier
    tick: timedelta = timedelta(seconds=1)  # longest sleep of the loop between checks

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")


@dataclass
class PairState:
    next_due: datetime | None = None  # None: due now
    failures: int = 0
    last_error: str | None = None
    last_success: datetime | None = None
    skipped: str | None = None  # why the pair is not polled at all


@dataclass(frozen=True)
class PollReport:
    changes: int
    polled: tuple[Pair, ...]
    failed: Mapping[Pair, str]
    skipped: Mapping[Pair, str]


class Poller:
    def __init__(
        self,
        ledger: Ledger,
        gateway: OpcoGateway,
        options: PollOptions | None = None,
        clock: Clock | None = None,
        pairs: Sequence[Pair] = (),
        metrics: PollMetrics | None = None,
    ) -> None:
        self.ledger = ledger
        self.gateway = gateway
        self.options = options or PollOptions()
        self.clock: Clock = clock or SystemClock()
        self.pairs: list[Pair] = list(dict.fromkeys((cfa, OpcoCode(o)) for cfa, o in pairs))
        self.metrics: PollMetrics = metrics or _NoMetrics()
        self.state: dict[Pair, PairState] = {pair: PairState() for pair in self.pairs}
        # The last etat recorded per (cfa, opco, kind, numero): spares a ledger read per item.
        self._known: dict[tuple[str, str, str, str], str] = {}

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every pair on its own schedule until ``stop`` is set.

        Each pair runs its own loop, so a slow or hanging OPCO delays no other pair; at most
        ``concurrency`` polls run at once. A poll in progress at stop is cancelled (it only reads,
        and each recorded change is its own transaction)."""
        log.info("poll.started", pairs=len(self.pairs))
        limit = asyncio.Semaphore(self.options.concurrency)
        tasks = [
            asyncio.create_task(self._run_pair(pair, stop, limit), name=f"poll-{pair[1]}")
            for pair in self.pairs
        ]
        for task in tasks:
            task.add_done_callback(_log_crash)
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            log.info("poll.stopped")

    async def _run_pair(self, pair: Pair, stop: asyncio.Event, limit: asyncio.Semaphore) -> None:
        while not stop.is_set():
            state = self.state[pair]
            if _is_due(state.next_due, self.clock.now()):
                async with limit:
                    await self._poll_pair(pair)
                if state.skipped is not None:
                    state.next_due = self.clock.now() + self.options.interval
            wait = self._until(state.next_due)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait.total_seconds())

    def _until(self, next_due: datetime | None) -> timedelta:
        """How long to sleep before looking again (at most ``tick``, so clock jumps are seen)."""
        if next_due is None:
            return timedelta(0)
        return max(timedelta(0), min(next_due - self.clock.now(), self.options.tick))

    async def poll_due(self) -> PollReport:
        """Poll the pairs whose next poll is due."""
        now = self.clock.now()
        due = [p for p in self.pairs if _is_due(self.state[p].next_due, now)]
        return await self._poll(due)

    async def poll_once(self) -> PollReport:
        """Poll every pair now, whatever its schedule (tests, ``relais`` one-shot commands)."""
        return await self._poll(self.pairs)

    async def _poll(self, pairs: Sequence[Pair]) -> PollReport:
        limit = asyncio.Semaphore(self.options.concurrency)
        changes: dict[Pair, int] = {}
        failed: dict[Pair, str] = {}
        skipped: dict[Pair, str] = {}

        async def one(pair: Pair) -> None:
            async with limit:
                outcome = await self._poll_pair(pair)
            if isinstance(outcome, int):
                changes[pair] = outcome
            elif outcome[0] == "skipped":
                skipped[pair] = outcome[1]
            else:
                failed[pair] = outcome[1]

        async with asyncio.TaskGroup() as tg:
            for pair in pairs:
                tg.create_task(one(pair))
        return PollReport(
            changes=sum(changes.values()),
            polled=tuple(p for p in pairs if p in changes),
            failed=failed,
            skipped=skipped,
        )

    # ------------------------------------------------------------------ one pair

    async def _poll_pair(self, pair: Pair) -> int | tuple[Literal["skipped", "failed"], str]:
        cfa, opco = pair
        state = self.state.setdefault(pair, PairState())
        if not self.gateway.has_credentials(cfa, opco):
            state.skipped = "no credentials"
            return ("skipped", state.skipped)
        routes = [c for c in ("dossiers_etats", "factures_etats") if self.gateway.supports(opco, c)]
        if not routes:
            state.skipped = "no etats route at this OPCO"
            return ("skipped", state.skipped)
        if await self._paused(opco.value):
            state.skipped = "paused by the operators"
            return ("skipped", state.skipped)
        state.skipped = None
        with bound(cfa=cfa, opco=opco.value):
            try:
                changes = 0
                if "dossiers_etats" in routes:
                    async for etat in self.gateway.dossier_etats(cfa, opco):
                        changes += await self._dossier(cfa, opco, etat)
                if "factures_etats" in routes:
                    async for facture in self.gateway.facture_etats(cfa, opco):
                        changes += await self._facture(cfa, opco, facture)
            except (RelaisError, OSError) as exc:
                return ("failed", self._failed(pair, state, exc))
            except Exception as exc:  # a bug on one pair must not stop the others
                log.error("poll.pair_crashed", error=repr(exc), exc_info=exc)
                return ("failed", self._failed(pair, state, exc))
        now = self.clock.now()
        state.failures = 0
        state.last_error = None
        state.last_success = now
        state.next_due = now + self.options.interval
        self.metrics.poll_succeeded(opco.value, now)
        # Every poll of every pair is noise at INFO (most find nothing): only one that found
        # changes is told there, with its CFA and OPCO; the others at DEBUG.
        level = log.info if changes else log.debug
        level("poll.pair_done", cfa=cfa, opco=opco.value, changes=changes)
        return changes

    async def _paused(self, opco: str) -> bool:
        try:
            pauses = await self.ledger.opco_pauses()
        except (RelaisError, OSError) as exc:  # the pause is the claim's: polling goes on
            log.warning("poll.pause_check_failed", opco=opco, error=str(exc))
            return False
        return any(p.opco == opco and p.active(self.clock.now()) for p in pauses)

    def _failed(self, pair: Pair, state: PairState, exc: BaseException) -> str:
        now = self.clock.now()
        state.failures += 1
        delay = self.options.backoff.delay_for(exc, state.failures)
        if isinstance(exc, AuthError | ConfigurationError | NotSupportedError):
            # Someone must fix a key or a profile: do not hammer the OPCO meanwhile.
            delay = max(delay, self.options.interval)
        asked = retry_after_of(exc)
        if asked is not None:
            delay = max(delay, asked)
        state.next_due = now + delay
        state.last_error = str(exc)
        log.warning(
            "poll.pair_failed",
            error=str(exc),
            failures=state.failures,
            retry_in_s=delay.total_seconds(),
        )
        return state.last_error

    async def _dossier(self, cfa: str, opco: OpcoCode, item: DossierEtat) -> int:
        cache_key = (cfa, opco.value, "dossier", item.numero_interne)
        previous = self._known.get(cache_key)
        dossier_id: str | None = None
        if previous is None or previous != item.etat:
            record = await self.ledger.dossier_by_numero(opco.value, item.numero_interne)
            if record is not None and record.cfa == cfa:
                dossier_id = record.dossier_id
                previous = record.etat
        if previous == item.etat:
            self._known[cache_key] = item.etat
            return 0
        engagement, echeances, comment = await self._details(cfa, opco, item)
        event = StatusEvent.etat_changed(
            cfa=cfa,
            opco=opco,
            kind=EventKind.DOSSIER,
            numero=item.numero_interne,
            etat=item.etat,
            previous_etat=previous,
            occurred_at=self.clock.now(),
            dossier_id=dossier_id,
            numero_externe=item.numero_externe,
            engagement=engagement,
            echeances=echeances,
            motif=item.commentaire or comment,
        )
        changed = await self.ledger.record_etat(
            cfa=cfa,
            opco=opco.value,
            numero_interne=item.numero_interne,
            kind="dossier",
            etat=item.etat,
            statuses=[to_outbox(event)],
        )
        self._known[cache_key] = item.etat
        if changed:
            log.info(
                "poll.etat_changed", kind="dossier", etat=_code(item.etat), previous=_code(previous)
            )
        return 1 if changed else 0

    async def _details(
        self, cfa: str, opco: OpcoCode, item: DossierEtat
    ) -> tuple[float | None, list[EcheanceSummary] | None, str | None]:
        """Engagement, échéancier and commentaireEtat of a changed dossier (None when
        unavailable)."""
        if not self.options.details or not self.gateway.supports(opco, "dossier_detail"):
            return None, None, None
        try:
            detail = await self.gateway.get_dossier(cfa, opco, item.numero_interne)
        except (NotFoundError, NotSupportedError) as exc:
            log.warning("poll.details_unavailable", error=str(exc))
            return None, None, None
        return _engagement(detail), _echeances(detail), _comment(detail)

    async def _facture(self, cfa: str, opco: OpcoCode, item: FactureEtat) -> int:
        numero = item.numero_interne_facture
        cache_key = (cfa, opco.value, "facture", numero)
        previous = self._known.get(cache_key)
        dossier_id: str | None = None
        if (previous is None or previous != item.etat) and item.reference_facture_cfa:
            record = await self.ledger.facture(cfa, item.reference_facture_cfa)
            if record is not None and record.opco == opco.value:
                dossier_id = record.dossier_id
                previous = record.etat if previous is None else previous
        if previous == item.etat:
            self._known[cache_key] = item.etat
            return 0
        event = StatusEvent.etat_changed(
            cfa=cfa,
            opco=opco,
            kind=EventKind.FACTURE,
            numero=numero,
            etat=item.etat,
            previous_etat=previous,
            occurred_at=self.clock.now(),
            dossier_id=dossier_id,
            reference_facture_cfa=item.reference_facture_cfa,
            motif=_opt_text(item.body.get("commentaire")),
        )
        changed = await self.ledger.record_etat(
            cfa=cfa,
            opco=opco.value,
            numero_interne=numero,
            kind="facture",
            etat=item.etat,
            statuses=[to_outbox(event)],
        )
        self._known[cache_key] = item.etat
        if changed:
            log.info(
                "poll.etat_changed", kind="facture", etat=_code(item.etat), previous=_code(previous)
            )
        return 1 if changed else 0


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        log.error("poll.loop_crashed", task=task.get_name(), error=repr(exc), exc_info=exc)


def _is_due(next_due: datetime | None, now: datetime) -> bool:
    return next_due is None or next_due <= now


_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


def _code(etat: str | None) -> str | None:
    """An etat as logged: a code as is; anything else the OPCO wrote (free text may name the
    apprentice) only as its length. The status event carries it whole, to its CFA only."""
    if etat is None or _CODE.fullmatch(etat):
        return etat
    return f"<{len(etat)} chars>"


def _engagement(detail: Mapping[str, Any]) -> float | None:
    value = detail.get("engagement")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _comment(detail: Mapping[str, Any]) -> str | None:
    """The dossier's commentaireEtat (top level, or in its ``cerfa``)."""
    cerfa = detail.get("cerfa")
    inner = cerfa.get("commentaireEtat") if isinstance(cerfa, Mapping) else None
    return _opt_text(detail.get("commentaireEtat")) or _opt_text(inner)


def _opt_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _echeances(detail: Mapping[str, Any]) -> list[EcheanceSummary] | None:
    raw = detail.get("echeances")
    if not isinstance(raw, list) or not raw:
        return None
    out: list[EcheanceSummary] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        try:
            out.append(EcheanceSummary.model_validate(item))  # drops the IBAN
        except ValidationError:
            log.warning("poll.echeance_unreadable")
    return out or None
