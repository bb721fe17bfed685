"""Key expiry watch: when each CFA's key at each OPCO stops working, as a metric, before it bites.

For every (CFA, OPCO) pair that has a key, the earlier of the configured expiry and what the OPCO
answers on ``cfakeyinfo`` (where its profile has the route) is reported through
``KeyExpiryMetrics.key_expiry``; the alert rules compare it with the time now. Asked again every
``interval``; an OPCO that does not answer keeps the previous value and is asked again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Protocol

from relais.domain.dates import PARIS
from relais.domain.opco import OpcoCode
from relais.errors import RelaisError
from relais.logging import get_logger
from relais.services.opco_port import OpcoGateway

log = get_logger(__name__)

KeyPair = tuple[str, OpcoCode, date | None]  # CFA SIRET, OPCO, configured expiry


class KeyExpiryMetrics(Protocol):
    def key_expiry(self, opco: str, cfa: str, expires_at: datetime) -> None: ...


class KeyWatch:
    def __init__(
        self,
        gateway: OpcoGateway,
        pairs: Iterable[KeyPair],
        metrics: KeyExpiryMetrics,
        *,
        interval: timedelta = timedelta(hours=6),
    ) -> None:
        self._gateway = gateway
        self._pairs = list(pairs)
        self._metrics = metrics
        self._interval = interval

    async def check_once(self) -> int:
        """Ask every pair once; the number of pairs with a known expiry."""
        known = 0
        for cfa, opco, configured in self._pairs:
            dates = [configured] if configured is not None else []
            if self._gateway.supports(opco, "cfakeyinfo"):
                with contextlib.suppress(RelaisError):
                    info = await self._gateway.key_info(cfa, opco)
                    if info.date_fin_validite is not None:
                        dates.append(info.date_fin_validite)
                    if not info.valid:
                        dates.append(date.min)  # refused now: already expired
            if dates:
                expiry = min(dates)
                at = datetime.combine(max(expiry, date(1970, 1, 2)), time.min, PARIS)
                self._metrics.key_expiry(opco.value, cfa, at)
                known += 1
        return known

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check_once()
            except Exception as exc:  # noqa: BLE001 - a metric must never stop the process
                log.warning("keys.check_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval.total_seconds())
