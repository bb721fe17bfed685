"""The admin API in process (no sockets): every route behind the token, state from the app's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from starlette.applications import Starlette

from relais.domain.opco import OpcoCode
from relais_simulator.admin import TABLE
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey
from relais_simulator.config import SimulatorConfig

CFA = "73282932000074"
TOKEN = "s3cret-t0ken"
PATH_VALUES = {"{opco}": "ATLAS", "{key}": "k", "{numero}": "1"}


def _app(token: str) -> Starlette:
    config = SimulatorConfig(
        admin_token=token,
        start_date=date(2026, 11, 27),
        keys=[CfaKey(CFA, OpcoCode.ATLAS, "k", date(2099, 1, 1))],
        use_rules=False,
    )
    return create_app(config)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
        yield c


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace(name, value)
    return "/_admin" + path


async def test_every_admin_route_and_method_wants_the_token(client: httpx.AsyncClient) -> None:
    calls = [(method, _url(path)) for path, _, methods in TABLE for method in methods]
    assert len(calls) == 32  # 28 rows, 4 of them PUT and POST
    wrong = ({}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"})
    for headers in wrong:
        for method, url in calls:
            r = await client.request(method, url, headers=headers, json={"credentials": True})
            assert r.status_code == 401, (method, url, headers)
            assert r.headers["WWW-Authenticate"] == "Bearer"
            assert TOKEN not in r.text
    # Nothing was done: the key is still there, the clock did not move.
    admin = {"Authorization": f"Bearer {TOKEN}"}
    keys = (await client.get("/_admin/keys", headers=admin)).json()["keys"]
    assert len(keys) == 1
    assert (await client.get("/_admin/clock", headers=admin)).json()["day"] == 0


async def test_each_app_serves_its_own_simulator_and_token() -> None:
    """Handlers read the simulator from the app that serves the request: two apps in one process
    share neither state nor token."""
    one, two = _app("one"), _app("two")
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=one), base_url="http://a") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=two), base_url="http://b") as b,
    ):
        assert (await a.get("/_admin/keys", headers={"Authorization": "Bearer two"})).is_error
        gone = await a.delete("/_admin/keys/ATLAS/k", headers={"Authorization": "Bearer one"})
        assert gone.json() == {"deleted": True}
        assert (await a.get("/_admin/keys", headers={"Authorization": "Bearer one"})).json() == {
            "keys": []
        }
        kept = await b.get("/_admin/keys", headers={"Authorization": "Bearer two"})
        assert len(kept.json()["keys"]) == 1
        moved = await b.post(
            "/_admin/clock/advance", headers={"Authorization": "Bearer two"}, json={"days": 3}
        )
        assert moved.json()["day"] == 3
        clock = await a.get("/_admin/clock", headers={"Authorization": "Bearer one"})
        assert clock.json()["day"] == 0


async def test_an_unknown_method_on_an_admin_path_is_405(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/_admin/clock")).status_code == 405
