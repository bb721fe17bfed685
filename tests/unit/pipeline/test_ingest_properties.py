"""Promise 5 as a property: whatever a record holds, ingest answers it once and never raises."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relais.domain.events import EventType
from relais.domain.referentials import load_referentials
from relais.services.ingest import DeadLetter, DomainRules, IngestHandler, Outcome, Record
from tests.unit.pipeline.samples import DATA, headers
from tests.unit.services.fakes import FakeLedger, ManualClock

RULES = DomainRules(load_referentials())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)


@st.composite
def values(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.binary(min_size=1, max_size=200))
    if choice == 1:
        return json.dumps(draw(json_values)).encode()
    base: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(list(DATA.values())))))
    base.update(draw(st.dictionaries(st.sampled_from(["opco", "cerfa", "x"]), json_values)))
    return json.dumps(base).encode()


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    good = headers(draw(st.sampled_from(list(EventType))), event_id=draw(st.uuids()).hex)
    if draw(st.booleans()):
        return [(name, value.encode()) for name, value in good.items()]
    out: list[tuple[str, bytes]] = []
    for name, value in good.items():
        action = draw(st.integers(0, 5))
        if action == 0:
            continue  # header missing
        if action == 1:
            out.append((name, draw(st.binary(max_size=30))))  # garbled
        elif action == 2:
            out.append((name, draw(st.text(max_size=30)).encode("utf-8", "surrogatepass")))
        else:
            out.append((name, value.encode()))
    return out


class Sink:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hdrs=header_lists(), value=values(), key=st.none() | st.just(b"D-1") | st.binary(max_size=9))
def test_any_record_gets_exactly_one_answer(
    hdrs: list[tuple[str, bytes]], value: bytes, key: bytes | None
) -> None:
    ledger, sink = FakeLedger(), Sink()
    handler = IngestHandler(ledger, sink, rules=RULES, clock=ManualClock())
    rec = Record(topic="t", partition=0, offset=1, key=key, value=value, headers=hdrs)

    result = asyncio.run(handler.handle(rec))

    assert result.outcome in set(Outcome)
    assert len(ledger.inbox) == 1  # one decision, durably recorded
    assert len(ledger.statuses()) <= 1
    assert len(ledger.rows) == (1 if result.outcome is Outcome.ACCEPTED else 0)
    assert len(sink.letters) == (1 if result.outcome is Outcome.DEAD_LETTERED else 0)
    again = asyncio.run(handler.handle(rec))
    assert again.outcome is Outcome.DUPLICATE  # a redelivery changes nothing
    assert len(ledger.inbox) == 1
