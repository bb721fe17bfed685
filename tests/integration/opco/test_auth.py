"""Keys and tokens against the real simulator: wrong key, expired key, expired OAuth token."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.errors import AuthError, MissingCredentialsError
from tests.fixtures.simulator import OAUTH_CLIENT_ID, default_key
from tests.integration.opco.conftest import CFA, Rig

pytestmark = pytest.mark.integration

OTHER_CFA = "35600000000048"


async def test_wrong_key(rig: Rig) -> None:
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.ATLAS, "not-the-key")
    rig.sim.add_oauth_clients(store)  # a good token, a wrong key: the key is checked too
    gateway = rig.gateway_with(store=store)
    try:
        with pytest.raises(AuthError) as exc:
            await gateway.submit_dossier(CFA, OpcoCode.ATLAS, rig.dossier(OpcoCode.ATLAS).cerfa)
        assert exc.value.status == 403
        assert exc.value.messages == ("Clé API CFA absente ou inconnue",)
        assert "not-the-key" not in f"{exc.value} {exc.value!r} {exc.value.messages}"
        info = await gateway.key_info(CFA, OpcoCode.ATLAS)
        assert not info.valid
    finally:
        await gateway.aclose()


async def test_expired_key(rig: Rig) -> None:
    yesterday = (rig.today - timedelta(days=1)).isoformat()
    key = rig.sim.key_for(OTHER_CFA, OpcoCode.OCAPIAT, expiry=yesterday)
    store = CredentialStore()
    store.add_key(OTHER_CFA, OpcoCode.OCAPIAT, key)
    gateway = rig.gateway_with(store=store)
    try:
        with pytest.raises(AuthError) as exc:
            [e async for e in gateway.dossier_etats(OTHER_CFA, OpcoCode.OCAPIAT)]
        assert exc.value.status == 403
        assert exc.value.messages == ("clé API CFA expirée",)
        info = await gateway.key_info(OTHER_CFA, OpcoCode.OCAPIAT)
        assert not info.valid
        assert info.date_fin_validite == rig.today - timedelta(days=1)
        assert info.comment == "clé API CFA expirée"
    finally:
        await gateway.aclose()


async def test_key_expiring_as_the_clock_moves(rig: Rig) -> None:
    soon = (rig.today + timedelta(days=2)).isoformat()
    key = rig.sim.key_for(OTHER_CFA, OpcoCode.OPCO2I, expiry=soon)
    store = CredentialStore()
    store.add_key(OTHER_CFA, OpcoCode.OPCO2I, key)
    gateway = rig.gateway_with(store=store)
    try:
        assert (await gateway.key_info(OTHER_CFA, OpcoCode.OPCO2I)).valid
        rig.sim.advance(3)
        assert not (await gateway.key_info(OTHER_CFA, OpcoCode.OPCO2I)).valid
    finally:
        await gateway.aclose()


async def test_expired_oauth_token_is_refreshed_once(rig: Rig) -> None:
    opco = OpcoCode.AKTO
    await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
    rig.sim.expire_tokens()
    created = await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
    assert not created.duplicate
    statuses = [r["status"] for r in rig.sim.records(opco=opco.value, route="dossiers_post")]
    assert statuses == [200, 401, 200]


async def test_wrong_oauth_secret(rig: Rig) -> None:
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.AKTO, default_key(OpcoCode.AKTO))
    store.add_oauth(OpcoCode.AKTO, OAUTH_CLIENT_ID, "wrong-secret")
    gateway = rig.gateway_with(store=store)
    try:
        with pytest.raises(AuthError, match="client credentials refused") as exc:
            await gateway.key_info(CFA, OpcoCode.AKTO)
        assert exc.value.messages == ("invalid_client",)
        assert "wrong-secret" not in str(exc.value)
        records = rig.sim.records(opco="AKTO", tokens=True)
        assert [r["route"] for r in records] == ["oauth2_token"]  # never reached the API
        assert records[0]["status"] == 401
    finally:
        await gateway.aclose()


async def test_token_lifetime_shorter_than_the_margin(rig: Rig) -> None:
    """A token living less than 60 s is never cached: every call fetches a fresh one."""
    rig.sim._admin("PUT", "/oauth/ttl", json={"ttl_s": 30})
    try:
        for _ in range(2):
            await rig.gateway.key_info(CFA, OpcoCode.AKTO)
        statuses = [r["status"] for r in rig.sim.records(opco="AKTO", route="cfakeyinfo")]
        assert statuses == [200, 200]
    finally:
        rig.sim._admin("PUT", "/oauth/ttl", json={"ttl_s": 3600})


async def test_missing_credentials(rig: Rig) -> None:
    with pytest.raises(MissingCredentialsError):
        await rig.gateway.key_info(OTHER_CFA, OpcoCode.AFDAS)
    assert rig.sim.records(opco="AFDAS") == []
