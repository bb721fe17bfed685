"""Raw-HTTP helpers for the simulator tests: valid cerfas and engaged dossiers."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx

from relais.domain.opco import OpcoCode
from relais.domain.profiles import load_profiles
from relais.domain.referentials import referential
from relais.sampledata.generator import Generator
from relais.sampledata.pdfs import sample_pdf
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


PROFILES = load_profiles(referential("opco-profiles.json"))
PDF = sample_pdf("test facture")
ROUTES = {"v1/conventions": "conventions", "v1/factures": "factures"}


def send(
    sim: SimulatorProcess,
    opco: str,
    path: str,
    body: Any,
    siret: str = DEFAULT_CFA_SIRET,
    pdf: bytes = PDF,
) -> httpx.Response:
    """POST a convention or facture in the OPCO profile's transport: JSON, or multipart with the
    JSON part and ``pdf`` in ``fichier`` (convergence-api.md 0)."""
    route = ROUTES.get(path)
    transport = PROFILES[OpcoCode(opco)].transport.route(route) if route else None
    if transport is None or not transport.multipart:
        return post(sim, opco, path, body, siret)
    files = {
        transport.json_part: (None, json.dumps(body).encode(), "application/json"),
        transport.file_part: ("facture.pdf", pdf, "application/pdf"),
    }
    url = f"{sim.api_url(opco)}/{path}"  # under the profile's base path
    headers = sim.headers(opco, siret, method="POST", url=url)
    return httpx.post(url, files=files, headers=headers, timeout=10)


def facture_for(
    numero: str, externe: str, lines: list[tuple[int, float]], iban: str | None = None
) -> dict[str, Any]:
    """A facture in convergence-api.md 0's form: ``lines`` as (numeroEcheance, montant)."""
    body: dict[str, Any] = {
        "montantTotal": round(sum(m for _, m in lines), 2),
        "numero": numero,
        "dateEmission": f"{TODAY.isoformat()}T00:00:00+00:00",
        "siretEmetteur": DEFAULT_CFA_SIRET,
        "estCertificatRealisation": any(n > 1 for n, _ in lines),
        "lignes": [
            {
                "montant": montant,
                "natureLigne": "PEDAGOGIE",
                "quantite": 1,
                "numeroEcheance": n,
                "codificationEcheance": n,
                "numeroDossier": externe,
            }
            for n, montant in lines
        ],
    }
    if iban is not None:
        body["ibanEmetteur"] = iban
    return body


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
    assert r.status_code == 200, r.text
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
