"""A crash mid-upload resumes (issue 18): ``relais run`` is SIGKILLed while a document's upload to
the OPCO is in flight (the OPCO is slow to answer); a second ``relais run`` takes the command back
when its lease expires, as a doubt, and resends it: the OPCO's duplicate answer (409 by the file's
hash) or its first answer ends it ``submitted``, with exactly one document at the OPCO."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from relais.adapters.embedded_broker import free_port
from relais.demo.processes import RelaisProcess, relais_env, write_profiles
from relais.domain.opco import OpcoCode
from relais.domain.referentials import referential
from tests.fixtures.broker import broker_kind_of, consume_all, produce
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess, write_default_credentials
from tests.integration.pipeline.harness import make_topics, out, sim_generator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ATLAS = OpcoCode.ATLAS  # documents as multipart
DONE = ("submitted", "rejected", "failed")
SLOW_S = 8.0  # the OPCO holds the answer this long: relais is killed before it comes


def in_flight(ledger: Path, kind: str) -> bool:
    with sqlite3.connect(ledger) as db:
        row = db.execute(
            "SELECT count(*) FROM commands WHERE kind = ? AND state = 'in_flight'", (kind,)
        ).fetchone()
    return bool(row[0])


async def test_a_document_upload_killed_mid_flight_resumes_with_one_document(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
) -> None:
    sim = fresh_simulator
    gen = sim_generator(sim, 20261219)
    topics = make_topics(topic_factory)
    keys, oauth = write_default_credentials(tmp_path)
    profiles = tmp_path / "opco-profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, sim.base_url)
    ledger = tmp_path / "ledger.db"

    def relais(name: str) -> RelaisProcess:
        port = free_port()
        env = relais_env(
            bootstrap=kafka_bootstrap,
            ledger_url=f"sqlite:///{ledger}",
            http_port=port,
            profiles_file=profiles,
            keys_file=keys,
            oauth_file=oauth,
            input_topic=topics.input,
            status_topic=topics.status,
            dlq_topic=topics.dlq,
            group_id=f"relais-{topics.input}",
            extra={"RELAIS_DISPATCH__LEASE_S": "3"},
            tansu_timings=broker_kind_of(kafka_bootstrap) == "tansu",
        )
        return RelaisProcess(log_path=tmp_path / f"{name}.log", env=env, http_port=port)

    d = gen.dossier(ATLAS, cfa=gen.cfas[0], explicit_opco=True, start=gen.today - timedelta(days=2))
    document = gen.document(d, "CONVENTION_FORMATION")
    digest = document["data"]["fichier"]["sha256"]

    async def terminal(event_id: str) -> dict[str, Any] | None:
        """The event's terminal status, once relais published one."""
        got = await consume_all(kafka_bootstrap, topics.status, timeout_s=5, idle_s=0.3)
        bodies = (s.json() for s in got)
        return next((b for b in bodies if b["eventId"] == event_id and b["status"] in DONE), None)

    first = relais("first")
    first.start()
    try:
        await first.wait_ready()
        await produce(kafka_bootstrap, topics.input, [out(d.event)])

        async def dossier_done() -> bool:
            return (await terminal(str(d.event["id"])) or {}).get("status") == "submitted"

        await wait_until(dossier_done, timeout_s=60, every_s=0.5)
        # the OPCO stores the document, then keeps the answer back: relais dies waiting for it
        sim.set_faults(
            ATLAS,
            stored_lost_rate=1.0,
            stored_lost_mode="hang",
            hang_s=SLOW_S,
            max_faults=1,
            routes=["documents"],
        )
        await produce(kafka_bootstrap, topics.input, [out(document)])

        await wait_until(lambda: in_flight(ledger, "document"), timeout_s=30, every_s=0.05)

        def stored() -> bool:
            return any(doc["sha256"] == digest for doc in sim.documents(siret=DEFAULT_CFA_SIRET))

        await wait_until(stored, timeout_s=30, every_s=0.05)
        assert first.pid is not None
        os.kill(first.pid, signal.SIGKILL)  # mid-upload: the OPCO has not answered yet
        assert await terminal(str(document["id"])) is None  # nothing was decided
    finally:
        first.stop(grace_s=5)

    sim.clear_faults(ATLAS)
    second = relais("second")
    second.start()
    try:
        await second.wait_ready()

        async def document_done() -> bool:
            return await terminal(str(document["id"])) is not None

        await wait_until(document_done, timeout_s=90, every_s=0.5)
    finally:
        second.stop()
    final = await terminal(str(document["id"]))
    assert (
        final is not None
        and final["status"] == "submitted"
        and final.get("reason") == "already_at_opco"
    ), final
    at_opco = [doc for doc in sim.documents(siret=DEFAULT_CFA_SIRET) if doc["sha256"] == digest]
    assert len(at_opco) == 1, at_opco
    assert final["numeroInterneDocument"] == at_opco[0]["numeroInterneDocument"]
    posts = [
        r for r in sim.records(route="documents") if (r.get("file") or {}).get("sha256") == digest
    ]
    # the upload the crash cut off (stored, its answer never read), then the resend recognised
    assert [(r.get("created"), r.get("outcome")) for r in posts] == [
        (True, "fault:stored_lost"),
        (False, "duplicate"),
    ], posts
