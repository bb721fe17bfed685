"""OPCO pauses in the ledger, written once for both engines (their SQL in ``queries/<engine>.sql``).

An operator pauses an OPCO for its maintenance window (``relais opco pause``): one row per OPCO in
``opco_pauses``, kept after a resume, whose ``pause_id`` grows with each new pause. The engines'
``claim`` query leaves out the commands of an OPCO whose pause holds at the claim's ``now`` (not
resumed, ``until`` not passed), so every replica obeys and a pause with an ``until`` expires by
itself; a held command stays ``pending`` where it is (no attempt spent, FIFO per dossier kept).

A held command gets one "waiting" note per pause: ``note_held`` is a compare-and-set of
``commands.held_note`` to the pause's id and, only when it wins, the note's outbox row, in one
transaction (``_chain``), so two dispatchers never write it twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from relais.adapters.ledger.common import Codec, Row, as_utc, headers_json
from relais.domain.clock import Clock
from relais.services.ledger_port import HeldCommand, OpcoPause, OutboxMessage

Steps = Sequence[tuple[str, Sequence[Any]]]  # (query name, positional parameters), in order


def chain(execute: Callable[[str, Sequence[Any]], Sequence[Row]], steps: Steps) -> list[Any]:
    """Run ``steps`` in order (the caller holds the transaction), stopping after the first that
    returns no row; the rows of each step run."""
    results: list[Any] = []
    for name, params in steps:
        results.append(execute(name, params))
        if not results[-1]:
            break
    return results


async def chain_async(
    execute: Callable[[str, Sequence[Any]], Awaitable[Sequence[Row]]], steps: Steps
) -> list[Any]:
    """``chain`` for a driver whose calls are awaited."""
    results: list[Any] = []
    for name, params in steps:
        results.append(await execute(name, params))
        if not results[-1]:
            break
    return results


def _optional(codec: Codec, value: Any) -> datetime | None:
    return None if value is None else codec.timestamp(value)


def pause_of(codec: Codec, row: Row) -> OpcoPause:
    return OpcoPause(
        opco=row["opco"],
        pause_id=row["pause_id"],
        paused_at=codec.timestamp(row["paused_at"]),
        until=_optional(codec, row["until"]),
        reason=row["reason"],
        resumed_at=_optional(codec, row["resumed_at"]),
    )


class LedgerPauses:
    """The port's pause methods over an engine's ``_rows`` (one statement) and ``_chain`` (named
    queries in one transaction, see ``chain``)."""

    codec: Codec
    _clock: Clock

    async def _rows(self, query: str, *params: Any) -> Sequence[Row]:
        raise NotImplementedError

    async def _chain(self, steps: Steps) -> list[Any]:
        raise NotImplementedError

    def _stamp(self, moment: datetime) -> Any:
        return self.codec.stamp(as_utc(moment))

    async def pause_opco(
        self, opco: str, *, until: datetime | None, reason: str | None
    ) -> OpcoPause:
        now = self._stamp(self._clock.now())
        stored_until = None if until is None else self._stamp(until)
        [row] = await self._rows("pause_opco", opco, now, stored_until, reason)
        return pause_of(self.codec, row)

    async def resume_opco(self, opco: str) -> bool:
        now = as_utc(self._clock.now())
        rows = await self._rows("resume_opco", opco, self._stamp(now))
        if not rows:
            return False
        until = _optional(self.codec, rows[0]["until"])
        return until is None or until > now

    async def opco_pauses(self) -> list[OpcoPause]:
        return [pause_of(self.codec, row) for row in await self._rows("opco_pauses")]

    async def held_commands(self, now: datetime, limit: int) -> list[HeldCommand]:
        if limit <= 0:
            return []
        rows = await self._rows("held_commands", self._stamp(now), limit)
        return [
            HeldCommand(
                command=self.codec.command(row),
                pause_id=row["pause_id"],
                until=_optional(self.codec, row["paused_until"]),
            )
            for row in rows
        ]

    async def note_held(
        self, command_id: int, pause_id: int, statuses: Sequence[OutboxMessage]
    ) -> bool:
        now = self._stamp(self._clock.now())
        steps: list[tuple[str, Sequence[Any]]] = [("note_held", (command_id, pause_id))]
        steps += [
            (
                "note_held_outbox",
                (s.event_id, s.topic, s.key, headers_json(s.headers), s.value, now),
            )
            for s in statuses
        ]
        results = await self._chain(steps)
        return bool(results and results[0])
