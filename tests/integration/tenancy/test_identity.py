"""Identity is (CFA, event id), follow-ups name only their own CFA's dossiers, statuses reach only
their own CFA: on the real broker, ledger and (for dispatch) simulator.

Findings of the review "Poison records and tenant isolation":
- CFA B reused CFA A's ``ce_id``: B's event (rejected) made A's later valid event with the same id
  a "duplicate", and A never got a status (identity was the event id alone);
- B's convention carried A's OPCO ``numeroInterneDossier``: relais called the OPCO with B's key on
  A's dossier (only the OPCO's ownership check stopped it);
- one status topic for every CFA, and refusals of records whose source is not established echoed
  the claimed ids: a forged record earned a ``rejected`` status keyed on the victim's dossier with
  the victim's event id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from relais.adapters.embedded_broker import create_topics_sync
from relais.bootstrap import build
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.sampledata import Cfa, Generator, InvalidKind
from tests.fixtures.broker import In, consume_all, produce
from tests.fixtures.simulator import SimulatorProcess
from tests.integration.pipeline.harness import (
    make_topics,
    out,
    running,
    settings_for,
    signed,
    wait_until,
    with_header,
)
from tests.today import TODAY

pytestmark = pytest.mark.integration

SECRET_A = "identity-hmac-secret-a-1b2c3d4e"
SECRET_B = "identity-hmac-secret-b-5f6a7b8c"


def invalid_dossier_of(g: Generator, cfa: Cfa) -> dict[str, Any]:
    bad = g.invalid_dossier(InvalidKind.NIR_KEY)
    while bad.dossier.cfa.siret != cfa.siret:
        bad = g.invalid_dossier(InvalidKind.NIR_KEY)
    return bad.event


def bodies(records: list[In]) -> list[dict[str, Any]]:
    return [r.json() for r in records]


async def test_a_cfa_reusing_another_cfas_event_id_does_not_cancel_it(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """B publishes an invalid event under the id A will use, on B's own topic, signed with B's
    secret (topic binding and signatures on): it is B's event, rejected. A's valid event with that
    id comes next on A's topic: it is a different event, accepted, and A gets its ``received``."""
    g = Generator(41, TODAY, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    prefix = f"idn-{uuid.uuid4().hex[:8]}"
    topic_a, topic_b = f"{prefix}-a", f"{prefix}-b"
    create_topics_sync(kafka_bootstrap, [topic_a, topic_b], 1)
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        input_pattern=rf"{prefix}-[a-z]+",
        topic_sources={topic_a: [cfa_a.siret], topic_b: [cfa_b.siret]},
        cfa={"hmac_secrets": {cfa_a.siret: SECRET_A, cfa_b.siret: SECRET_B}},
    )
    a_event = g.dossier(cfa=cfa_a)
    b_event = invalid_dossier_of(g, cfa_b)
    b_event["id"] = a_event.event_id  # B reuses A's ce_id
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_b, [signed(out(b_event), SECRET_B)])
        await consume_all(kafka_bootstrap, topics.status, at_least=1, timeout_s=20)
        await produce(kafka_bootstrap, topic_a, [signed(out(a_event.event), SECRET_A)])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=2, timeout_s=20)
    seen = {(b["cfa"], b["status"]) for b in bodies(statuses)}
    assert seen == {(cfa_b.siret, "rejected"), (cfa_a.siret, "received")}, bodies(statuses)
    assert {b["eventId"] for b in bodies(statuses)} == {a_event.event_id}
    assert len({s.headers["ce_id"] for s in statuses}) == 2  # two events, two status ids


def keys_file(tmp_path: Path, sim: SimulatorProcess, cfas: list[Cfa]) -> Path:
    rows = ["siret,opco,key,expiry"]
    for cfa in cfas:
        for opco in OpcoCode:
            rows.append(f"{cfa.siret},{opco.value},{sim.key_for(cfa.siret, opco)},2099-12-31")
    path = tmp_path / "keys.csv"
    path.write_text("\n".join(rows) + "\n")
    path.chmod(0o600)
    return path


