"""The running simulator, over raw HTTP: a dossier's life at one OPCO."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from relais.sampledata.generator import Generator
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess
from tests.today import TODAY

pytestmark = pytest.mark.integration


def cerfa_for(opco: str, seed: int = 1) -> dict[str, Any]:
    cerfa = Generator(seed, TODAY).dossier(opco).cerfa
    cerfa["organismeFormation"]["siret"] = DEFAULT_CFA_SIRET
    return cerfa


def test_dossier_is_created_then_duplicate_answers_409(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    url = sim.api_url("ATLAS") + "/v2/dossiers"
    cerfa = cerfa_for("ATLAS")
    first = httpx.post(url, json={"cerfa": cerfa}, headers=sim.headers("ATLAS"))
    assert first.status_code == 200, first.text
    assert first.json()["etat"] == "TRANSMIS"
    again = httpx.post(url, json={"cerfa": cerfa}, headers=sim.headers("ATLAS"))
    assert again.status_code == 409
    assert again.json()["numeroInterne"] == first.json()["numeroInterne"]
    created = [r for r in sim.records(route="dossiers_post") if r["created"]]
    assert len(created) == 1


async def test_concurrent_identical_submissions_create_one_dossier(
    fresh_simulator: SimulatorProcess,
) -> None:
    sim = fresh_simulator
    sim.set_faults("ATLAS", latency_ms=50, jitter_ms=50)  # interleave the requests
    url = sim.api_url("ATLAS") + "/v1/dossiers"
    body = {"cerfa": cerfa_for("ATLAS", seed=11)}
    async with httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(
            *(client.post(url, json=body, headers=sim.headers("ATLAS")) for _ in range(20))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 19
    ids = {a.json()["numeroInterne"] for a in answers}
    assert len(ids) == 1
    assert len(sim.dossiers(opco="ATLAS")) == 1
