"""A circuit breaker per OPCO, so one failing OPCO costs nobody else anything.

closed --(N consecutive retryable failures)--> open --(cool-down elapsed)--> half_open
half_open --(probe succeeds)--> closed;   half_open --(probe fails)--> open (new cool-down)

While open (and while a half-open probe is in flight) calls fail fast without touching the
network. Only retryable failures (5xx, 429, timeouts, connection errors) count; a 4xx answer
proves the OPCO is up and counts as a success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from relais.domain.clock import Clock


@dataclass(frozen=True)
class BreakerSettings:
    failure_threshold: int = 5
    cooldown_s: float = 30.0


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings,
        clock: Clock,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._on_change = on_change
        self._state = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        if self._state == "open" and self._remaining() <= 0:
            return "half_open"
        return self._state

    def _remaining(self) -> float:
        return self._opened_at + self.settings.cooldown_s - self._clock.monotonic()

    def before_call(self) -> float | None:
        """None: go ahead. A number: refuse, retry after that many seconds."""
        if self._state == "closed":
            return None
        if self._state == "open":
            remaining = self._remaining()
            if remaining > 0:
                return remaining
            self._set("half_open")
        if self._probing:
            return max(1.0, self.settings.cooldown_s / 10)
        self._probing = True
        return None

    def on_success(self) -> None:
        self._failures = 0
        self._probing = False
        if self._state != "closed":
            self._set("closed")

    def on_failure(self) -> None:
        self._probing = False
        self._failures += 1
        if self._state == "half_open" or self._failures >= self.settings.failure_threshold:
            self._opened_at = self._clock.monotonic()
            if self._state != "open":
                self._set("open")

    def release(self) -> None:
        """The call ended without saying anything about the OPCO's health (e.g. cancelled)."""
        self._probing = False

    def _set(self, state: str) -> None:
        self._state = state
        if self._on_change is not None:
            self._on_change(state)
