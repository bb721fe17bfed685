"""The simulator's clock: instruction days that pass on a scale and/or when an operator says so.

``day`` is a float count of simulated days since the start. With ``day_seconds > 0`` one simulated
day passes every ``day_seconds`` real seconds; with ``day_seconds == 0`` time stands still and only
``advance(days)`` moves it (what tests use). ``today()`` is the start date plus the whole days
passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date, timedelta


class SimClock:
    def __init__(
        self,
        start: date,
        day_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if day_seconds < 0:
            raise ValueError("day_seconds must be >= 0")
        self._start = start
        self._monotonic = monotonic
        self._day_seconds = day_seconds
        self._base_day = 0.0  # days accumulated before the current scale was set
        self._base_t = monotonic()

    @property
    def start(self) -> date:
        return self._start

    @property
    def day_seconds(self) -> float:
        return self._day_seconds

    def day(self) -> float:
        if self._day_seconds <= 0:
            return self._base_day
        return self._base_day + (self._monotonic() - self._base_t) / self._day_seconds

    def today(self) -> date:
        return self._start + timedelta(days=math.floor(self.day() + 1e-9))

    def date_of(self, day: float) -> date:
        return self._start + timedelta(days=math.floor(day + 1e-9))

    def advance(self, days: float) -> float:
        if days < 0:
            raise ValueError("the clock does not go back")
        self._rebase()
        self._base_day += days
        return self._base_day

    def set_scale(self, day_seconds: float) -> None:
        if day_seconds < 0:
            raise ValueError("day_seconds must be >= 0")
        self._rebase()
        self._day_seconds = day_seconds

    def reset(self, start: date | None = None) -> None:
        if start is not None:
            self._start = start
        self._base_day = 0.0
        self._base_t = self._monotonic()

    def _rebase(self) -> None:
        now = self._monotonic()
        self._base_day = self.day()
        self._base_t = now
