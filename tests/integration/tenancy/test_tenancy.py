"""Tenant isolation, on the real broker, ledger and simulator.

- Ingest binds topics to CFAs (``kafka.topic_sources``) and, per CFA, an HMAC-SHA256 signature
  (``cfa.hmac_secrets``): a CFA cannot publish as another (forged ``ce_source``), nor on another's
  topic, nor unsigned / badly signed when it has a secret; a forged event does not take the inbox
  slot of the real event id; the valid events after the refused ones still go through. Those
  refusals go to the operators' topic, named by the record's Kafka position, never by the ids
  or the CFA the record claims.
- A CFA publishing a follow-up for another CFA's dossier is refused (the dossier is looked up
  under the publishing CFA only), and dispatch never calls an OPCO with another CFA's key: every
  request in the simulator's record is made with the key of the event's CFA.
- The simulator's admin API refuses every call without the admin token; relais's HTTP server
  exposes health and metrics only (no operator endpoint to protect) and binds loopback by default.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx
import pytest

from relais.adapters.embedded_broker import create_topics_sync
from relais.bootstrap import build
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.sampledata import Generator, InvalidKind
from tests.fixtures.broker import consume_all, produce
from tests.fixtures.simulator import SimulatorProcess
from tests.integration.pipeline.harness import (
    make_topics,
    out,
    published_statuses,
    running,
    settings_for,
    signed,
    wait_until,
    with_header,
)
from tests.today import TODAY

pytestmark = pytest.mark.integration

SECRET_A = "tenancy-hmac-secret-a-9f8e7d6c"


async def test_topic_source_binding_and_signatures_at_ingest(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    g = Generator(31, TODAY, cfa_count=3)
    cfa_a, cfa_b, cfa_c = g.cfas
    prefix = f"ten-{uuid.uuid4().hex[:8]}"
    topic_a, topic_b, topic_shared = f"{prefix}-a", f"{prefix}-b", f"{prefix}-shared"
    topic_unmapped = f"{prefix}-unmapped"
    create_topics_sync(kafka_bootstrap, [topic_a, topic_b, topic_shared, topic_unmapped], 1)
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        input_pattern=rf"{prefix}-[a-z]+",
        topic_sources={topic_a: [cfa_a.siret], topic_b: [cfa_b.siret], topic_shared: ["*"]},
        cfa={"hmac_secrets": {cfa_a.siret: SECRET_A}},
    )
    a_ok, a_unsigned, a_badsig = g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_a)
    b_ok, b_on_a = g.dossier(cfa=cfa_b), g.dossier(cfa=cfa_b)
    b_as_a = g.dossier(cfa=cfa_b)  # CFA B's dossier, published with CFA A's ce_source on B's topic
    c_shared, c_unmapped = g.dossier(cfa=cfa_c), g.dossier(cfa=cfa_c)
    a_late = g.dossier(cfa=cfa_a)
    # a forged copy of A's event (same id), published by B on B's topic first: it must not take
    # the inbox slot of the real event, which comes later on A's topic
    forged_copy = with_header(out(a_late.event), "ce_source", f"urn:siret:{cfa_a.siret}")
    forged_as_a = with_header(out(b_as_a.event), "ce_source", f"urn:siret:{cfa_a.siret}")
    received = {a_ok.event_id, b_ok.event_id, c_shared.event_id, a_late.event_id}
    # refusals of records whose source is not established: named by their Kafka position only
    refused = {
        f"kafka:{topic_b}:0:0": "SOURCE_NOT_ALLOWED_ON_TOPIC",  # forged copy of a_late
        f"kafka:{topic_b}:0:1": "SOURCE_NOT_ALLOWED_ON_TOPIC",  # b_as_a
        f"kafka:{topic_a}:0:1": "SIGNATURE_MISSING",  # a_unsigned
        f"kafka:{topic_a}:0:2": "SIGNATURE_INVALID",  # a_badsig
        f"kafka:{topic_a}:0:3": "SOURCE_NOT_ALLOWED_ON_TOPIC",  # b_on_a
        f"kafka:{topic_unmapped}:0:0": "SOURCE_NOT_ALLOWED_ON_TOPIC",  # c_unmapped
    }
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_b, [forged_copy, forged_as_a, out(b_ok.event)])
        await produce(
            kafka_bootstrap,
            topic_a,
            [
                signed(out(a_ok.event), SECRET_A),
                out(a_unsigned.event),
                signed(out(a_badsig.event), "not-the-secret"),
                out(b_on_a.event),
                signed(out(a_late.event), SECRET_A),  # the real one, after its forged copy
            ],
        )
        await produce(kafka_bootstrap, topic_shared, [out(c_shared.event)])
        await produce(kafka_bootstrap, topic_unmapped, [out(c_unmapped.event)])
        statuses = await consume_all(kafka_bootstrap, topics.status, at_least=4, timeout_s=30)
        refusals = await consume_all(kafka_bootstrap, topics.rejected, at_least=6, timeout_s=30)
    # the forged copy was refused and the real event (same id) accepted afterwards
    assert sorted((s.json()["eventId"], s.json()["status"]) for s in statuses) == sorted(
        (event_id, "received") for event_id in received
    )
    seen = {r.key_str: r.json() for r in refusals}
    assert len(seen) == len(refusals)  # one refusal per record, no duplicate
    assert {k: [e["code"] for e in b["errors"]] for k, b in seen.items()} == {
        k: [code] for k, code in refused.items()
    }
    for position, body in seen.items():
        assert body["status"] == "rejected" and body["eventId"] == position
        assert body.get("cfa") is None  # never attributed to the CFA it claims to be
        assert body.get("dossierId") is None  # nor naming the dossier it claims


async def test_a_forged_copy_does_not_replace_the_real_rejection(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    """B replays A's (invalid) event on B's topic before A's own copy arrives: A must still get
    its own ``rejected`` status (its rule errors, its CFA), under its own id. (Finding F3: before
    ce87939 the forged copy's refusal took the outbox slot and A's answer was dropped.)"""
    g = Generator(33, TODAY, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    bad = g.invalid_dossier(InvalidKind.NIR_KEY)
    while bad.dossier.cfa.siret != cfa_a.siret:
        bad = g.invalid_dossier(InvalidKind.NIR_KEY)
    prefix = f"ten-{uuid.uuid4().hex[:8]}"
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
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        await produce(kafka_bootstrap, topic_b, [out(bad.event)])  # the forged copy first
        await consume_all(kafka_bootstrap, topics.rejected, at_least=1, timeout_s=20)
        await produce(kafka_bootstrap, topic_a, [out(bad.event)])  # then A's own
        assert app.ingest is not None
        await wait_until(lambda: app.ingest is not None and app.ingest.handled >= 2, timeout_s=20)
        published = await published_statuses(app, kafka_bootstrap, topics.status, topics.rejected)
        statuses = [s for s in published if s.topic == topics.status]
        refusals = [s for s in published if s.topic == topics.rejected]
    own = [
        s.json()
        for s in statuses
        if s.json()["eventId"] == bad.event["id"] and s.json().get("cfa") == cfa_a.siret
    ]
    assert len(own) == 1 and own[0]["status"] == "rejected", [s.json() for s in statuses]
    assert "SOURCE_NOT_ALLOWED_ON_TOPIC" not in {e["code"] for e in own[0]["errors"]}
    ids = [s.headers["ce_id"] for s in [*statuses, *refusals]]
    assert len(set(ids)) == 2  # two different refusals, two different status ids
    assert [r.json()["eventId"] for r in refusals] == [f"kafka:{topic_b}:0:0"]


async def test_no_call_with_another_cfas_key(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    """CFA B sends a convention for CFA A's dossier (A's dossier id as subject), and a dossier
    whose cerfa names CFA A as the training organisation: the first is refused (relais knows no
    such dossier of B), the second goes to the OPCO with B's key only."""
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    g = Generator(32, today, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    rows = ["siret,opco,key,expiry"]
    for cfa in (cfa_a, cfa_b):
        for opco in OpcoCode:
            rows.append(f"{cfa.siret},{opco.value},{sim.key_for(cfa.siret, opco)},2099-12-31")
    keys = tmp_path / "keys.csv"
    keys.write_text("\n".join(rows) + "\n")
    keys.chmod(0o600)
    topics = make_topics(topic_factory)
    base = settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db")
    settings = Settings(
        **{
            **base.model_dump(exclude={"dispatch", "poll", "credentials", "opco"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.1},
            "poll": {"enabled": False},
            "credentials": {"keys_file": keys, "oauth_clients_file": sim.oauth_file},
        }
    )
    base_urls = {opco: sim.opco_url(opco) for opco in OpcoCode}
    a_dossier = g.dossier(OpcoCode.ATLAS, cfa=cfa_a, start=today)
    b_for_a = g.convention(a_dossier)
    b_for_a["source"] = cfa_b.source  # B speaks of A's dossier
    b_dossier = g.dossier(OpcoCode.ATLAS, cfa=cfa_b, start=today)
    b_dossier.event["data"]["cerfa"]["organismeFormation"] = a_dossier.cerfa["organismeFormation"]
    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=base_urls)
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(a_dossier.event)])
        await produce(kafka_bootstrap, topics.input, [out(b_for_a), out(b_dossier.event)])

        async def answered() -> bool:
            got = await consume_all(kafka_bootstrap, topics.status, timeout_s=5, idle_s=0.3)
            terminal = {"submitted", "rejected", "failed", "dead_lettered"}
            return len({s.json()["eventId"] for s in got if s.json()["status"] in terminal}) >= 3

        await wait_until(answered, timeout_s=60, every_s=0.5)
        statuses = await published_statuses(app, kafka_bootstrap, topics.status, topics.rejected)
    final = {
        s.json()["eventId"]: s.json()
        for s in statuses
        if s.json()["status"] in {"submitted", "rejected", "failed"}
    }
    assert final[a_dossier.event_id]["status"] == "submitted"
    refused = final[b_for_a["id"]]
    assert refused["status"] == "rejected"
    assert [e["code"] for e in refused["errors"]] == ["DOSSIER_UNKNOWN"]
    records = sim.records()
    assert records, "dispatch reached the simulator"
    numero_a = final[a_dossier.event_id]["numeroInterne"]
    posts = [r for r in records if r["route"] == "dossiers_post"]
    # A's dossier went with A's key; B's dossier (naming A's training site) only ever with B's
    # key, which the OPCO refuses (403: the key's CFA is not the dossier's organisme)
    assert [r["cfaSiret"] for r in posts if r["ids"].get("numeroInterne") == numero_a] == [
        cfa_a.siret
    ]
    others = [r for r in posts if r["ids"].get("numeroInterne") != numero_a]
    assert others and {r["cfaSiret"] for r in others} == {cfa_b.siret}, others
    assert all(r["status"] != 401 for r in records)  # no unknown or wrong key anywhere
    assert final[b_dossier.event_id]["status"] in ("failed", "rejected")
    assert len([r for r in records if r["route"] == "conventions"]) == 0  # B's for A: refused


