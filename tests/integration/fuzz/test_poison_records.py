"""Records that must not stall a partition, through the real broker (one each, then a valid event
that must still be received). Findings F2 and F4 (FINDINGS.md) were such records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from relais.bootstrap import build
from tests.fixtures.broker import Out, consume_all, produce
from tests.integration.pipeline.harness import (
    generator,
    make_topics,
    out,
    published_statuses,
    running,
    settings_for,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _deep(depth: int) -> Callable[[Out], Out]:
    def make(valid: Out) -> Out:
        value = b'{"cerfa": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
        return Out(value=value, key=valid.key, headers=valid.headers)

    return make


def _oversized_without_key(valid: Out) -> Out:
    # above max_message_bytes (4096 here): dead-lettered without its value, and it has no key
    return Out(value=b"{" + b" " * 5000 + b"}", key=None, headers=valid.headers)


def _tombstone(valid: Out) -> Out:
    return Out(value=None, key=valid.key, headers=valid.headers)


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(_tombstone, id="tombstone"),
        pytest.param(_deep(40), id="nested-40"),
        pytest.param(_deep(400), id="nested-400"),  # finding F2, fixed
        pytest.param(_oversized_without_key, id="oversized-no-key"),  # finding F4, fixed
    ],
)
async def test_a_poison_record_does_not_stall_the_partition(
    poison: Callable[[Out], Out],
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    topics = make_topics(topic_factory)
    g = generator(51)
    first, after = g.dossier(), g.dossier()
    app = build(
        settings_for(
            kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db", max_message_bytes=4096
        ),
        ["ingest", "relay"],
    )
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [poison(out(first.event)), out(after.event)])
        # both records handled (a dead letter only once the DLQ acked it), then every status the
        # relay published: no 8 s of silence taken as "nothing more will come"
        await wait_until(lambda: app.ingest is not None and app.ingest.handled >= 2, timeout_s=20)
        statuses = await published_statuses(app, kafka_bootstrap, topics.status, topics.rejected)
    received = {s.json()["eventId"] for s in statuses if s.json()["status"] == "received"}
    assert after.event_id in received, [s.json()["status"] for s in statuses]


async def test_a_keyless_oversized_record_is_dead_lettered_as_too_large(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """At once and for what it is (TOO_LARGE), not after failed attempts as UNPROCESSABLE
    (finding F4, fixed in 32a7db7: the dead letter had neither key nor value)."""
    topics = make_topics(topic_factory)
    g = generator(52)
    first = g.dossier()
    app = build(
        settings_for(
            kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db", max_message_bytes=4096
        ),
        ["ingest", "relay"],
    )
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [_oversized_without_key(out(first.event))])
        dlq = await consume_all(kafka_bootstrap, topics.dlq, at_least=1, timeout_s=30)
        assert app.ingest is not None
        failed_before = app.ingest.failing
    assert [d.headers["dlq_reason"] for d in dlq] == ["TOO_LARGE"]
    assert not failed_before
