"""The simulator's auth gates answer in the OPCO's error shape (convergence-api.md 0: 401/403 carry
the OPCO's body too), and the client's normalized ``OpcoErrorDetail`` reads each shape. The token
servers keep OAuth2's ``{error}`` body. In process: the real simulator app behind an ASGI
transport, the real gateway in front of it, one profile file per shape."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import httpx
import pytest

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.decisions import Outcome, decide
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail
from relais.domain.profiles import ErrorShape, load_profiles
from relais.errors import AuthError
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey
from relais_simulator.config import SimulatorConfig, default_profiles_path

CFA = "73282932000074"
OPCO = OpcoCode.CONSTRUCTYS  # API key only: the key gate is the one answering
SOFTWARE = {"EDITEUR": "e", "LOGICIEL": "l", "VERSION": "1"}
BASE = "http://sim"
UNKNOWN = "Clé API CFA absente ou inconnue"
MISSING = "Clé API CFA absente"

# shape -> (the 403 body of an unknown key, what the client reads from it)
SHAPES: dict[ErrorShape, tuple[object, OpcoErrorDetail]] = {
    "message_errors": ({"message": UNKNOWN, "errors": []}, OpcoErrorDetail(None, UNKNOWN, None)),
    "description": ({"description": UNKNOWN}, OpcoErrorDetail(None, UNKNOWN, None)),
    "errors": (
        {"errors": [{"code": "ERREUR", "description": UNKNOWN}]},
        OpcoErrorDetail("ERREUR", UNKNOWN, None),
    ),
    "comment": ({"comment": UNKNOWN}, OpcoErrorDetail(None, UNKNOWN, None)),
    "Description": ({"Description": UNKNOWN}, OpcoErrorDetail(None, UNKNOWN, None)),
}


def profiles_with(tmp_path: Path, shape: ErrorShape) -> Path:
    doc = json.loads(default_profiles_path().read_text(encoding="utf-8"))
    doc["opcos"][OPCO.value]["errors"] = {"shape": shape}
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def app_transport(path: Path) -> httpx.ASGITransport:
    config = SimulatorConfig(
        admin_token="admin",
        start_date=date(2026, 11, 27),
        keys=[CfaKey(CFA, OPCO, "good-key", date(2099, 1, 1))],
        profiles_path=path,
        use_rules=False,
    )
    return httpx.ASGITransport(app=create_app(config))


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_refused_key_answers_in_the_profile_shape_and_the_client_reads_it(
    tmp_path: Path, shape: ErrorShape
) -> None:
    path = profiles_with(tmp_path, shape)
    body, detail = SHAPES[shape]
    store = CredentialStore()
    store.add_key(CFA, OPCO, "not-the-key")
    gateway = HttpOpcoGateway(
        load_profiles(path),
        store,
        editeur="e",
        logiciel="l",
        version="1",
        base_urls={OPCO: f"{BASE}/{OPCO.value}"},
        transport=app_transport(path),
    )
    try:
        with pytest.raises(AuthError) as exc:
            await gateway.get_dossier(CFA, OPCO, "0000001")
    finally:
        await gateway.aclose()
    assert exc.value.status == 403
    assert exc.value.details == (detail,)
    async with httpx.AsyncClient(transport=app_transport(path), base_url=BASE) as client:
        url = f"/{OPCO.value}/ApiEchangeCFA/v1/status"
        refused = await client.get(url, headers={**SOFTWARE, "X-API-KEY": "not-the-key"})
        assert refused.status_code == 403 and refused.json() == body
        missing = await client.get(url, headers=SOFTWARE)
    assert missing.status_code == 401
    decision = decide(401, missing.headers, missing.json())
    assert decision.outcome is Outcome.UNAUTHORIZED
    assert [d.message for d in decision.details] == [MISSING]


async def test_the_token_servers_keep_the_oauth2_error_body() -> None:
    config = SimulatorConfig(admin_token="admin", start_date=date(2026, 11, 27), use_rules=False)
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        r = await client.post(
            "/ATLAS/SorApiIdentityServer/connect/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
    assert r.status_code == 401 and r.json() == {"error": "invalid_client"}
    assert decide(401, r.headers, r.json()).details == (
        OpcoErrorDetail(None, "invalid_client", None),
    )