# ------------------------------------------------------------------------------------------------
# Admin and operator HTTP endpoints
# ------------------------------------------------------------------------------------------------

SIM_ADMIN = [
    ("GET", "/_admin/keys"),
    ("POST", "/_admin/keys"),
    ("GET", "/_admin/oauth-clients"),
    ("POST", "/_admin/oauth-clients"),
    ("POST", "/_admin/oauth/expire-tokens"),
    ("GET", "/_admin/faults"),
    ("DELETE", "/_admin/faults"),
    ("PUT", "/_admin/faults/AKTO"),
    ("DELETE", "/_admin/faults/AKTO"),
    ("GET", "/_admin/clock"),
    ("POST", "/_admin/clock/advance"),
    ("GET", "/_admin/settings"),
    ("PUT", "/_admin/settings"),
    ("GET", "/_admin/records"),
    ("GET", "/_admin/stats"),
    ("GET", "/_admin/dossiers"),
    ("GET", "/_admin/factures"),
    ("POST", "/_admin/reset"),
]


def test_simulator_admin_refuses_without_the_token(simulator: SimulatorProcess) -> None:
    before = simulator.stats()
    wrong = [
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Basic {simulator.admin_token}"},
        {"Authorization": f"Bearer {simulator.admin_token[:-1]}"},
        {"X-Admin-Token": simulator.admin_token},
    ]
    with httpx.Client(base_url=simulator.base_url, timeout=10) as client:
        for method, path in SIM_ADMIN:
            for headers in wrong:
                resp = client.request(method, path, headers=headers, json={"days": 5})
                assert resp.status_code == 401, (method, path, headers, resp.status_code)
                assert simulator.admin_token not in resp.text
        # the token works (the list above is real, not a list of 404s)
        ok = client.get(
            "/_admin/clock", headers={"Authorization": f"Bearer {simulator.admin_token}"}
        )
        assert ok.status_code == 200
    assert simulator.clock()["today"] == before.get("today", simulator.clock()["today"])


async def test_relais_http_serves_health_and_metrics_only(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    assert Settings().http.host == "127.0.0.1"  # loopback unless a deployment says otherwise
    topics = make_topics(topic_factory)
    settings = settings_for(
        kafka_bootstrap,
        topics,
        f"sqlite:///{tmp_path}/ledger.db",
        cfa={"hmac_secrets": {"12345678901234": SECRET_A}},
    )
    app = build(settings, ["ingest", "relay"])
    async with running(app):
        port = app.http_port
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for path in ("/health/live", "/health/ready", "/metrics"):
                resp = await client.get(path)
                assert resp.status_code == 200, path
                assert SECRET_A not in resp.text
            for path in ("/admin", "/_admin", "/config", "/env", "/debug", "/shutdown", "/dlq"):
                assert (await client.get(path)).status_code == 404, path
                assert (await client.post(path)).status_code in (404, 405), path
            for path in ("/metrics", "/health/ready"):
                assert (await client.post(path)).status_code == 405, path
                assert (await client.delete(path)).status_code == 405, path
