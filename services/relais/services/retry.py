"""relais's one retry policy (in the style of hynek/stamina), as pure decisions.

Nothing here sleeps: a worker never waits inside a handler. The dispatcher asks the policy what to
do after a failed OPCO call and writes the answer into the ledger (``next_attempt_at``); the poller
asks it how long to back off a failing (CFA, OPCO) pair.

- *Which* errors retry is a named predicate (``retry_on``), by default :func:`is_retryable`.
- *When* is exponential backoff with full jitter: for the n-th failure the window is
  ``min(wait_max, wait_initial * wait_exp_base ** (n - 1))`` and the wait is uniform in
  ``[(1 - wait_jitter) * window, window]`` (``wait_jitter=1``, the default, is full jitter); a
  ``Retry-After`` from the OPCO wins when larger.
- *How long* is capped twice: ``attempts`` (failures, default 12) and ``timeout`` (age of the
  command, default 24 h). A retry that could only happen after the deadline is not scheduled.
- Tests switch it to instant (:meth:`RetryPolicy.instant`: no waits) or to deterministic waits by
  injecting ``rand`` (``lambda: 1.0`` gives the upper bound of every jitter window).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from relais.errors import AmbiguousOpcoError, RetryableOpcoError

RetryPredicate = Callable[[BaseException], bool]


def is_retryable(exc: BaseException) -> bool:
    """5xx, 429/503, connection errors, timeouts: the OPCO may answer later."""
    return isinstance(exc, RetryableOpcoError)


def is_ambiguous(exc: BaseException) -> bool:
    """The request may have been applied (timeout or dropped response after it was sent)."""
    return isinstance(exc, AmbiguousOpcoError)


def retry_after_of(exc: BaseException) -> timedelta | None:
    """The wait the OPCO asked for (``Retry-After``), if any."""
    seconds = getattr(exc, "retry_after", None)
    if isinstance(seconds, int | float) and seconds > 0:
        return timedelta(seconds=float(seconds))
    return None


class GiveUpReason(StrEnum):
    NOT_RETRYABLE = "not_retryable"
    ATTEMPTS = "attempts"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Retry:
    """Try again at ``at`` (``delay`` after now)."""

    at: datetime
    delay: timedelta


@dataclass(frozen=True)
class GiveUp:
    reason: GiveUpReason

    def describe(self, policy: RetryPolicy) -> str:
        if self.reason is GiveUpReason.ATTEMPTS:
            return f"gave up after {policy.attempts} attempts"
        if self.reason is GiveUpReason.TIMEOUT:
            return f"gave up: no success within {policy.timeout}"
        return "error is not retryable"


Decision = Retry | GiveUp


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff with full jitter, capped in attempts and total age; Retry-After honoured."""

    attempts: int = 12
    timeout: timedelta = timedelta(hours=24)
    wait_initial: timedelta = timedelta(seconds=1)
    wait_max: timedelta = timedelta(hours=1)
    wait_exp_base: float = 2.0
    wait_jitter: float = 1.0  # fraction of the window drawn at random; 1.0 = full jitter
    retry_on: RetryPredicate = is_retryable
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)
    instant_mode: bool = False

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be >= 1")
        if self.wait_exp_base < 1:
            raise ValueError("wait_exp_base must be >= 1")
        if not 0.0 <= self.wait_jitter <= 1.0:
            raise ValueError("wait_jitter must be within [0, 1]")

    @classmethod
    def instant(
        cls,
        *,
        attempts: int = 12,
        timeout: timedelta = timedelta(hours=24),
        retry_on: RetryPredicate = is_retryable,
    ) -> RetryPolicy:
        """No waits at all (tests): every retry is due at once; the caps still apply."""
        return cls(attempts=attempts, timeout=timeout, retry_on=retry_on, instant_mode=True)

    def backoff(self, failures: int) -> timedelta:
        """The jittered wait after the ``failures``-th consecutive failure (1-based)."""
        if self.instant_mode:
            return timedelta(0)
        n = max(failures, 1)
        # Cap the exponent so a long outage cannot overflow the float.
        window = self.wait_initial.total_seconds() * self.wait_exp_base ** min(n - 1, 64)
        window = min(window, self.wait_max.total_seconds())
        draw = min(max(self.rand(), 0.0), 1.0)
        return timedelta(seconds=window * (1.0 - self.wait_jitter + self.wait_jitter * draw))

    def delay_for(self, exc: BaseException | None, failures: int) -> timedelta:
        """Backoff, or the OPCO's Retry-After when it is longer."""
        delay = self.backoff(failures)
        if self.instant_mode or exc is None:
            return delay
        asked = retry_after_of(exc)
        return max(delay, asked) if asked is not None else delay

    def decide(
        self,
        exc: BaseException,
        *,
        failures: int,
        first_seen: datetime,
        now: datetime,
    ) -> Decision:
        """What to do after the ``failures``-th failure (this one included) of a job born at
        ``first_seen``."""
        if not self.retry_on(exc):
            return GiveUp(GiveUpReason.NOT_RETRYABLE)
        if failures >= self.attempts:
            return GiveUp(GiveUpReason.ATTEMPTS)
        delay = self.delay_for(exc, failures)
        at = now + delay
        if at - first_seen > self.timeout:
            return GiveUp(GiveUpReason.TIMEOUT)
        return Retry(at=at, delay=delay)
