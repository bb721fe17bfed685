"""Issue "Poison records and tenant isolation", deliverable 1, through the real broker: a record of
any size in its headers or key never stops status delivery nor ingest for the other CFAs.

Tansu takes records above 1 MiB; relais's own producer (statuses, dead letters) is capped at
``max(1 MiB, max_message_bytes + 64 KiB)``. The poison records are produced with a larger
``max_request_size`` so that they reach the topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relais.adapters.kafka.producer import KafkaProducer
from relais.adapters.ledger import open_ledger
from relais.bootstrap import build
from relais.config import KafkaSettings
from relais.services.ledger_port import Accept, Ledger, OutboxMessage, Reject
from relais.services.relay import Relay
from relais.services.statuses import MAX_STATUS_BYTES
from tests.fixtures.broker import In, Out, consume_all, produce
from tests.integration.pipeline.harness import (
    generator,
    make_topics,
    out,
    running,
    settings_for,
    wait_until,
)
from tests.ledger_entries import reject

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _produce_large(bootstrap: str, topic: str, records: Sequence[Out]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8 << 20)
    await producer.start()
    try:
        for rec in records:
            await producer.send_and_wait(
                topic,
                value=rec.value,
                key=rec.key if not isinstance(rec.key, str) else rec.key.encode(),
                headers=[
                    (k, v if isinstance(v, bytes) else str(v).encode()) for k, v in rec.headers
                ],
                partition=rec.partition,
            )
    finally:
        await producer.stop()


def _size(rec: In) -> int:
    return (
        len(rec.key or b"")
        + sum(len(k) + len(v) for k, v in rec.header_list)
        + len(rec.value or b"")
    )


async def test_a_450kb_subject_does_not_stop_the_statuses_of_another_cfa(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    g = generator(61)
    poison, valid = g.dossier(cfa=g.cfas[0]), g.dossier(cfa=g.cfas[1])
    record = out(poison.event)
    subject = "S" * 450_000
    headers = [(k, subject.encode() if k == "ce_subject" else v) for k, v in record.headers]
    app = build(
        settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db"),
        ["ingest", "relay"],
    )
    async with running(app):
        await _produce_large(
            kafka_bootstrap, topics.input, [Out(value=record.value, key=subject, headers=headers)]
        )
        await produce(kafka_bootstrap, topics.input, [out(valid.event)])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=1, timeout_s=30)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http:
            ready = await http.get("/health/ready")
    assert [s.json()["eventId"] for s in statuses] == [valid.event_id]
    assert statuses[0].json()["status"] == "received"
    # the envelope is unreadable (subject too long): no source established, so the refusal goes
    # to the operators' topic, named by the record's Kafka position, never by what it claims
    (refused,) = refusals
    assert refused.json()["status"] == "rejected" and "dossierId" not in refused.json()
    assert refused.key == f"kafka:{topics.input}:0:0".encode()
    assert all(_size(s) <= MAX_STATUS_BYTES for s in [*statuses, *refusals])
    assert ready.status_code == 200 and ready.json()["checks"]["relay"] == "ok"


async def test_a_1_2mb_key_with_a_value_that_is_not_json_stops_no_partition(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory, partitions=2)
    g = generator(62)
    poison = out(g.dossier(cfa=g.cfas[0]).event)
    valid = [g.dossier(cfa=g.cfas[i % 3]) for i in range(4)]
    key = b"K" * 1_200_000
    app = build(
        settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db"),
        ["ingest", "relay"],
    )
    async with running(app):
        await _produce_large(
            kafka_bootstrap,
            topics.input,
            [Out(value=b"not json", key=key, headers=list(poison.headers), partition=0)],
        )
        records = [out(d.event) for d in valid]
        await produce(
            kafka_bootstrap,
            topics.input,
            [
                Out(r.value, r.key, r.headers, partition=1 if i < 3 else 0)
                for i, r in enumerate(records)
            ],
        )
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=5, timeout_s=30)
        dlq = await consume_all(kafka_bootstrap, topics.dlq, at_least=1, timeout_s=15)
        assert app.ingest is not None
        await wait_until(lambda: app.ingest is not None and app.ingest.handled == 5, timeout_s=30)
        assert not app.ingest.failing
    received = {s.json()["eventId"] for s in statuses if s.json()["status"] == "received"}
    assert received == {d.event_id for d in valid}
    (letter,) = dlq
    assert letter.headers["dlq_reason"] == "DATA_NOT_JSON"
    assert (letter.key, letter.value) == (None, b"")  # too large whole: neither key nor value
    assert letter.headers["dlq_key_dropped"] == str(len(key))
    assert (letter.headers["dlq_partition"], letter.headers["dlq_offset"]) == ("0", "0")
    assert all(_size(s) <= MAX_STATUS_BYTES for s in statuses)


async def test_the_relay_sets_aside_a_row_the_broker_refuses_and_goes_on(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """A row over MAX_STATUS_BYTES (written before the bounds existed) and one the producer
    refuses (over its max_request_size): both set aside and reported, the others published."""
    topics = make_topics(topic_factory)
    ledger = open_ledger(f"sqlite:///{tmp_path}/ledger.db")
    await ledger.migrate()

    def message(event_id: str, key: str) -> OutboxMessage:
        headers = {
            "ce_specversion": "1.0",
            "ce_id": event_id,
            "ce_source": "relais",
            "ce_type": "fr.relais.status.rejected.v1",
            "ce_time": "2026-11-27T08:01:09+01:00",  # a row relais wrote is a whole CloudEvent
            "ce_cfa": "73282932000074",  # a CFA's status: the shared status topic
        }
        return OutboxMessage(event_id=event_id, key=key, headers=headers, value=b"{}")

    rows = [
        message("s-0", "D0"),
        message("s-huge", "S" * 1_350_000),
        message("s-2", "D2"),
        message("s-refused", "R" * 40_000),  # under MAX_STATUS_BYTES, over the producer's limit
        message("s-4", "D4"),
    ]
    for row in rows:
        assert await reject(ledger, f"inbox-{row.event_id}", [row])
    kafka = KafkaSettings(
        bootstrap_servers=kafka_bootstrap, status_topic=topics.status, dlq_topic=topics.dlq
    )
    producer = KafkaProducer(kafka, max_request_size=32 * 1024)
    relay = Relay(ledger, producer, reporter=producer, batch_size=10)
    try:
        done = 0
        while done < len(rows):
            done += await asyncio.wait_for(relay.publish_once(), 30)
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=3, timeout_s=15)
        reports = await consume_all(kafka_bootstrap, topics.dlq, at_least=2, timeout_s=15)
        assert await ledger.outbox_batch(10) == []
    finally:
        await producer.stop()
        await ledger.close()
    assert [s.headers["ce_id"] for s in statuses] == ["s-0", "s-2", "s-4"]
    assert [(r.key, r.value) for r in reports] == [(None, b""), (None, b"")]
    assert [r.headers["dlq_status_id"] for r in reports] == ["s-huge", "s-refused"]
    assert {r.headers["dlq_reason"] for r in reports} == {"STATUS_TOO_LARGE"}
    assert [r.headers["dlq_offset"] for r in reports] == ["2", "4"]  # the outbox seqs
    assert int(reports[0].headers["dlq_value_dropped"]) > 1_350_000
    assert "S" * 100 not in str(reports[0].header_list)  # nothing of the row's content
    assert (relay.published, relay.set_aside) == (3, 2)


class _DownLedger:
    """The real ledger, except that ingest's writes fail (the database unreachable)."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        raise ConnectionError("ledger unreachable")


async def test_readiness_names_an_ingest_that_fails_the_same_records_again_and_again(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    url = f"sqlite:///{tmp_path}/ledger.db"
    app = build(
        settings_for(kafka_bootstrap, topics, url),
        ["ingest", "relay"],
        ledger=_DownLedger(open_ledger(url)),  # type: ignore[arg-type]
    )
    async with (
        running(app),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http,
    ):
        await produce(kafka_bootstrap, topics.input, [out(generator(63).dossier().event)])

        async def ingest_check() -> str:
            return str((await http.get("/health/ready")).json()["checks"]["ingest"])

        for _ in range(100):
            if (check := await ingest_check()) != "ok":
                break
            await asyncio.sleep(0.2)
        ready = await http.get("/health/ready")
    assert check == "error: ConnectionError"
    assert ready.status_code == 503 and ready.json()["checks"]["relay"] == "ok"
