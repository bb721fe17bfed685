"""``relais keys check``: each CFA key at each OPCO, soonest expiry first.

Two sources per (CFA, OPCO) key: the expiry configured with the key (keys file / secret mount),
and what the OPCO says through its ``cfakeyinfo`` route (when its profile has it). The earlier of
the two is the one that bites. Keys are never shown, only whose they are.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.factory import build_gateway
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.errors import RelaisError

State = Literal["invalid", "expired", "expiring", "ok", "unknown", "error"]
_ORDER: dict[str, int] = {"invalid": 0, "expired": 1, "error": 2, "expiring": 3, "unknown": 4}
WARN_DAYS = 30


@dataclass(frozen=True)
class KeyRow:
    cfa: str
    opco: str
    configured_expiry: date | None
    opco_expiry: date | None
    opco_valid: bool | None  # None: not asked (no cfakeyinfo route) or no answer
    comment: str
    state: State
    days_left: int | None

    @property
    def expiry(self) -> date | None:
        dates = [d for d in (self.configured_expiry, self.opco_expiry) if d is not None]
        return min(dates) if dates else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "cfa": self.cfa,
            "opco": self.opco,
            "state": self.state,
            "daysLeft": self.days_left,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "configuredExpiry": self.configured_expiry.isoformat()
            if self.configured_expiry
            else None,
            "opcoExpiry": self.opco_expiry.isoformat() if self.opco_expiry else None,
            "opcoValid": self.opco_valid,
            "comment": self.comment,
        }

    def text(self) -> str:
        days = f"{self.days_left:>5}d" if self.days_left is not None else "    ?"
        expiry = self.expiry.isoformat() if self.expiry else "-"
        source = []
        if self.configured_expiry:
            source.append(f"configured {self.configured_expiry.isoformat()}")
        if self.opco_expiry:
            source.append(f"OPCO {self.opco_expiry.isoformat()}")
        note = f"  ({self.comment})" if self.comment else ""
        return (
            f"{self.state:<9}{days}  {expiry:<10}  {self.cfa}  {self.opco:<12}"
            f"  {', '.join(source)}{note}"
        )


def classify(
    today: date,
    configured: date | None,
    opco_expiry: date | None,
    opco_valid: bool | None,
    failed: bool,
    warn_days: int = WARN_DAYS,
) -> tuple[State, int | None]:
    dates = [d for d in (configured, opco_expiry) if d is not None]
    expiry = min(dates) if dates else None
    days = (expiry - today).days if expiry is not None else None
    if opco_valid is False and (days is None or days >= 0):
        return "invalid", days
    if days is not None and days < 0:
        return "expired", days
    if failed:
        return "error", days
    if days is not None and days <= warn_days:
        return "expiring", days
    if days is None:
        return "unknown", None
    return "ok", days


async def check_keys(
    settings: Settings,
    credentials: CredentialStore,
    *,
    today: date,
    ask_opco: bool = True,
    warn_days: int = WARN_DAYS,
    concurrency: int = 8,
) -> list[KeyRow]:
    entries = credentials.entries()
    gateway = build_gateway(settings, credentials) if ask_opco and entries else None
    limit = asyncio.Semaphore(concurrency)

    async def one(siret: str, opco: OpcoCode, configured: date | None) -> KeyRow:
        opco_expiry: date | None = None
        opco_valid: bool | None = None
        comment = ""
        failed = False
        if gateway is not None and gateway.supports(opco, "cfakeyinfo"):
            async with limit:
                try:
                    info = await gateway.key_info(siret, opco)
                    opco_expiry, opco_valid, comment = (
                        info.date_fin_validite,
                        info.valid,
                        info.comment,
                    )
                except RelaisError as exc:
                    failed, comment = True, f"{exc.code}: {exc}"[:160]
        elif gateway is not None:
            comment = "no cfakeyinfo route at this OPCO"
        state, days = classify(today, configured, opco_expiry, opco_valid, failed, warn_days)
        return KeyRow(siret, opco.value, configured, opco_expiry, opco_valid, comment, state, days)

    try:
        rows = await asyncio.gather(*(one(e.siret, e.opco, e.expiry) for e in entries))
    finally:
        if gateway is not None:
            await gateway.aclose()
    return sorted(
        rows,
        key=lambda r: (
            _ORDER.get(r.state, 5),
            r.days_left if r.days_left is not None else 10**9,
            r.cfa,
            r.opco,
        ),
    )
