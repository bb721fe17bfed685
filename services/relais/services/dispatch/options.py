"""What a dispatcher is given: slots, per-OPCO share, lease, retry policy, pacing."""

from __future__ import annotations

import math
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import timedelta

from relais.services.retry import RetryPolicy

AUTO_SHARE = -1  # DispatchOptions.per_opco_inflight: a quarter of inflight_limit


@dataclass(frozen=True)
class DispatchOptions:
    inflight_limit: int = 256  # commands handled at once by this worker (many dossiers)
    # At most this many of those slots for one OPCO, so a slow OPCO cannot starve the others
    # (AUTO_SHARE: max(1, ceil(inflight_limit / 4)); 0 or None: no cap). See Dispatcher.run.
    per_opco_inflight: int | None = AUTO_SHARE
    lease: timedelta = timedelta(seconds=120)  # a crashed worker's claims return after this
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idle_min: timedelta = timedelta(milliseconds=50)  # ledger poll when work just ran out...
    idle_max: timedelta = timedelta(seconds=1)  # ...doubling up to this while nothing is due
    defer: timedelta = timedelta(seconds=5)  # first recheck of a follow-up awaiting its dossier
    defer_max: timedelta = timedelta(minutes=5)  # ...rechecks slow down to this
    retrying_status_every: int = 4  # "retrying" on attempt 1 and every Nth; 0: never
    drain: timedelta = timedelta(seconds=30)  # graceful stop: wait this long for running calls
    coalesce: timedelta = timedelta(milliseconds=5)  # gather slots freed together into one claim

    def __post_init__(self) -> None:
        if self.inflight_limit < 1:
            raise ValueError("inflight_limit must be >= 1")
        if self.per_opco_inflight is not None and self.per_opco_inflight < AUTO_SHARE:
            raise ValueError("per_opco_inflight must be >= 0 (or AUTO_SHARE, or None)")

    @property
    def opco_cap(self) -> int | None:
        """Slots one OPCO may fill at once; None: no cap."""
        share = self.per_opco_inflight
        if share == AUTO_SHARE:
            return max(1, math.ceil(self.inflight_limit / 4))
        return share or None


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
