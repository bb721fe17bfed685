"""``relais dossier show ID``: one dossier's timeline from the ledger and the status topic.

The ledger gives the commands (what relais was asked to do, their state, attempts, last error) and
the dossier's OPCO ids and last known etat; the status topic gives every status published for it
(received, retrying, submitted, etat changes...). The CFA is found from the statuses when not
given. Nothing personal is shown: ledger payloads are not printed, only their kind and state.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relais.adapters.ledger import open_ledger
from relais.config import Settings
from relais.operator.watch import StatusFilter, StatusLine, statuses
from relais.services.ledger_port import Command, DossierRecord


@dataclass(frozen=True)
class TimelineEntry:
    at: str  # ISO time
    source: str  # "command" | "status"
    what: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "source": self.source, "what": self.what, **self.detail}


@dataclass
class DossierView:
    dossier_id: str
    cfa: str | None
    record: DossierRecord | None
    commands: list[Command]
    timeline: list[TimelineEntry]

    def as_dict(self) -> dict[str, Any]:
        rec = self.record
        return {
            "dossierId": self.dossier_id,
            "cfa": self.cfa,
            "opco": rec.opco if rec else None,
            "numeroInterne": rec.numero_interne if rec else None,
            "numeroExterne": rec.numero_externe if rec else None,
            "etat": rec.etat if rec else None,
            "commands": [
                {
                    "id": c.id,
                    "eventId": c.event_id,
                    "kind": c.kind.value,
                    "opco": c.opco,
                    "state": c.state.value,
                    "attempts": c.attempts,
                    "lastError": c.last_error,
                }
                for c in self.commands
            ],
            "timeline": [e.as_dict() for e in self.timeline],
        }


def _iso(value: datetime) -> str:
    return value.isoformat()


def _status_entry(line: StatusLine) -> TimelineEntry:
    b = line.body
    detail = {
        k: b[k]
        for k in (
            "eventId",
            "opco",
            "kind",
            "numeroInterne",
            "numeroInterneFacture",
            "referenceFactureCFA",
            "etat",
            "previousEtat",
            "attempts",
            "reason",
        )
        if b.get(k) is not None
    }
    errors = b.get("errors") or []
    if errors:
        detail["errors"] = [e.get("code") for e in errors if isinstance(e, dict)]
    return TimelineEntry(str(b.get("occurredAt", "")), "status", line.status, detail)


def _command_entry(command: Command) -> TimelineEntry:
    detail: dict[str, Any] = {
        "eventId": command.event_id,
        "kind": command.kind.value,
        "opco": command.opco,
        "state": command.state.value,
        "attempts": command.attempts,
    }
    if command.last_error:
        detail["lastError"] = command.last_error
    if command.state.value in ("pending", "in_flight"):
        detail["nextAttemptAt"] = _iso(command.next_attempt_at)
    return TimelineEntry(_iso(command.created_at), "command", f"{command.kind.value}", detail)


async def show(
    settings: Settings, dossier_id: str, *, cfa: str | None = None, read_topic: bool = True
) -> DossierView:
    lines: list[StatusLine] = []
    if read_topic:
        reader = statuses(
            settings.kafka,
            keep=StatusFilter(dossier=dossier_id, cfa=cfa),
            from_beginning=True,
            follow=False,
            idle_s=1.0,
        )
        async with contextlib.aclosing(reader) as stream:
            lines = [line async for line in stream]
    if cfa is None:
        cfa = next((line.cfa for line in lines if line.cfa), None)
    ledger = open_ledger(settings.ledger.url.get_secret_value())
    try:
        record = await ledger.dossier(cfa, dossier_id) if cfa else None
        commands = await ledger.commands_for(cfa, dossier_id) if cfa else []
    finally:
        await ledger.close()
    timeline = [_status_entry(line) for line in lines]
    timeline.extend(_command_entry(command) for command in commands)
    timeline.sort(key=lambda e: (e.at, e.source != "command"))
    return DossierView(dossier_id, cfa, record, commands, timeline)


def render_text(view: DossierView) -> str:
    d = view.as_dict()
    head = [
        f"dossier {view.dossier_id}  CFA {d['cfa'] or '?'}  OPCO {d['opco'] or '?'}",
        f"  numeroInterne {d['numeroInterne'] or '-'}  numeroExterne {d['numeroExterne'] or '-'}"
        f"  etat {d['etat'] or '-'}",
        f"  commands: {len(view.commands)}",
    ]
    for c in d["commands"]:
        err = f"  last error: {c['lastError']}" if c["lastError"] else ""
        head.append(
            f"    #{c['id']} {c['kind']:<11} {c['state']:<9} attempts {c['attempts']}  "
            f"event {c['eventId']}{err}"
        )
    head.append("  timeline:")
    for e in view.timeline:
        extra = " ".join(f"{k}={v}" for k, v in e.detail.items() if k not in ("kind",))
        head.append(f"    {e.at[:23]:<23} {e.source:<7} {e.what:<13} {extra}")
    return "\n".join(head)
