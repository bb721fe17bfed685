"""The running simulator, over raw HTTP: a dossier's life at one OPCO."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from relais.sampledata.generator import Generator
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess

pytestmark = pytest.mark.integration


def cerfa_for(opco: str, seed: int = 1) -> dict[str, Any]:
    cerfa = Generator(seed, date(2026, 11, 27)).dossier(opco).cerfa
    cerfa["organismeFormation"]["siret"] = DEFAULT_CFA_SIRET
    return cerfa


def test_dossier_is_created_then_duplicate_answers_409(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    url = sim.opco_url("ATLAS") + "/v2/dossiers"
    cerfa = cerfa_for("ATLAS")
    first = httpx.post(url, json={"cerfa": cerfa}, headers=sim.headers("ATLAS"))
    assert first.status_code == 201, first.text
    assert first.json()["etat"] == "TRANSMIS"
    again = httpx.post(url, json={"cerfa": cerfa}, headers=sim.headers("ATLAS"))
    assert again.status_code == 409
    assert again.json()["numeroInterne"] == first.json()["numeroInterne"]
    created = [r for r in sim.records(route="dossiers_post") if r["created"]]
    assert len(created) == 1
