"""The ASGI app in process (no sockets): routing, wire details, admin guard, lost answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from relais.domain.opco import OpcoCode
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey, OAuthClient
from relais_simulator.config import SimulatorConfig

CFA = "73282932000074"
HEADERS = {"EDITEUR": "e", "LOGICIEL": "l", "VERSION": "1", "X-API-KEY": "k"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    config = SimulatorConfig(
        admin_token="admin",
        start_date=date(2026, 11, 27),
        keys=[
            CfaKey(CFA, OpcoCode.ATLAS, "k", date(2099, 1, 1)),
            CfaKey(CFA, OpcoCode.OCAPIAT, "k", date(2099, 1, 1)),
        ],
        oauth_clients=[OAuthClient(OpcoCode.ATLAS, "c", "s")],
        use_rules=False,
    )
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
        yield c


async def test_openapi_is_served_per_opco(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/AKTO/SorApiEchangeCFA/openapi.json")).json()
    assert doc["servers"] == [{"url": "/AKTO/SorApiEchangeCFA", "description": "AKTO"}]
    assert "/v2/dossiers/etats" in doc["paths"]


async def test_unknown_opco_route_and_method(client: httpx.AsyncClient) -> None:
    assert (await client.get("/NOPE/ApiEchangeCFA/v1/status", headers=HEADERS)).status_code == 404
    assert (
        await client.get("/ATLAS/SorApiEchangeCFA/v3/status", headers=HEADERS)
    ).status_code == 404
    wrong = await client.post("/ATLAS/SorApiEchangeCFA/v1/status", headers=HEADERS)
    assert wrong.status_code == 405
    assert wrong.json()["message"]


async def test_non_json_and_nan_bodies_are_400(client: httpx.AsyncClient) -> None:
    url = "/OCAPIAT/ApiEchangeCFA/v1/conventions"  # JSON at OCAPIAT (multipart at ATLAS)
    for body in (b"{not json", b'{"numeroInterneDossier": NaN}', b"[" * 100_000):
        r = await client.post(url, headers=HEADERS, content=body)
        assert r.status_code == 400, body[:20]
    grant = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    issued = await client.post(
        "/ATLAS/SorApiIdentityServer/connect/token", data={**grant, "scope": "api.read api.write"}
    )
    bearer = {**HEADERS, "Authorization": f"Bearer {issued.json()['access_token']}"}
    atlas = await client.post(
        "/ATLAS/SorApiEchangeCFA/v1/conventions", headers=bearer, content=b"{}"
    )
    assert atlas.status_code == 415  # its profile takes multipart only


async def test_public_health_probe(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "OK"}


async def test_admin_guard(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_admin/clock")).status_code == 401
    ok = await client.get("/_admin/clock", headers={"Authorization": "Bearer admin"})
    assert ok.json()["today"] == "2026-11-27"
    bad = await client.put(
        "/_admin/faults/ATLAS",
        headers={"Authorization": "Bearer admin"},
        json={"error_rate": 3},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["champ"] == "error_rate"


async def test_dropped_answer_without_a_socket_is_an_error_not_a_response(
    client: httpx.AsyncClient,
) -> None:
    await client.put(
        "/_admin/faults/ATLAS", headers={"Authorization": "Bearer admin"}, json={"drop_rate": 1}
    )
    with pytest.raises(ConnectionAbortedError):
        await client.get("/ATLAS/SorApiEchangeCFA/v1/status", headers=HEADERS)
