"""What both ledger engines share: timestamps, argument checks, counts keys, error translation."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from relais.errors import LedgerError
from relais.services.ledger_port import CommandState, Completion, OutboxMessage

Clock = Callable[[], datetime]

TERMINAL_STATES = (CommandState.DONE, CommandState.FAILED)
ETAT_KINDS = ("dossier", "facture")

# ``counts()``: one key per command state, plus the unpublished outbox rows under this key.
OUTBOX_BACKLOG = "outbox"
COUNTS_QUERY = (
    "SELECT state AS name, count(*) AS n FROM commands GROUP BY state"
    f" UNION ALL SELECT '{OUTBOX_BACKLOG}', count(*) FROM outbox WHERE published_at IS NULL"
)


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


# The port's methods (and the adapters' own): what ``translate_errors`` wraps.
PUBLIC_METHODS = (
    "migrate",
    "ping",
    "accept",
    "reject",
    "ingest_batch",
    "claim",
    "complete",
    "reschedule",
    "release",
    "dossier",
    "dossier_by_numero",
    "has_open_command",
    "facture",
    "record_etat",
    "outbox_batch",
    "mark_published",
    "set_aside",
    "commands_for",
    "counts",
    "describe_schema",
    "migration_status",
)

C = TypeVar("C", bound=type)


def translate_errors(*library_errors: type[BaseException]) -> Callable[[C], C]:
    """Class decorator: the driver's exceptions leave the adapter as ``LedgerError``.

    The message names the operation and the driver's error class and text (SQLSTATE messages, not
    row values: no personal data).
    """

    def wrap_method(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except library_errors as exc:
                raise LedgerError(f"ledger {name} failed: {type(exc).__name__}: {exc}") from exc

        return wrapper

    def decorate(cls: C) -> C:
        for name in PUBLIC_METHODS:
            setattr(cls, name, wrap_method(name, getattr(cls, name)))
        return cls

    return decorate
