"""The ledger contract suite: every test runs on SQLite and on PostgreSQL (``ledger_url``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio

from relais.adapters.ledger import open_ledger
from relais.services.ledger_port import CommandKind, Ledger, NewCommand, OutboxMessage
from tests.payloads import payload_of

CFA = "19750000000011"
OTHER_CFA = "19750000000029"


def status(event_id: str, key: str = "D1", **fields: Any) -> OutboxMessage:
    """A status event as the pipeline would enqueue it."""
    body = {"eventId": event_id, "dossierId": key, **fields}
    return OutboxMessage(
        event_id=event_id,
        key=key,
        headers={"ce_id": event_id, "ce_type": "fr.relais.status.v1", "ce_subject": key},
        value=json.dumps(body).encode(),
    )


def command(
    event_id: str,
    dossier_id: str = "D1",
    *,
    cfa: str = CFA,
    opco: str = "AKTO",
    kind: CommandKind = CommandKind.DOSSIER,
    payload: Mapping[str, Any] | None = None,
    depends_on: tuple[str, ...] = (),
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=kind,
        payload=payload_of(payload or {"event": event_id}),
        depends_on=depends_on,
    )


def now() -> datetime:
    return datetime.now(UTC)


@pytest_asyncio.fixture(loop_scope="function")
async def ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(loop_scope="function")
async def second_ledger(ledger_url: str) -> AsyncIterator[Ledger]:
    """Another connection (pool) to the same ledger: a second process, as far as the DB knows."""
    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        await opened.close()
