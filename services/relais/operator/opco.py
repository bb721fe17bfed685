"""``relais opco pause|resume|status``: an OPCO paused for its maintenance window, in the ledger.

The pause is a row of the ledger (``Ledger.pause_opco``), so every dispatcher replica obeys it:
their claim hands out none of the OPCO's commands until it is resumed or its ``until`` passes
(the commands wait where they are, no attempt spent, in order). ``--until`` is an instant (ISO
8601; without an offset it is Paris time, as the operators read their clocks) or a duration from
now (``90m``, ``2h``, ``1h30m``, ``1d``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from relais.adapters.ledger import open_ledger
from relais.config import Settings
from relais.domain.dates import PARIS
from relais.errors import ConfigurationError, InputError
from relais.services.ledger_port import Ledger, OpcoPause

MAX_PAUSE = timedelta(days=31)  # a longer "maintenance window" is a typo (or a resume forgotten)
MAX_REASON = 200  # characters of the operator's note

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_until(text: str, now: datetime) -> datetime:
    """The end of a pause from ``--until``: a duration from ``now`` or an instant (aware UTC)."""
    value = text.strip()
    match = _DURATION.match(value.lower())
    if value and match and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        until = now + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                f"--until {value[:40]!r}: neither an ISO 8601 date-time nor a duration "
                "such as 90m, 2h, 1h30m or 1d"
            ) from None
        until = (moment if moment.tzinfo else moment.replace(tzinfo=PARIS)).astimezone(UTC)
    if until <= now:
        raise InputError(f"--until {value[:40]!r} is not in the future")
    if until - now > MAX_PAUSE:
        raise InputError(f"--until {value[:40]!r} is more than {MAX_PAUSE.days} days away")
    return until


def check_reason(reason: str | None) -> str | None:
    """The operator's note, one bounded line (never shown to the CFAs)."""
    if reason is None or not reason.strip():
        return None
    if len(reason) > MAX_REASON or any(ord(ch) < 32 for ch in reason):
        raise InputError(f"--reason: one line of at most {MAX_REASON} characters")
    return reason.strip()


def ledger_url(settings: Settings, *, demo: bool) -> str:
    """The ledger to act on: RELAIS_LEDGER__URL, else a running demo's; never a guess."""
    if not demo and "url" not in settings.ledger.model_fields_set:
        raise ConfigurationError(
            "no ledger to act on: RELAIS_LEDGER__URL is not set and no demo is running"
        )
    return settings.ledger.url.get_secret_value()


async def _with_ledger(url: str, action: Callable[[Ledger], Any]) -> Any:
    ledger = open_ledger(url)
    try:
        return await action(ledger)
    finally:
        await ledger.close()


async def pause(url: str, opco: str, *, until: datetime | None, reason: str | None) -> OpcoPause:
    paused: OpcoPause = await _with_ledger(
        url, lambda ledger: ledger.pause_opco(opco, until=until, reason=reason)
    )
    return paused


async def resume(url: str, opco: str) -> bool:
    resumed: bool = await _with_ledger(url, lambda ledger: ledger.resume_opco(opco))
    return resumed


async def pauses(url: str) -> list[OpcoPause]:
    found: list[OpcoPause] = await _with_ledger(url, lambda ledger: ledger.opco_pauses())
    return found


@dataclass(frozen=True)
class PauseLine:
    """One OPCO's pause as ``relais opco status`` shows it."""

    opco: str
    state: str  # paused | expired (its until passed) | resumed
    paused_at: datetime
    until: datetime | None
    reason: str | None
    resumed_at: datetime | None

    @classmethod
    def of(cls, pause: OpcoPause, now: datetime) -> PauseLine:
        if pause.active(now):
            state = "paused"
        else:
            state = "resumed" if pause.resumed_at is not None else "expired"
        return cls(pause.opco, state, pause.paused_at, pause.until, pause.reason, pause.resumed_at)

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.astimezone(UTC).isoformat()

        return {
            "opco": self.opco,
            "state": self.state,
            "pausedAt": iso(self.paused_at),
            "until": iso(self.until),
            "reason": self.reason,
            "resumedAt": iso(self.resumed_at),
        }


def until_text(until: datetime | None) -> str:
    """When a pause ends, for a person (Paris time)."""
    return "`relais opco resume`" if until is None else _paris(until)


def _paris(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment.astimezone(PARIS):%Y-%m-%d %H:%M %Z}"


def render(lines: list[PauseLine]) -> str:
    """A table of the OPCOs' pauses (times in Paris); a sentence when none is paused."""
    active = [line for line in lines if line.state == "paused"]
    head = f"{len(active)} OPCO paused" if active else "no OPCO paused"
    if not lines:
        return head
    rows = [("OPCO", "STATE", "SINCE", "UNTIL", "REASON")]
    rows += [
        (
            line.opco,
            line.state,
            _paris(line.paused_at),
            _paris(line.until) if line.state != "resumed" else f"resumed {_paris(line.resumed_at)}",
            line.reason or "",
        )
        for line in lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    table = [
        "  ".join([*(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)), row[4]])
        for row in rows
    ]
    return "\n".join([head, *(line.rstrip() for line in table)])
