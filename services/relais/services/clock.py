"""Where the services get "now": any object with ``now() -> aware datetime``
(``relais.domain.dates.Clock``); ``SystemClock`` is the real one."""

from __future__ import annotations

from datetime import UTC, datetime

from relais.domain.dates import Clock

__all__ = ["Clock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
