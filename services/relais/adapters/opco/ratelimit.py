"""A token bucket per OPCO: at most ``rate`` requests per second, bursts up to ``capacity``."""

from __future__ import annotations

import asyncio

from relais.domain.clock import Clock


class TokenBucket:
    def __init__(self, rate: float, clock: Clock, capacity: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, capacity if capacity is not None else rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self) -> float:
        """Take a token if one is there (returns 0.0), else return the seconds to wait."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def acquire(self) -> None:
        """Wait for a token; waiters are served in arrival order (the lock is FIFO)."""
        async with self._lock:
            while (wait := self.try_acquire()) > 0:
                await self._clock.sleep(wait)
