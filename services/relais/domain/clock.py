"""``Clock``: where time comes from, for every layer (a real clock in production, a manual one in
tests). ``relais.services.clock.SystemClock`` is the real one.

- ``now()``: the wall clock, an aware datetime (event times, leases, retries, etats);
- ``monotonic()``: seconds for durations (rate limits, breaker cool-downs, token lifetimes);
- ``sleep()``: waiting, so that a test clock can skip it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...
