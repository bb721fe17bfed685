"""Each OPCO as its profile says, in process: its base path (case-insensitive), its token server
(IdentityServer with scopes, Keycloak without, Okta with a verified DPoP proof), its identifiers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from relais.adapters.opco.dpop import DpopSigner
from relais.demo.processes import new_dpop_key
from relais.domain.opco import OpcoCode
from relais.services.clock import SystemClock
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey, OAuthClient
from relais_simulator.config import SimulatorConfig
from tests.unit.opco.conftest import FakeClock

CFA = "73282932000074"
SOFTWARE = {"EDITEUR": "e", "LOGICIEL": "l", "VERSION": "1"}
OAUTH_OPCOS = (OpcoCode.AKTO, OpcoCode.ATLAS, OpcoCode.MOBILITES, OpcoCode.OPCOEP, OpcoCode.AFDAS)
BASE = "http://sim"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    config = SimulatorConfig(
        admin_token="admin",
        start_date=date(2026, 11, 27),
        keys=[CfaKey(CFA, code, f"k-{code.value}", date(2099, 1, 1)) for code in OpcoCode],
        oauth_clients=[OAuthClient(code, "c", "s") for code in OAUTH_OPCOS],
        use_rules=False,
    )
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


def form(scope: str | None = None) -> dict[str, str]:
    body = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    if scope is not None:
        body["scope"] = scope
    return body


async def token(client: httpx.AsyncClient, path: str, scope: str | None) -> str:
    r = await client.post(path, data=form(scope))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/OCAPIAT/ApiEchangeCFA/v1/status", 200),
        ("/OCAPIAT/apiechangecfa/V1/STATUS", 200),  # paths match case-insensitively
        ("/OCAPIAT/v1/status", 404),  # its base path is required
        ("/OCAPIAT/SorApiEchangeCFA/v1/status", 404),
    ],
)
async def test_base_path_of_a_key_only_opco(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    headers = {**SOFTWARE, "X-API-KEY": "k-OCAPIAT"}
    assert (await client.get(path, headers=headers)).status_code == status


async def test_identityserver_needs_its_scopes_then_bearer_and_key(
    client: httpx.AsyncClient,
) -> None:
    path = "/ATLAS/SorApiIdentityServer/connect/token"
    assert (await client.post(path, data=form())).json()["error"] == "invalid_scope"
    assert (await client.post(path, data=form(".default"))).json()["error"] == "invalid_scope"
    bad = await client.post(path, data={**form("api.read"), "client_secret": "x"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    bearer = await token(client, path, "api.read api.write")
    url = "/ATLAS/SorApiEchangeCFA/v1/Status"  # a capital letter, as one stored URL had
    key = {**SOFTWARE, "X-API-KEY": "k-ATLAS"}
    assert (await client.get(url, headers=key)).status_code == 401
    assert (
        await client.get(url, headers={**SOFTWARE, "Authorization": f"Bearer {bearer}"})
    ).status_code == 401
    assert (
        await client.get(url, headers={**key, "Authorization": f"Bearer {bearer}"})
    ).status_code == 200
    # a token of another OPCO is not this one's
    other = await token(client, "/AKTO/SorApiIdentityServer/connect/token", "api.read")
    assert (
        await client.get(url, headers={**key, "Authorization": f"Bearer {other}"})
    ).status_code == 401


async def test_keycloak_takes_no_scope(client: httpx.AsyncClient) -> None:
    path = "/OPCOEP/realms/interopco-partenaires/protocol/openid-connect/token"
    assert (await client.post(path, data=form("api.read"))).json()["error"] == "invalid_scope"
    bearer = await token(client, path, None)
    headers = {**SOFTWARE, "X-API-KEY": "k-OPCOEP", "Authorization": f"Bearer {bearer}"}
    assert (await client.get("/OPCOEP/v1/status", headers=headers)).status_code == 200
    # no other flavour's path at this OPCO
    assert (
        await client.post("/OPCOEP/SorApiIdentityServer/connect/token", data=form())
    ).status_code == 404


async def test_okta_verifies_the_dpop_proof(client: httpx.AsyncClient) -> None:
    signer = DpopSigner(new_dpop_key("RS256").decode(), "RS256", SystemClock())
    token_url = f"{BASE}/AFDAS/oauth2/default/v1/token"
    assert (await client.post(token_url, data=form())).json()["error"] == "invalid_dpop_proof"
    wrong_htu = signer.proof("POST", f"{BASE}/AFDAS/oauth2/other/v1/token")
    r = await client.post(token_url, data=form(), headers={"DPoP": wrong_htu})
    assert r.status_code == 400 and "htu" in r.json()["error_description"]
    wrong_htm = signer.proof("GET", token_url)
    r = await client.post(token_url, data=form(), headers={"DPoP": wrong_htm})
    assert "htm" in r.json()["error_description"]
    proof = signer.proof("POST", token_url)
    ok = await client.post(token_url, data=form(), headers={"DPoP": proof})
    assert ok.status_code == 200 and ok.json()["token_type"] == "DPoP"
    replay = await client.post(token_url, data=form(), headers={"DPoP": proof})
    assert replay.status_code == 400 and "rejouée" in replay.json()["error_description"]
    five_minutes_ago = FakeClock(
        datetime.now(UTC) - timedelta(minutes=5)
    )  # the server's window: 60 s
    stale = DpopSigner(new_dpop_key("RS256").decode(), "RS256", five_minutes_ago)
    r = await client.post(token_url, data=form(), headers={"DPoP": stale.proof("POST", token_url)})
    assert r.status_code == 400 and "iat" in r.json()["error_description"]
    tampered = proof[:-6] + ("AAAAAA" if not proof.endswith("AAAAAA") else "BBBBBB")
    r = await client.post(token_url, data=form(), headers={"DPoP": tampered})
    assert "signature" in r.json()["error_description"]

    access = ok.json()["access_token"]
    url = f"{BASE}/AFDAS/v1/status"
    key = {**SOFTWARE, "X-API-KEY": "k-AFDAS"}
    call_proof = signer.proof("GET", url, access_token=access)
    as_bearer = {**key, "Authorization": f"Bearer {access}"}
    assert (await client.get(url, headers=as_bearer)).status_code == 401
    good = {**key, "Authorization": f"DPoP {access}", "DPoP": call_proof}
    assert (await client.get(url, headers=good)).status_code == 200
    assert (await client.get(url, headers=good)).status_code == 401  # the same proof again
    no_ath = {**key, "Authorization": f"DPoP {access}", "DPoP": signer.proof("GET", url)}
    assert (await client.get(url, headers=no_ath)).status_code == 401
    other_key = DpopSigner(new_dpop_key("RS256").decode(), "RS256", SystemClock())
    stolen = other_key.proof("GET", url, access_token=access)
    r = await client.get(url, headers={**good, "DPoP": stolen})
    assert r.status_code == 401 and "autre clé" in r.json()["errors"][0]["description"]
