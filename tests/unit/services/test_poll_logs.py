"""Poll logs: a poll that finds nothing is DEBUG noise; one that finds changes is told at INFO
with its CFA and OPCO (issue 19: 56 % of a demo's lines were ``poll.pair_done {"changes": 0}``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from relais.logging import configure_logging, reset_logging
from tests.unit.services.samples import CFA
from tests.unit.services.test_poll import AKTO, World


@pytest.fixture()
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="INFO", json_output=True, stream=stream, force=True)
    yield stream
    reset_logging()


def _events(stream: io.StringIO) -> list[dict[str, object]]:
    out = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    stream.seek(0)
    stream.truncate()
    return out


async def test_quiet_polls_stay_at_debug_changes_at_info_with_cfa_and_opco(
    lines: io.StringIO,
) -> None:
    w = World()
    numero = await w.submit("e1", "D1", 1)
    _events(lines)
    for _ in range(5):
        assert (await w.poller.poll_once()).changes == 0
    assert [e for e in _events(lines) if str(e["event"]).startswith("poll.")] == []

    w.gateway.set_etat(CFA, AKTO, numero, "EN_COURS_INSTRUCTION")
    assert (await w.poller.poll_once()).changes == 1
    done = [e for e in _events(lines) if e["event"] == "poll.pair_done"]
    assert done == [{**done[0], "cfa": CFA, "opco": "AKTO", "changes": 1, "level": "info"}], done
