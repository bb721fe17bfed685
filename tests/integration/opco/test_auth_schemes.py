"""The client against each OPCO's variant of the simulator, on real HTTP: its base path, its token
server (IdentityServer with scopes, Keycloak without, Okta with a DPoP proof the simulator
verifies), X-API-KEY and the token on each call, tokens cached per (OPCO, client) and refreshed."""

from __future__ import annotations

import uuid

import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.errors import AuthError
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    default_key,
)
from tests.integration.opco.conftest import CFA, Rig

pytestmark = pytest.mark.integration

VARIANTS = [
    # (OPCO, its base path, its token server's path, the Authorization scheme on calls)
    (OpcoCode.AKTO, "/SorApiEchangeCFA", "/SorApiIdentityServer/connect/token", "Bearer"),
    (OpcoCode.ATLAS, "/SorApiEchangeCFA", "/SorApiIdentityServer/connect/token", "Bearer"),
    (OpcoCode.MOBILITES, "/SorApiEchangeCFA", "/SorApiIdentityServer/connect/token", "Bearer"),
    (
        OpcoCode.OPCOEP,
        "",
        "/realms/interopco-partenaires/protocol/openid-connect/token",
        "Bearer",
    ),
    (OpcoCode.AFDAS, "", "/oauth2/default/v1/token", "DPoP"),
    (OpcoCode.OCAPIAT, "/ApiEchangeCFA", None, None),
]


@pytest.mark.parametrize(("opco", "base_path", "token_path", "scheme"), VARIANTS)
async def test_each_variant_read_calls(
    rig: Rig, opco: OpcoCode, base_path: str, token_path: str | None, scheme: str | None
) -> None:
    assert CFA == DEFAULT_CFA_SIRET
    info = await rig.gateway.key_info(CFA, opco)
    assert info.valid
    etats = [e async for e in rig.gateway.dossier_etats(CFA, opco)]
    assert etats == []
    calls = rig.sim.records(opco=opco.value)
    assert [r["status"] for r in calls] == [200, 200]
    assert calls[0]["path"] == f"/{opco.value}{base_path}/v2/cfakeyinfo"
    tokens = rig.sim.records(opco=opco.value, route="oauth2_token")
    if token_path is None:
        assert tokens == []
    else:  # one token for both calls (cached), fetched from this OPCO's token server
        assert [(r["path"], r["status"]) for r in tokens] == [(f"/{opco.value}{token_path}", 200)]


async def test_the_afdas_token_is_dpop_bound_and_refreshed(rig: Rig) -> None:
    opco = OpcoCode.AFDAS
    await rig.gateway.key_info(CFA, opco)
    rig.sim.expire_tokens()
    assert (await rig.gateway.key_info(CFA, opco)).valid  # 401, a new token, once
    calls = rig.sim.records(opco=opco.value, route="cfakeyinfo")
    assert [r["status"] for r in calls] == [200, 401, 200]
    tokens = rig.sim.records(opco=opco.value, route="oauth2_token")
    assert [r["status"] for r in tokens] == [200, 200]


async def test_a_replayed_dpop_proof_is_refused(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every proof with the same jti: the token request's passes (first use), the call's is a
    replay (401), and so is the new token request after it (400 invalid_dpop_proof)."""
    fixed = uuid.UUID("00000000-0000-4000-8000-000000000001")
    monkeypatch.setattr("relais.adapters.opco.dpop.uuid.uuid4", lambda: fixed)
    with pytest.raises(AuthError) as exc:
        await rig.gateway.key_info(CFA, OpcoCode.AFDAS)
    assert exc.value.status == 400
    assert "invalid_dpop_proof" in exc.value.messages
    tokens = rig.sim.records(opco="AFDAS", route="oauth2_token")
    assert [r["status"] for r in tokens] == [200, 400]
    assert [r["status"] for r in rig.sim.records(opco="AFDAS")] == [401]


async def test_tokens_are_cached_per_client(rig: Rig) -> None:
    """Two CFAs, one with its own OAuth2 client at ATLAS: one token each, reused."""
    other = "35600000000048"
    rig.sim.add_oauth_client("ATLAS", "cfa-own-client", "cfa-own-secret")
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.ATLAS, default_key(OpcoCode.ATLAS))
    store.add_key(other, OpcoCode.ATLAS, rig.sim.key_for(other, OpcoCode.ATLAS))
    store.add_oauth(OpcoCode.ATLAS, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET)
    store.add_oauth(OpcoCode.ATLAS, "cfa-own-client", "cfa-own-secret", cfa=other)
    gateway = rig.gateway_with(store=store)
    try:
        for _ in range(2):
            assert (await gateway.key_info(CFA, OpcoCode.ATLAS)).valid
            assert (await gateway.key_info(other, OpcoCode.ATLAS)).valid
    finally:
        await gateway.aclose()
    tokens = rig.sim.records(opco="ATLAS", route="oauth2_token")
    assert len(tokens) == 2
    calls = rig.sim.records(opco="ATLAS", route="cfakeyinfo")
    assert [r["cfaSiret"] for r in calls] == [CFA, other, CFA, other]