async def test_a_followup_naming_another_cfas_opco_number_is_rejected(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    """B's convention for B's own dossier carries A's numeroInterneDossier: rejected at ingest
    (DOSSIER_NUMERO_MISMATCH), the OPCO never called with B's key on A's dossier. A's convention
    with its own number goes through (the check is not a blanket refusal)."""
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    g = Generator(42, today, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    topics = make_topics(topic_factory)
    base = settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db")
    settings = Settings(
        **{
            **base.model_dump(exclude={"dispatch", "poll", "credentials", "opco"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.1},
            "poll": {"enabled": False},
            "credentials": {
                "keys_file": keys_file(tmp_path, sim, [cfa_a, cfa_b]),
                "oauth_clients_file": sim.oauth_file,
            },
        }
    )
    base_urls = {opco: sim.opco_url(opco) for opco in OpcoCode}
    a_dossier = g.dossier(OpcoCode.ATLAS, cfa=cfa_a, start=today)
    b_dossier = g.dossier(OpcoCode.ATLAS, cfa=cfa_b, start=today)
    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=base_urls)

    async def terminal(count: int) -> list[dict[str, Any]]:
        async def enough() -> bool:
            got = await consume_all(kafka_bootstrap, topics.status, timeout_s=5, idle_s=0.3)
            done = {"submitted", "rejected", "failed", "dead_lettered"}
            return len([b for b in bodies(got) if b["status"] in done]) >= count

        await wait_until(enough, timeout_s=60, every_s=0.5)
        got = await consume_all(kafka_bootstrap, topics.status, timeout_s=5, idle_s=0.5)
        return [b for b in bodies(got) if b["status"] in {"submitted", "rejected", "failed"}]

    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(a_dossier.event), out(b_dossier.event)])
        first = {b["eventId"]: b for b in await terminal(2)}
        assert first[a_dossier.event_id]["status"] == "submitted", first
        assert first[b_dossier.event_id]["status"] == "submitted", first
        numero_a = first[a_dossier.event_id]["numeroInterne"]
        b_with_a_number = g.convention(b_dossier, numero_interne=numero_a)
        a_with_own_number = g.convention(a_dossier, numero_interne=numero_a)
        await produce(kafka_bootstrap, topics.input, [out(b_with_a_number)])
        await produce(kafka_bootstrap, topics.input, [out(a_with_own_number)])
        final = {b["eventId"]: b for b in await terminal(4)}
    refused = final[b_with_a_number["id"]]
    assert refused["status"] == "rejected", refused
    assert [e["code"] for e in refused["errors"]] == ["DOSSIER_NUMERO_MISMATCH"]
    assert refused["errors"][0]["path"] == "data.numeroInterneDossier"
    assert numero_a not in str(refused)  # the other CFA's number is not echoed back
    assert final[a_with_own_number["id"]]["status"] == "submitted", final
    conventions = [r for r in sim.records() if r["route"] == "conventions"]
    assert [r["cfaSiret"] for r in conventions] == [cfa_a.siret], conventions


