"""An OPCO paused during its maintenance window, through the real broker and the simulator.

Ingest, dispatch and relay run in one process on the real broker, a SQLite ledger and the real
simulator. The operator pauses AKTO (``relais opco pause``'s operator call, on its own ledger
connection as the CLI would be another process): AKTO's dossiers wait (no call reaches the
simulator, no attempt spent, one "waiting" note each, the gauge at 1) while ATLAS's flow; once
resumed, AKTO's dossiers reach the OPCO in publication order (one dispatch slot: the claim's order
is the OPCO's), each in one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from relais.bootstrap import build
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.operator import opco as operator
from relais.sampledata import Generator
from relais.services.ledger_port import CommandState
from tests.fixtures.broker import consume_all, produce
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    SimulatorProcess,
    write_default_credentials,
)
from tests.integration.pipeline.harness import (
    make_topics,
    out,
    running,
    settings_for,
    sim_urls,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

AKTO, ATLAS = OpcoCode.AKTO, OpcoCode.ATLAS


def app_settings(
    bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> tuple[Settings, str]:
    keys, oauth = write_default_credentials(tmp_path)
    keys.chmod(0o600)
    oauth.chmod(0o600)
    base = settings_for(bootstrap, make_topics(topic_factory), f"sqlite:///{tmp_path}/ledger.db")
    settings = Settings(
        **{
            **base.model_dump(exclude={"dispatch", "credentials", "kafka", "ledger"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            # one slot: the claim's order is the order the OPCO receives
            "dispatch": {"enabled": True, "idle_s": 0.05, "inflight_limit": 1},
            "credentials": {"keys_file": keys, "oauth_clients_file": oauth},
        }
    )
    return settings, settings.kafka.status_topic


async def statuses(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    return [s.json() for s in await consume_all(bootstrap, topic, timeout_s=5, idle_s=0.3)]


def dossier_posts(sim: SimulatorProcess, opco: OpcoCode) -> list[dict[str, Any]]:
    return sorted(
        (r for r in sim.records(opco=opco.value) if r["route"] == "dossiers_post"),
        key=lambda r: r["seq"],
    )


async def test_a_paused_opco_waits_while_the_others_flow_then_goes_in_order(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    gen = Generator(20261127, today, cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    settings, status_topic = app_settings(kafka_bootstrap, topic_factory, tmp_path)
    url = settings.ledger.url.get_secret_value()
    start = today - timedelta(days=2)
    akto = [gen.dossier(AKTO, cfa=gen.cfas[0], explicit_opco=True, start=start) for _ in range(4)]
    atlas = [gen.dossier(ATLAS, cfa=gen.cfas[0], explicit_opco=True, start=start) for _ in range(2)]
    akto_ids = [d.event_id for d in akto]
    atlas_ids = {d.event_id for d in atlas}
    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=sim_urls(sim))

    async with running(app):
        await operator.pause(url, "AKTO", until=None, reason="fenêtre de maintenance")
        interleaved = [akto[0], atlas[0], akto[1], akto[2], atlas[1], akto[3]]
        await produce(
            kafka_bootstrap, settings.kafka.input_topic, [out(d.event) for d in interleaved]
        )

        # ATLAS's dossiers go out; AKTO's each get one "waiting" note
        async def held() -> bool:
            bodies = await statuses(kafka_bootstrap, status_topic)
            submitted = {b["eventId"] for b in bodies if b["status"] == "submitted"}
            waiting = {b["eventId"] for b in bodies if b["status"] == "waiting"}
            return submitted == atlas_ids and waiting == set(akto_ids)

        await wait_until(held, timeout_s=60, every_s=0.5)
        await asyncio.sleep(6)  # past another pause check of the dispatcher: no second note
        bodies = await statuses(kafka_bootstrap, status_topic)
        notes = [b for b in bodies if b["status"] == "waiting"]
        assert sorted(b["eventId"] for b in notes) == sorted(akto_ids)
        assert {(b["opco"], b["reason"]) for b in notes} == {("AKTO", "opco_paused")}
        assert all("maintenance" in b["message"] and "attempts" not in b for b in notes)
        assert not any(b["eventId"] in akto_ids and b["status"] == "submitted" for b in bodies)
        assert dossier_posts(sim, AKTO) == [], "no call to a paused OPCO"
        assert len(dossier_posts(sim, ATLAS)) == 2
        for d in akto:
            [command] = await app.ledger.commands_for(DEFAULT_CFA_SIRET, d.dossier_id)
            assert (command.state, command.attempts) == (CommandState.PENDING, 0)
        assert 'relais_opco_paused{opco="AKTO"} 1.0' in app.metrics.render().decode()

        assert await operator.resume(url, "AKTO") is True

        async def released() -> bool:
            bodies = await statuses(kafka_bootstrap, status_topic)
            return {b["eventId"] for b in bodies if b["status"] == "submitted"} >= set(akto_ids)

        await wait_until(released, timeout_s=60, every_s=0.5)
        await wait_until(
            lambda: 'relais_opco_paused{opco="AKTO"} 0.0' in app.metrics.render().decode(),
            timeout_s=15,
        )
        bodies = await statuses(kafka_bootstrap, status_topic)

    submitted = {b["eventId"]: b for b in bodies if b["status"] == "submitted"}
    assert [submitted[i]["attempts"] for i in akto_ids] == [1, 1, 1, 1], "one call each"
    by_numero = {submitted[i]["numeroInterne"]: submitted[i]["dossierId"] for i in akto_ids}
    posts = dossier_posts(sim, AKTO)
    received = [by_numero[r["ids"]["numeroInterne"]] for r in posts]
    assert received == [d.dossier_id for d in akto], "released in publication order, once each"
    assert len([b for b in bodies if b["status"] == "waiting"]) == len(akto_ids)
