"""Ingest + relay on the real broker and real ledgers (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer

from relais.adapters.embedded_broker import create_topics_sync
from relais.adapters.ledger import open_ledger
from relais.bootstrap import build
from relais.domain.status import status_event_id
from relais.services.ingest.signature import sign
from relais.services.ledger_port import Accept, Ledger, Reject
from tests.fixtures.broker import Out, consume_all, produce
from tests.integration.pipeline.harness import (
    by_status,
    generator,
    make_topics,
    out,
    running,
    settings_for,
    wait_until,
)

pytestmark = pytest.mark.integration


async def test_every_event_type_is_received_in_order(
    kafka_bootstrap: str, topic_factory: Callable[..., str], ledger_url: str
) -> None:
    topics = make_topics(topic_factory)
    g = generator(11)
    dossier = g.dossier()
    events = [
        dossier.event,
        g.convention(dossier),
        g.certificat(dossier),
        g.facture([dossier]),
        g.rupture(dossier),
    ]
    app = build(settings_for(kafka_bootstrap, topics, ledger_url), ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(e) for e in events])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=5, timeout_s=20)
        commands = await app.ledger.commands_for(dossier.cfa.siret, dossier.dossier_id)
    bodies = [s.json() for s in statuses]
    assert [b["status"] for b in bodies] == ["received"] * 5, bodies
    assert [s.headers["ce_id"] for s in statuses] == [
        status_event_id(e["id"], "received", cfa=dossier.cfa.siret) for e in events
    ]
    assert [b["kind"] for b in bodies] == [
        "dossier",
        "convention",
        "certificat",
        "facture",
        "rupture",
    ]
    assert {b["opco"] for b in bodies} == {dossier.opco.value}
    assert all(s.key_str == dossier.dossier_id for s in statuses)
    assert [c.event_id for c in commands] == [e["id"] for e in events]
    # No personal data of the dossier in any status event.
    raw = b"".join(s.value or b"" for s in statuses)
    for value in dossier.personal_values():
        assert value.encode() not in raw


async def test_the_received_status_does_not_wait_for_the_relay_poll(
    kafka_bootstrap: str, topic_factory: Callable[..., str], ledger_url: str
) -> None:
    """Ingest wakes the relay of its process: with a 30 s relay poll, statuses come at once."""
    topics = make_topics(topic_factory)
    g = generator(12)
    events = [d.event for d in g.dossiers(3)]
    # The relay's poll comes once an hour: statuses that come at all (consume_all waits 20 s)
    # were woken, however slow a loaded machine is (before: 'within 10 s' of a 30 s poll).
    settings = settings_for(kafka_bootstrap, topics, ledger_url, relay_idle_s=3600.0)
    app = build(settings, ["ingest", "relay"])
    assert app.relay is not None
    relay = app.relay
    async with running(app):
        await wait_until(lambda: relay.is_leader)  # its first turn found nothing: it sleeps
        await produce(kafka_bootstrap, topics.input, [out(e) for e in events])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=3, timeout_s=20)
    assert [s.json()["status"] for s in statuses] == ["received"] * 3


async def test_same_event_twice_makes_one_command(
    kafka_bootstrap: str, topic_factory: Callable[..., str], ledger_url: str
) -> None:
    topics = make_topics(topic_factory)
    g = generator(12)
    first, second = g.dossier(), g.dossier()
    records = [out(first.event), out(first.event), out(second.event), out(first.event)]
    app = build(settings_for(kafka_bootstrap, topics, ledger_url), ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topics.input, records)
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=2, timeout_s=20)
        await wait_until(lambda: app.ingest is not None and app.ingest.handled == 4)
        assert len(await app.ledger.commands_for(first.cfa.siret, first.dossier_id)) == 1
        assert len(await app.ledger.commands_for(second.cfa.siret, second.dossier_id)) == 1
        text = app.metrics.render().decode()
    # two statuses; a resend read after its answer was published gets that answer again under
    # the same id (a duplicate delivery, issue 16): never a third id
    assert len({s.headers["ce_id"] for s in statuses}) == 2
    assert 'relais_events_consumed_total{outcome="duplicate"} 2.0' in text
    assert 'relais_events_consumed_total{outcome="accepted"} 2.0' in text


async def test_malformed_input_never_stops_the_stream(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    topics = make_topics(topic_factory)
    g = generator(13)
    cfa, other = g.cfas[0], g.cfas[1]
    ok = [out(g.dossier(cfa=cfa).event) for _ in range(3)]
    wrong_types = g.dossier(cfa=cfa)
    wrong_types.event["data"]["cerfa"]["contrat"]["dateDebutContrat"] = 12
    wrong_types.event["data"]["cerfa"]["apprenti"]["nir"] = "123"
    not_json = g.dossier(cfa=cfa)
    bad = out(not_json.event)
    forged = g.dossier(cfa=other)
    forged_record = out(forged.event)
    missing = out(g.dossier(cfa=cfa).event)
    missing_headers = [(k, v) for k, v in missing.headers if k not in ("ce_type", "ce_source")]
    huge = out(g.dossier(cfa=cfa).event)
    records = [
        ok[0],
        Out(value=b"{not json", key=bad.key, headers=bad.headers),
        _wrong_types_record(wrong_types.event),
        Out(value=b"x" * 70_000, key=huge.key, headers=huge.headers),
        Out(value=missing.value, key=missing.key, headers=missing_headers),
        forged_record,
        Out(value=b'{"cerfa": {}}', key=None, headers=[]),
        *ok[1:],
    ]
    accepted_expected = len(ok)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        topic_sources={topics.input: [cfa.siret]},
        max_message_bytes=64_000,
    )
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topics.input, records)
        await wait_until(lambda: app.ingest is not None and app.ingest.handled == len(records))
        dlq = await consume_all(kafka_bootstrap, topics.dlq, at_least=4, timeout_s=15)
        statuses = await consume_all(
            kafka_bootstrap, topics.status, at_least=accepted_expected + 2, timeout_s=15
        )
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=4, timeout_s=15)
    reasons = sorted(d.headers["dlq_reason"] for d in dlq)
    assert reasons == sorted(
        ["DATA_NOT_JSON", "TOO_LARGE", "ENVELOPE_HEADERS_MISSING", "ENVELOPE_UNDECODABLE"]
    )
    for d in dlq:
        assert d.headers["dlq_topic"] == topics.input
        assert int(d.headers["dlq_offset"]) in range(len(records))
    assert len(statuses) == accepted_expected + 2 and len(refusals) == 4
    groups = by_status(statuses)
    assert len(groups["received"]) == accepted_expected
    (rejected,) = [s.json() for s in groups["rejected"]]
    assert rejected["eventId"] == wrong_types.event_id
    wrong_paths = {e["path"] for e in rejected["errors"]}
    assert {"data.cerfa.contrat.dateDebutContrat", "data.cerfa.apprenti.nir"} <= wrong_paths
    # The dead letter whose source is established (the CFA's, on its topic) gets its status...
    assert [s.json()["dossierId"] for s in groups["dead_lettered"]] == [not_json.dossier_id]
    # ...the others (too large, headers missing or unreadable, forged source) are answered on the
    # operators' topic, named by their Kafka position only.
    operators = {r.key_str: r.json() for r in refusals}
    assert set(operators) == {f"kafka:{topics.input}:0:{offset}" for offset in (3, 4, 5, 6)}
    forged_answer = operators[f"kafka:{topics.input}:0:5"]
    assert [e["code"] for e in forged_answer["errors"]] == ["SOURCE_NOT_ALLOWED_ON_TOPIC"]
    assert all("dossierId" not in b and "cfa" not in b for b in operators.values())


def _wrong_types_record(event: dict[str, object]) -> Out:
    """A well-formed record whose data breaks the control rules (structured_to_record would
    refuse to build it, so it is assembled by hand, as a faulty CFA producer would)."""
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(event["id"]).encode()),
        ("ce_type", str(event["type"]).encode()),
        ("ce_source", str(event["source"]).encode()),
        ("ce_subject", str(event["subject"]).encode()),
        ("ce_time", str(event["time"]).encode()),
    ]
    return Out(value=json.dumps(event["data"]).encode(), key=str(event["subject"]), headers=headers)


async def test_signed_events(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    topics = make_topics(topic_factory)
    g = generator(14)
    dossier = g.dossier()
    record = out(dossier.event)
    text_headers = {k: v.decode() for k, v in record.headers}
    signature = sign("cfa-secret", text_headers, record.value)
    signed = Out(
        value=record.value,
        key=record.key,
        headers=[*record.headers, ("ce_signature", signature.encode())],
    )
    unsigned = out(g.dossier(cfa=dossier.cfa).event)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        cfa={"hmac_secrets": {dossier.cfa.siret: "cfa-secret"}},
    )
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [signed, unsigned])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=1, timeout_s=15)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=15)
    assert [s.json()["status"] for s in statuses] == ["received"]
    # unsigned: its source is not established, answered on the operators' topic
    assert [r.json()["status"] for r in refusals] == ["rejected"]
    assert refusals[0].json()["errors"][0]["code"] == "SIGNATURE_MISSING"


async def test_one_topic_per_cfa_by_pattern(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    g = generator(15)
    cfa_a, cfa_b = g.cfas[0], g.cfas[1]
    prefix = f"cfa-{uuid.uuid4().hex[:8]}"
    topic_a = f"{prefix}-{cfa_a.siret}"
    topic_b = f"{prefix}-{cfa_b.siret}"
    create_topics_sync(kafka_bootstrap, [topic_a, topic_b], 1)
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        input_pattern=rf"{prefix}-[0-9]{{14}}",
        topic_sources={topic_a: [cfa_a.siret], topic_b: [cfa_b.siret]},
    )
    a1, b1 = g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_b)
    forged = g.dossier(cfa=cfa_a)  # CFA A's event on CFA B's topic
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_a, [out(a1.event)])
        await produce(kafka_bootstrap, topic_b, [out(b1.event), out(forged.event)])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=2, timeout_s=20)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=20)
        text = app.metrics.render().decode()
    assert len(statuses) == 2 and len(refusals) == 1
    outcome = {s.json()["eventId"]: s.json()["status"] for s in statuses}
    assert outcome == {a1.event_id: "received", b1.event_id: "received"}
    # the forged one is answered on the operators' topic, named by its position
    assert [(r.key_str, r.json()["status"]) for r in refusals] == [
        (f"kafka:{topic_b}:0:1", "rejected")
    ]
    # The lag gauge follows each input topic (0: everything consumed).
    assert f'relais_consumer_lag_messages{{topic="{topic_b}"}} 0.0' in text


class FlakyLedger:
    """The real ledger, except that writing one event (alone or in a poll's batch) fails
    ``times`` times first."""

    def __init__(
        self, inner: Ledger, event_id: str, times: int, error: Exception | None = None
    ) -> None:
        self._inner = inner
        self._event_id = event_id
        self.failures_left = times
        self._error = error or ConnectionError("ledger unreachable")

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def ingest_batch(self, entries: Sequence[Accept | Reject]) -> list[bool]:
        ids = {e.command.event_id for e in entries if isinstance(e, Accept)}
        if self._event_id in ids and self.failures_left:
            self.failures_left -= 1
            raise self._error  # all or nothing, like the real one
        return await self._inner.ingest_batch(entries)


async def test_a_failing_ledger_holds_the_stream_and_skips_nothing(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    topics = make_topics(topic_factory, partitions=2)
    g = generator(16)
    dossiers = [g.dossier() for _ in range(12)]
    url = f"sqlite:///{tmp_path}/ledger.db"
    flaky = FlakyLedger(open_ledger(url), dossiers[4].event_id, times=2)
    app = build(settings_for(kafka_bootstrap, topics, url), ["ingest", "relay"], ledger=flaky)  # type: ignore[arg-type]
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(d.event) for d in dossiers])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=12, timeout_s=20)
        assert app.ingest is not None
        await wait_until(lambda: app.ingest is not None and not app.ingest.failing)
    assert flaky.failures_left == 0
    received = [s.json()["eventId"] for s in statuses if s.json()["status"] == "received"]
    assert sorted(received) == sorted(d.event_id for d in dossiers)  # each once, none skipped
    # Per dossier key the order holds: each partition's statuses follow the topic's order.
    by_partition: dict[int, list[str]] = {}
    for rec in await consume_all(kafka_bootstrap, topics.input, at_least=12):
        by_partition.setdefault(rec.partition, []).append(rec.headers["ce_id"])
    for ids in by_partition.values():
        assert [i for i in received if i in ids] == ids


async def test_records_too_large_for_the_dlq_do_not_block_the_stream(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    # Apache Kafka refuses records over 1 MiB unless the topic allows them (Tansu takes 3 MiB):
    # the network's input topic here allows 8 MiB, relais must still bound what it takes.
    big = topic_factory("cfa", 1, configs={"max.message.bytes": str(8 << 20)})
    topics = dataclasses.replace(make_topics(topic_factory), input=big)
    g = generator(17)
    huge, junk, good = out(g.dossier().event), out(g.dossier().event), g.dossier()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=8 << 20)
    await producer.start()
    try:
        # A 3 MiB value (above max_message_bytes and the DLQ producer's request size)...
        await producer.send_and_wait(
            topics.input, value=b"{" + b" " * (3 << 20) + b"}", key=huge.key, headers=huge.headers
        )
        # ...and a record without ce_* headers but with 2 MiB of other headers.
        await producer.send_and_wait(
            topics.input, value=junk.value, key=junk.key, headers=[("x-junk", b"j" * (2 << 20))]
        )
        record = out(good.event)
        await producer.send_and_wait(
            topics.input, value=record.value, key=record.key, headers=record.headers
        )
    finally:
        await producer.stop()
    app = build(
        settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/l.db"), ["ingest", "relay"]
    )
    async with running(app):
        await wait_until(lambda: app.ingest is not None and app.ingest.handled == 3, timeout_s=30)
        dlq = await consume_all(kafka_bootstrap, topics.dlq, at_least=2, timeout_s=15)
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=1, timeout_s=15)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=2, timeout_s=15)
    assert [d.headers["dlq_reason"] for d in dlq] == ["TOO_LARGE", "ENVELOPE_UNDECODABLE"]
    assert all(
        d.value in (None, b"") and int(d.headers["dlq_value_dropped"]) > 1 << 20 for d in dlq
    )
    # Too large for the DLQ topic even without its value: sent without its key either.
    assert dlq[1].key is None and int(dlq[1].headers["dlq_key_dropped"]) == len(junk.key or b"")
    assert [int(d.headers["dlq_offset"]) for d in dlq] == [0, 1]
    assert [s.json()["status"] for s in statuses] == ["received"]
    assert [r.json()["status"] for r in refusals] == ["dead_lettered", "dead_lettered"]


async def test_a_record_that_always_fails_is_dead_lettered_and_the_stream_goes_on(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: object
) -> None:
    topics = make_topics(topic_factory)
    g = generator(18)
    dossiers = [g.dossier() for _ in range(4)]
    url = f"sqlite:///{tmp_path}/ledger.db"
    poison = dossiers[1]
    flaky = FlakyLedger(open_ledger(url), poison.event_id, times=10**6, error=ValueError("bug"))
    settings = settings_for(kafka_bootstrap, topics, url)
    app = build(settings, ["ingest", "relay"], ledger=flaky)  # type: ignore[arg-type]
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(d.event) for d in dossiers])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=3, timeout_s=30)
        dlq = await consume_all(kafka_bootstrap, topics.dlq, at_least=1, timeout_s=10)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=10)
    outcome = {s.json()["eventId"]: s.json()["status"] for s in statuses}
    assert outcome == {d.event_id: "received" for d in dossiers if d is not poison}
    assert len(statuses) == len(outcome) and len(refusals) == 1  # no duplicate
    # given up on: identified by its position only (its source was never established), for the
    # operators, who have the raw record on the DLQ
    assert [(r.json()["eventId"], r.json()["status"]) for r in refusals] == [
        (f"kafka:{topics.input}:0:1", "dead_lettered")
    ]
    (letter,) = dlq
    assert letter.headers["dlq_reason"] == "UNPROCESSABLE"
    assert letter.value == out(poison.event).value  # the raw record, for a replay once fixed
