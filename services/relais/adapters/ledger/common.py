"""What both ledger engines share: timestamps, validation of arguments, key names of ``counts``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from relais.services.ledger_port import CommandState, Completion, OutboxMessage

Clock = Callable[[], datetime]

OPEN_STATES = (CommandState.PENDING, CommandState.IN_FLIGHT)
TERMINAL_STATES = (CommandState.DONE, CommandState.FAILED)
ETAT_KINDS = ("dossier", "facture")

# ``counts()`` keys besides the command states.
OUTBOX_BACKLOG = "outbox_backlog"
OLDEST_PENDING_AGE = "oldest_pending_age_seconds"


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_completion(completion: Completion) -> None:
    if completion.state not in TERMINAL_STATES:
        raise ValueError(f"a completion is terminal (done or failed), not {completion.state!r}")


def check_etat_kind(kind: str) -> None:
    if kind not in ETAT_KINDS:
        raise ValueError(f"etat kind must be one of {ETAT_KINDS}, not {kind!r}")


def headers_json(headers: Mapping[str, str]) -> str:
    return json.dumps(dict(headers), separators=(",", ":"), ensure_ascii=False)


def dossier_numbers(completion: Completion) -> tuple[str | None, str | None]:
    ids = completion.dossier_ids
    return ids.get("numeroInterne"), ids.get("numeroExterne")


def touches_dossier(kind: str, completion: Completion) -> bool:
    """Whether a completion writes the dossiers row: ids, an etat, or a dossier just created."""
    return bool(
        completion.dossier_ids
        or completion.dossier_etat is not None
        or (kind == "dossier" and completion.state == CommandState.DONE)
    )


def unique_statuses(statuses: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """The statuses once each, first occurrence kept (event ids are unique in the outbox)."""
    seen: set[str] = set()
    out = []
    for status in statuses:
        if status.event_id not in seen:
            seen.add(status.event_id)
            out.append(status)
    return out
