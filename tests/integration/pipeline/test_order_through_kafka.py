"""Order per dossier at the OPCO, from a CFA topic of several partitions to the simulator.

Ingest, dispatch and relay run in one process on the real broker, a SQLite ledger and the real
simulator (with latency and 5xx). CFA events are keyed by dossier id, so each dossier's events
share a partition; events of many dossiers spread over four partitions and interleave. Per
dossier, what the OPCO received must come in publication order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from relais.bootstrap import build
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.sampledata import GeneratedDossier, Generator
from tests.fixtures.broker import consume_all, produce
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess, default_key
from tests.integration.dispatch.order import published_label, received_order
from tests.integration.pipeline.harness import (
    make_topics,
    out,
    running,
    settings_for,
    sim_urls,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

OPCOS = (OpcoCode.ATLAS, OpcoCode.AFDAS)  # API keys only; AFDAS takes certificats, ATLAS ruptures
TERMINAL = {"submitted", "rejected", "failed", "dead_lettered"}
FAULTS = {"latency_ms": 5, "jitter_ms": 25, "error_rate": 0.15, "error_statuses": [500, 503]}


def app_settings(
    bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path, oauth_file: Path
) -> tuple[Settings, str]:
    topics = make_topics(topic_factory, partitions=4)
    keys = tmp_path / "keys.csv"
    rows = [f"{DEFAULT_CFA_SIRET},{o.value},{default_key(o)},2099-12-31" for o in OpcoCode]
    keys.write_text("\n".join(["siret,opco,key,expiry", *rows]) + "\n")
    keys.chmod(0o600)
    base = settings_for(bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db")
    settings = Settings(
        **{
            **base.model_dump(exclude={"dispatch", "credentials", "kafka", "ledger"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.05},
            "credentials": {"keys_file": keys, "oauth_clients_file": oauth_file},
        }
    )
    return settings, topics.status


async def answered(bootstrap: str, status_topic: str, event_ids: set[str]) -> dict[str, str]:
    """The terminal status of each of ``event_ids`` that has one."""
    got = await consume_all(bootstrap, status_topic, timeout_s=5, idle_s=0.3)
    return {
        body["eventId"]: body["status"]
        for body in (s.json() for s in got)
        if body["status"] in TERMINAL and body["eventId"] in event_ids
    }


async def test_order_per_dossier_across_partitions(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    gen = Generator(20261203, today, cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    settings, status_topic = app_settings(kafka_bootstrap, topic_factory, tmp_path, sim.oauth_file)
    input_topic = settings.kafka.input_topic
    dossiers = [
        gen.dossier(
            OPCOS[i % 2], cfa=gen.cfas[0], explicit_opco=True, start=today - timedelta(days=2)
        )
        for i in range(10)
    ]
    published: dict[str, list[str]] = defaultdict(list)

    def followups(d: GeneratedDossier) -> list[dict[str, Any]]:
        events = [gen.convention(d)]
        for echeance in (1, 2, 3):
            montant = {d.dossier_id: 10.0 + echeance}
            # dated when the OPCO's clock has opened the échéance (relais checks it, issue 15)
            invoiced = today + timedelta(days=300)
            events.append(
                gen.facture([d], numero_echeance=echeance, montants=montant, date_facture=invoiced)
            )
        if d.opco is OpcoCode.AFDAS:
            events.append(gen.certificat(d))
        else:
            events.append(gen.rupture(d, date_rupture=d.start + timedelta(days=300)))
        return events

    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=sim_urls(sim))
    async with running(app):
        # 1. the dossiers, created at the OPCO; the OPCO engages them, échéances 1-3 open
        await produce(kafka_bootstrap, input_topic, [out(d.event) for d in dossiers])
        for d in dossiers:
            published[d.dossier_id].append(published_label(d.event))
        ids = {d.event_id for d in dossiers}

        async def dossiers_done() -> bool:
            return len(await answered(kafka_bootstrap, status_topic, ids)) == len(ids)

        await wait_until(dossiers_done, timeout_s=60, every_s=0.5)
        statuses = await consume_all(kafka_bootstrap, status_topic)
        numeros = {
            body["numeroInterne"]: body["dossierId"]
            for body in (s.json() for s in statuses)
            if body["status"] == "submitted" and body["eventId"] in ids
        }
        assert len(numeros) == len(dossiers), statuses
        sim.advance(300)
        for numero, dossier_id in numeros.items():
            opco = next(d.opco for d in dossiers if d.dossier_id == dossier_id)
            if sim.dossier(opco, numero)["etat"] != "ENGAGE":
                sim.set_etat(opco, numero, "ENGAGE")

        # 2. their follow-ups, round-robin across dossiers, under latency and 5xx
        for opco in OPCOS:
            sim.set_faults(opco, **FAULTS)
        plans = [followups(d) for d in dossiers]
        interleaved = []
        for step in range(max(len(p) for p in plans)):
            for d, plan in zip(dossiers, plans, strict=True):
                if step < len(plan):
                    interleaved.append(plan[step])
                    published[d.dossier_id].append(published_label(plan[step]))
        await produce(kafka_bootstrap, input_topic, [out(e) for e in interleaved])
        ids = {e["id"] for e in interleaved}

        async def followups_done() -> bool:
            return len(await answered(kafka_bootstrap, status_topic, ids)) == len(ids)

        await wait_until(followups_done, timeout_s=120, every_s=0.5)
        outcomes = await answered(kafka_bootstrap, status_topic, ids)

    records = [r for opco in OPCOS for r in sim.records(opco=opco.value)]
    inputs = await consume_all(kafka_bootstrap, input_topic, at_least=len(dossiers) + len(ids))
    assert len({r.partition for r in inputs}) > 1, "the dossiers spread over several partitions"
    received = received_order(records, numeros, set(numeros))
    for d in dossiers:
        assert received[d.dossier_id] == published[d.dossier_id], d.dossier_id
    assert any(r["outcome"].startswith("fault") for r in records), "the run exercised retries"
    assert set(outcomes.values()) == {"submitted"}, outcomes