async def test_per_cfa_status_topics_and_forged_records(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """With ``status_topic_pattern``, each CFA's statuses go to its own topic only, the shared
    status topic gets nothing. A forged record (B's topic, A's ce_source, A's dossier and event
    ids) gets no status on A's topic: its refusal goes to the operators' topic, named by its Kafka
    position, without any of the ids it claims."""
    g = Generator(43, TODAY, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    prefix = f"idn-{uuid.uuid4().hex[:8]}"
    topic_a, topic_b = f"{prefix}-a", f"{prefix}-b"
    status_a, status_b = f"{prefix}.{cfa_a.siret}.status", f"{prefix}.{cfa_b.siret}.status"
    create_topics_sync(kafka_bootstrap, [topic_a, topic_b, status_a, status_b], 1)
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        input_pattern=rf"{prefix}-[a-z]+",
        topic_sources={topic_a: [cfa_a.siret], topic_b: [cfa_b.siret]},
        status_topic_pattern=prefix + ".{siret}.status",
    )
    a_ok, a_victim, b_ok = g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_b)
    a_bad = invalid_dossier_of(g, cfa_a)
    forged = with_header(out(a_victim.event), "ce_source", f"urn:siret:{cfa_a.siret}")
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_b, [forged, out(b_ok.event)])
        await produce(kafka_bootstrap, topic_a, [out(a_ok.event), out(a_bad)])
        own_a = await consume_all(kafka_bootstrap, status_a, at_least=2, timeout_s=20)
        own_b = await consume_all(kafka_bootstrap, status_b, at_least=1, timeout_s=20)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=20)
        assert app.ingest is not None
        await wait_until(lambda: app.ingest is not None and app.ingest.handled >= 4)
        shared = await consume_all(kafka_bootstrap, topics.status, timeout_s=3, idle_s=1.0)
        own_a = await consume_all(kafka_bootstrap, status_a, timeout_s=3, idle_s=1.0)
    assert shared == []
    assert sorted((b["eventId"], b["status"]) for b in bodies(own_a)) == sorted(
        [(a_ok.event_id, "received"), (a_bad["id"], "rejected")]
    )
    assert {b["cfa"] for b in bodies(own_a)} == {cfa_a.siret}
    assert [(b["eventId"], b["status"], b["cfa"]) for b in bodies(own_b)] == [
        (b_ok.event_id, "received", cfa_b.siret)
    ]
    (refusal,) = refusals
    position = f"kafka:{topic_b}:0:0"
    assert refusal.key_str == position
    assert refusal.json()["eventId"] == position and refusal.json()["status"] == "rejected"
    assert [e["code"] for e in refusal.json()["errors"]] == ["SOURCE_NOT_ALLOWED_ON_TOPIC"]
    assert "cfa" not in refusal.json() and "dossierId" not in refusal.json()
    raw = repr((refusal.key, refusal.header_list, refusal.value))
    for claimed in (a_victim.event_id, a_victim.dossier_id, cfa_a.siret):
        assert claimed not in raw


async def test_a_forged_record_earns_no_status_naming_its_victim_on_the_shared_topic(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """The default (one shared status topic): a record whose source is not allowed on its topic
    gets no status carrying the victim's dossier or event id on the status topic; its refusal is
    on the operators' topic, named by its position."""
    g = Generator(44, TODAY, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    prefix = f"idn-{uuid.uuid4().hex[:8]}"
    topic_a, topic_b = f"{prefix}-a", f"{prefix}-b"
    create_topics_sync(kafka_bootstrap, [topic_a, topic_b], 1)
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        input_pattern=rf"{prefix}-[a-z]+",
        topic_sources={topic_a: [cfa_a.siret], topic_b: [cfa_b.siret]},
    )
    victim, b_ok = g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_b)
    forged = with_header(out(victim.event), "ce_source", f"urn:siret:{cfa_a.siret}")
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_b, [forged, out(b_ok.event)])
        await wait_until(lambda: app.ingest is not None and app.ingest.handled >= 2)
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=1, timeout_s=20)
        statuses = await consume_all(kafka_bootstrap, topics.status, timeout_s=3, idle_s=1.0)
        operators = await consume_all(kafka_bootstrap, topics.rejected, timeout_s=10, idle_s=1.0)
    assert [(s.json()["eventId"], s.json()["status"]) for s in statuses] == [
        (b_ok.event_id, "received")
    ]
    mine = [r for r in operators if r.key_str == f"kafka:{topic_b}:0:0"]
    assert len(mine) == 1 and mine[0].json()["status"] == "rejected", mine
    assert victim.event_id not in repr(mine[0]) and victim.dossier_id not in repr(mine[0])
