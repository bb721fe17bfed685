"""Raw-HTTP helpers for the simulator tests: valid cerfas and engaged dossiers."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from relais.sampledata.generator import Generator
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess
from tests.today import TODAY  # the simulator's clock starts on it


def cerfa_for(opco: str, seed: int = 1, siret: str = DEFAULT_CFA_SIRET) -> dict[str, Any]:
    """A cerfa valid under relais's control rules, for the CFA ``siret``."""
    cerfa = Generator(seed, TODAY).dossier(opco).cerfa
    cerfa["organismeFormation"]["siret"] = siret
    return cerfa


def post(
    sim: SimulatorProcess, opco: str, path: str, body: Any, siret: str = DEFAULT_CFA_SIRET
) -> httpx.Response:
    url = f"{sim.api_url(opco)}/{path}"
    headers = sim.headers(opco, siret, method="POST", url=url)
    return httpx.post(url, json=body, headers=headers, timeout=10)


def get(
    sim: SimulatorProcess,
    opco: str,
    path: str,
    params: dict[str, Any] | None = None,
    siret: str = DEFAULT_CFA_SIRET,
) -> httpx.Response:
    url = f"{sim.api_url(opco)}/{path}"
    headers = sim.headers(opco, siret, url=url)
    return httpx.get(url, params=params, headers=headers, timeout=10)


def submit(sim: SimulatorProcess, opco: str, seed: int = 1, version: str = "v1") -> dict[str, Any]:
    r = post(sim, opco, f"{version}/dossiers", {"cerfa": cerfa_for(opco, seed)})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def engaged(sim: SimulatorProcess, opco: str, seed: int = 1) -> dict[str, Any]:
    """A dossier submitted, then engaged (clock moved past the decision), with its read model."""
    created = submit(sim, opco, seed)
    sim.advance(5)
    r = get(sim, opco, "v2/dossiers", {"numeroInterne": created["numeroInterne"]})
    assert r.status_code == 200, r.text
    detail: dict[str, Any] = r.json()
    assert detail["cerfa"]["etat"] == "ENGAGE"
    return detail


def advance_until(sim: SimulatorProcess, wire_date: str) -> None:
    """Move the simulator's clock to ``wire_date`` (a no-op when already there)."""
    target = date.fromisoformat(wire_date[:10])
    today = date.fromisoformat(sim.clock()["today"])
    if target > today:
        sim.advance((target - today).days)
