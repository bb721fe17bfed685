"""The real clock: ``SystemClock`` (``relais.domain.clock.Clock``, re-exported here)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from relais.domain.clock import Clock

__all__ = ["Clock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
