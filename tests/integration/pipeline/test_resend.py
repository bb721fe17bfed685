"""A resent event id is answered with the status it already has (issue 16): ingest, dispatch and
relay in one process on the real broker, the real simulator and each ledger engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from relais.bootstrap import build
from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.domain.status import status_event_id
from relais.sampledata import Generator
from tests.fixtures.broker import In, consume_all, produce
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess, default_key
from tests.integration.pipeline.harness import (
    Topics,
    make_topics,
    out,
    running,
    settings_for,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def app_settings(bootstrap: str, topics: Topics, ledger_url: str, tmp_path: Path) -> Settings:
    keys = tmp_path / "keys.csv"
    rows = [f"{DEFAULT_CFA_SIRET},{o.value},{default_key(o)},2099-12-31" for o in OpcoCode]
    keys.write_text("\n".join(["siret,opco,key,expiry", *rows]) + "\n")
    keys.chmod(0o600)
    base = settings_for(bootstrap, topics, ledger_url)
    return Settings(
        **{
            **base.model_dump(exclude={"dispatch", "credentials", "kafka", "ledger"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.05},
            "credentials": {"keys_file": keys},
        }
    )


async def test_a_resent_event_gets_its_terminal_status_again_under_the_same_id(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    gen = Generator(20261216, today, cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    d = gen.dossier(
        OpcoCode.OCAPIAT, cfa=gen.cfas[0], explicit_opco=True, start=today - timedelta(days=2)
    )
    topics = make_topics(topic_factory)
    settings = app_settings(kafka_bootstrap, topics, ledger_url, tmp_path)
    urls = {opco: sim.opco_url(opco) for opco in OpcoCode}
    submitted_id = status_event_id(d.event_id, "submitted", cfa=DEFAULT_CFA_SIRET)

    def of_event(statuses: list[In]) -> list[tuple[str, str]]:
        return [
            (s.json()["status"], s.headers["ce_id"])
            for s in statuses
            if s.json()["eventId"] == d.event_id
        ]

    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=urls)
    async with running(app):
        await produce(kafka_bootstrap, topics.input, [out(d.event)])
        first = await consume_all(kafka_bootstrap, topics.status, at_least=2, timeout_s=60)
        assert [s for s, _ in of_event(first)] == ["received", "submitted"], first
        # The CFA did not see the answer and sends the same event (same CFA, same ce_id) again.
        await produce(kafka_bootstrap, topics.input, [out(d.event)])
        await wait_until(lambda: app.ingest is not None and app.ingest.handled == 2, 30)
        again = await consume_all(kafka_bootstrap, topics.status, at_least=3, timeout_s=30)
        commands = await app.ledger.commands_for(d.cfa.siret, d.dossier_id)
    answers = of_event(again)
    assert answers[:2] == of_event(first)
    # the resend is answered with the terminal status it already has: same status, same id
    assert answers[2:] == [("submitted", submitted_id)], answers
    assert len(commands) == 1
    assert [r["status"] for r in sim.records(opco="OCAPIAT", route="dossiers_post")] == [200]
