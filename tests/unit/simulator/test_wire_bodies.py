"""The bodies relais builds (relais.domain.wire) are accepted by the simulator applying relais's
rules: the Paris-offset dates, typed numbers and cleaned identifiers read back as sent."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from relais.domain.cerfa import Cerfa
from relais.domain.opco import OpcoCode
from relais.domain.wire import dossier_body, encode
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey
from relais_simulator.config import SimulatorConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dossiers" / "initial-11.json"
CFA = "13098723300017"  # the example's organismeFormation.siret
HEADERS = {
    "EDITEUR": "e",
    "LOGICIEL": "l",
    "VERSION": "1",
    "X-API-KEY": "k",
    "Content-Type": "application/json",
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    config = SimulatorConfig(
        admin_token="admin",
        start_date=date(2026, 11, 27),
        keys=[CfaKey(CFA, OpcoCode.OCAPIAT, "k", date(2099, 1, 1))],  # an API key only
        use_rules=True,
    )
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
        yield c


async def test_a_wire_built_dossier_is_accepted_by_the_rules(client: httpx.AsyncClient) -> None:
    doc = copy.deepcopy(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    doc["employeur"]["siret"] = "828 347 575 00015"  # cleaned on the wire
    doc["contrat"]["typeContratApp"] = "11"  # a number on the wire
    doc["contrat"]["champMaison"] = "x"  # never forwarded
    body = encode(dossier_body(Cerfa.model_validate(doc)))
    assert b'"dateDebutContrat":"2026-12-01T00:00:00+01:00"' in body

    answer = await client.post("/OCAPIAT/ApiEchangeCFA/v1/dossiers", headers=HEADERS, content=body)

    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["numeroInterne"]
