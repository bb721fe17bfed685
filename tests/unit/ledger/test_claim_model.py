"""The claim/lease rules against a model, under random interleavings (SQLite in memory).

Hypothesis drives accepts, claims by several workers, completions (by the holder or not),
reschedules, releases and the passing of time; after every step the ledger must agree with a
few lines of Python that say what the port promises: only the oldest open command of a dossier is
handed out, when due or when its lease expired; never two of a dossier at once; a worker without
the lease changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from relais.adapters.ledger import open_ledger
from relais.services.ledger_port import CommandKind, CommandState, Completion, NewCommand
from tests.ledger_entries import accept
from tests.payloads import payload_of

LEASE = timedelta(seconds=30)
DOSSIERS = [("CFA1", "D1"), ("CFA1", "D2"), ("CFA2", "D1")]
WORKERS = ["w1", "w2", "w3"]
OPEN = (CommandState.PENDING, CommandState.IN_FLIGHT)


@dataclass
class Expected:
    id: int
    key: tuple[str, str]
    state: CommandState = CommandState.PENDING
    next_at: datetime | None = None
    locked_by: str | None = None
    locked_until: datetime | None = None
    attempts: int = 0
    ambiguous: bool = False


class _ModelClock:
    """The ledger's clock is the model's ``now``."""

    def __init__(self, model: ClaimModel) -> None:
        self._model = model

    def now(self) -> datetime:
        return self._model.now

    def monotonic(self) -> float:
        return self._model.now.timestamp()

    async def sleep(self, seconds: float) -> None:
        raise AssertionError("the ledger never sleeps")


class ClaimModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        self.loop = asyncio.new_event_loop()
        self.ledger = open_ledger("sqlite:///:memory:", clock=_ModelClock(self))
        self.run(self.ledger.migrate())
        self.commands: list[Expected] = []
        self.events = 0

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.ledger.close())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    # -- what the port promises -----------------------------------------------------------------

    def head(self, key: tuple[str, str]) -> Expected | None:
        return next((c for c in self.commands if c.key == key and c.state in OPEN), None)

    def claimable(self) -> set[int]:
        out = set()
        for key in DOSSIERS:
            c = self.head(key)
            if c is None:
                continue
            if c.state is CommandState.PENDING and c.next_at is not None and c.next_at <= self.now:
                out.add(c.id)
            if (
                c.state is CommandState.IN_FLIGHT
                and c.locked_until is not None
                and c.locked_until <= self.now
            ):
                out.add(c.id)
        return out

    # -- rules ------------------------------------------------------------------------------------

    @rule(key=st.sampled_from(DOSSIERS))
    def accept(self, key: tuple[str, str]) -> None:
        self.events += 1
        new = NewCommand(
            f"e{self.events}", key[0], key[1], "AKTO", CommandKind.DOSSIER, payload_of({})
        )
        assert self.run(accept(self.ledger, new, [])) is True
        [*_, stored] = self.run(self.ledger.commands_for(*key))
        self.commands.append(Expected(stored.id, key, next_at=self.now))

    @rule(worker=st.sampled_from(WORKERS), limit=st.integers(1, 4))
    def claim(self, worker: str, limit: int) -> None:
        eligible = self.claimable()
        got = self.run(self.ledger.claim(worker, limit, self.now, LEASE))
        ids = {c.id for c in got}
        assert len(ids) == len(got) == min(limit, len(eligible))
        assert ids <= eligible
        assert len({c.dossier_id + c.cfa for c in got}) == len(got)
        for claimed in got:
            model = next(c for c in self.commands if c.id == claimed.id)
            model.ambiguous = model.ambiguous or model.state is CommandState.IN_FLIGHT
            model.state, model.locked_by = CommandState.IN_FLIGHT, worker
            model.locked_until = self.now + LEASE
            assert claimed.ambiguous == model.ambiguous
            assert claimed.attempts == model.attempts

    @rule(
        pick=st.integers(0, 50),
        worker=st.sampled_from(WORKERS),
        failed=st.booleans(),
    )
    def complete(self, pick: int, worker: str, failed: bool) -> None:
        if not self.commands:
            return
        model = self.commands[pick % len(self.commands)]
        state = CommandState.FAILED if failed else CommandState.DONE
        ok = self.run(self.ledger.complete(model.id, worker, Completion(state, [])))
        holds = model.state is CommandState.IN_FLIGHT and model.locked_by == worker
        assert ok is holds
        if ok:
            model.state, model.locked_by, model.locked_until = state, None, None

    @rule(
        pick=st.integers(0, 50),
        worker=st.sampled_from(WORKERS),
        delay=st.integers(0, 90),
        count=st.booleans(),
        ambiguous=st.booleans(),
    )
    def reschedule(self, pick: int, worker: str, delay: int, count: bool, ambiguous: bool) -> None:
        if not self.commands:
            return
        model = self.commands[pick % len(self.commands)]
        at = self.now + timedelta(seconds=delay)
        ok = self.run(
            self.ledger.reschedule(
                model.id, worker, at, "503", ambiguous=ambiguous, count_attempt=count
            )
        )
        assert ok is (model.state is CommandState.IN_FLIGHT and model.locked_by == worker)
        if ok:
            model.state, model.next_at, model.ambiguous = CommandState.PENDING, at, ambiguous
            model.locked_by = model.locked_until = None
            model.attempts += 1 if count else 0

    @rule(worker=st.sampled_from(WORKERS))
    def release(self, worker: str) -> None:
        held = [
            c for c in self.commands if c.state is CommandState.IN_FLIGHT and c.locked_by == worker
        ]
        assert self.run(self.ledger.release(worker)) == len(held)
        for c in held:
            c.state, c.locked_by, c.locked_until = CommandState.PENDING, None, None

    @rule(seconds=st.sampled_from([1, 10, 29, 30, 31, 60]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @invariant()
    def the_ledger_agrees(self) -> None:
        for key in DOSSIERS:
            stored = self.run(self.ledger.commands_for(*key))
            expected = [c for c in self.commands if c.key == key]
            assert [c.id for c in stored] == [c.id for c in expected]
            assert [c.state for c in stored] == [c.state for c in expected]
            assert [c.attempts for c in stored] == [c.attempts for c in expected]
            assert sum(c.state is CommandState.IN_FLIGHT for c in stored) <= 1
            assert self.run(self.ledger.has_open_command(*key)) == any(
                c.state in OPEN for c in expected
            )


ClaimModel.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_claim_rules = ClaimModel.TestCase
