"""Fault injection, AKTO's OAuth2 flow (IdentityServer), the admin API of the simulator."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.fixtures.simulator import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, SimulatorProcess
from tests.integration.simulator.helpers import cerfa_for, get, post

pytestmark = pytest.mark.integration


def status(
    sim: SimulatorProcess, opco: str = "ATLAS", timeout: float | httpx.Timeout = 5.0
) -> httpx.Response:
    url = sim.api_url(opco) + "/v1/status"
    return httpx.get(url, headers=sim.headers(opco, url=url), timeout=timeout)


def test_latency_is_added(fresh_simulator: SimulatorProcess) -> None:
    """The latency is added to the faulted OPCO only, within ``latency_ms + jitter_ms``: read from
    the simulator's record (``delayMs``), not from a stopwatch that a loaded machine stretches."""
    sim = fresh_simulator
    sim.set_faults("ATLAS", latency_ms=300, jitter_ms=50)
    with httpx.Client(timeout=5) as client:

        def timed(opco: str) -> float:
            started = time.monotonic()
            url = sim.api_url(opco) + "/v1/status"
            r = client.get(url, headers=sim.headers(opco, url=url))
            assert r.status_code == 200
            return time.monotonic() - started

        atlas = [timed("ATLAS") for _ in range(3)]
        for _ in range(3):
            timed("AFDAS")
    delays = [r["delayMs"] for r in sim.records(opco="ATLAS", route="status")]
    assert len(delays) == 3 and all(300 <= d <= 350 for d in delays), delays
    assert all(spent >= d / 1000 for spent, d in zip(atlas, delays, strict=True)), (atlas, delays)
    assert [r["delayMs"] for r in sim.records(opco="AFDAS", route="status")] == [0, 0, 0]


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors(fresh_simulator: SimulatorProcess, code: int) -> None:
    fresh_simulator.set_faults("ATLAS", error_rate=1, error_statuses=[code], retry_after_s=4)
    r = status(fresh_simulator)
    assert r.status_code == code
    assert r.json()["message"]
    if code == 503:
        assert r.headers["Retry-After"] == "4"
    (record,) = fresh_simulator.records()
    assert record["outcome"] == "fault:error" and record["status"] == code


def test_throttle_and_rate_limit_answer_429_with_retry_after(
    fresh_simulator: SimulatorProcess,
) -> None:
    sim = fresh_simulator
    sim.set_faults("ATLAS", throttle_rate=1, retry_after_s=3, max_faults=1)
    first = status(sim)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert status(sim).status_code == 200  # the budget of one fault is spent
    sim.set_faults("OPCOEP", rate_limit_per_s=1)
    answers = [status(sim, "OPCOEP").status_code for _ in range(3)]
    assert answers[0] == 200 and 429 in answers[1:]
    limited = next(r for r in sim.records(opco="OPCOEP") if r["status"] == 429)
    assert limited["outcome"] == "rate_limited"


async def test_profile_rate_limits_when_switched_on(fresh_simulator: SimulatorProcess) -> None:
    """CONSTRUCTYS's profile allows 50/s in bursts of 50. 120 requests one after the other met no
    429 when a loaded machine answered fewer than 50 a second; waves of 100 at once are sent until
    the limiter answers (bounded), and the records show it let through no more than its budget."""
    sim = fresh_simulator
    sim.settings(rate_limit=True)
    headers = sim.headers("CONSTRUCTYS")  # an API key only: the same headers on every call
    url = sim.api_url("CONSTRUCTYS") + "/v1/status"
    codes: list[int] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for _ in range(20):
            answers = await asyncio.gather(*(client.get(url) for _ in range(100)))
            codes += [r.status_code for r in answers]
            if 429 in codes:
                break
    assert 429 in codes and codes[0] == 200
    assert set(codes) == {200, 429}
    records = sim.records(opco="CONSTRUCTYS")
    arrivals = sorted((r["at"], r["status"]) for r in records)
    start = arrivals[0][0]
    served = 0
    for at, status_code in arrivals:
        served += status_code == 200
        # a 50 burst, then 50 a second (+1 for the clocks: the record's wall time vs the bucket's)
        assert served <= 50 + 50 * (at - start) + 1, (served, at - start)


def test_down_switch(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    sim.set_faults("MOBILITES", down=True, retry_after_s=30)
    r = status(sim, "MOBILITES")
    assert r.status_code == 503 and r.headers["Retry-After"] == "30"
    sim.clear_faults("MOBILITES")
    assert status(sim, "MOBILITES").status_code == 200


def test_dropped_connection_gets_no_response(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    sim.set_faults("ATLAS", drop_rate=1, max_faults=1)
    with pytest.raises(httpx.RemoteProtocolError):
        status(sim)
    assert status(sim).status_code == 200
    first, _ = sim.records()
    assert first["outcome"] == "fault:drop" and first["status"] == 0


def test_timeout_hangs_longer_than_the_client_waits(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    sim.set_faults("ATLAS", timeout_rate=1, hang_s=60, max_faults=1)
    # A ReadTimeout (not a closed connection) is the proof the client gave up first.
    with pytest.raises(httpx.ReadTimeout):
        status(sim, timeout=httpx.Timeout(5.0, read=0.3))
    (hung,) = sim.records()
    assert hung["outcome"] == "fault:timeout" and hung["status"] == 0
    assert status(sim).status_code == 200


@pytest.mark.parametrize("mode", ["drop", "hang"])
def test_stored_but_response_lost(fresh_simulator: SimulatorProcess, mode: str) -> None:
    sim = fresh_simulator
    sim.set_faults(
        "ATLAS",
        stored_lost_rate=1,
        stored_lost_mode=mode,
        hang_s=60,
        routes=["dossiers_post"],
        max_faults=1,
    )
    cerfa = cerfa_for("ATLAS")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadTimeout)):
        httpx.post(
            sim.api_url("ATLAS") + "/v1/dossiers",
            json={"cerfa": cerfa},
            headers=sim.headers("ATLAS"),
            timeout=httpx.Timeout(5.0, read=0.5),
        )
    # "hang": the client may give up before a loaded simulator has stored the dossier
    sim.wait_for_records(1, route="dossiers_post")
    (stored,) = sim.dossiers(opco="ATLAS")
    # the CFA's resend is recognised as a duplicate and names the stored dossier
    again = post(sim, "ATLAS", "v1/dossiers", {"cerfa": cerfa})
    assert again.status_code == 409
    assert again.json()["numeroInterne"] == stored["numeroInterne"]
    lost, dup = sim.records(route="dossiers_post")
    assert lost["outcome"] == "fault:stored_lost" and lost["created"]
    assert dup["outcome"] == "duplicate" and not dup["created"]


def test_faults_file_at_start_is_applied(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.fixtures.simulator import start_simulator

    directory = tmp_path_factory.mktemp("faulty")
    faults = directory / "faults.json"
    faults.write_text('{"CONSTRUCTYS": {"down": true, "retry_after_s": 9}}', encoding="utf-8")
    sim = start_simulator(directory, "--faults", str(faults))
    try:
        r = status(sim, "CONSTRUCTYS")
        assert r.status_code == 503 and r.headers["Retry-After"] == "9"
        assert status(sim, "ATLAS").status_code == 200
    finally:
        sim.close()


def test_akto_oauth2_flow_and_expiry(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    key_only = dict(sim.headers("CONSTRUCTYS"))  # an API key only
    key_only["X-API-KEY"] = sim.key_for("73282932000074", "AKTO")
    r = httpx.get(sim.api_url("AKTO") + "/v1/status", headers=key_only)
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    bad = httpx.post(
        sim.token_url("AKTO"),
        data={
            "grant_type": "client_credentials",
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": "wrong",
        },
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    grant = httpx.post(sim.token_url("AKTO"), data={"grant_type": "password"})
    assert grant.status_code == 400
    ok = httpx.post(
        sim.token_url("AKTO"),
        data={
            "grant_type": "client_credentials",
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": OAUTH_CLIENT_SECRET,
            "scope": "api.read api.write",
        },
    )
    assert ok.status_code == 200
    token = ok.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    headers = dict(key_only, Authorization=f"Bearer {token['access_token']}")
    assert httpx.get(sim.api_url("AKTO") + "/v1/status", headers=headers).status_code == 200
    sim.expire_tokens()
    assert httpx.get(sim.api_url("AKTO") + "/v1/status", headers=headers).status_code == 401
    # short-lived tokens expire on their own: valid until their lifetime has passed, not after
    # (the tokens are aged through the admin API: no race with a loaded machine's wall clock)
    sim.client.put("/_admin/oauth/ttl", json={"ttl_s": 600}).raise_for_status()
    short = sim.token("AKTO", fresh=True)
    headers["Authorization"] = f"Bearer {short}"
    assert httpx.get(sim.api_url("AKTO") + "/v1/status", headers=headers).status_code == 200
    sim.age_tokens(500)
    assert httpx.get(sim.api_url("AKTO") + "/v1/status", headers=headers).status_code == 200
    sim.age_tokens(101)
    assert httpx.get(sim.api_url("AKTO") + "/v1/status", headers=headers).status_code == 401
    # an OPCO whose profile has no OAuth2 has no token endpoint
    assert httpx.post(sim.token_url("OCAPIAT"), data={}).status_code == 404


def test_admin_requires_the_bearer_token(simulator: SimulatorProcess) -> None:
    for path in ("/_admin/records", "/_admin/faults", "/_admin/clock", "/_admin/keys"):
        assert httpx.get(simulator.base_url + path).status_code == 401
        wrong = {"Authorization": "Bearer wrong"}
        assert httpx.get(simulator.base_url + path, headers=wrong).status_code == 401
    assert httpx.post(simulator.base_url + "/_admin/reset").status_code == 401


def test_admin_keys_clients_settings_and_etat(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    sim.add_key("12345678200010", "OCAPIAT", "new-key")
    keys = sim.client.get("/_admin/keys").json()["keys"]
    assert any(k["siret"] == "12345678200010" for k in keys)
    assert all(k["key"] != "new-key" for k in keys)  # masked
    r = httpx.get(
        sim.api_url("OCAPIAT") + "/v1/status", headers=sim.headers("OCAPIAT", key="new-key")
    )
    assert r.status_code == 200
    bad = sim.client.post("/_admin/keys", json={"siret": "1", "opco": "X", "key": "", "expiry": ""})
    assert bad.status_code == 400
    sim.add_oauth_client("AKTO", "second", "s3cret")
    assert any(
        c["client_id"] == "second"
        for c in sim.client.get("/_admin/oauth-clients").json()["clients"]
    )
    assert sim.settings(refusal_rate=0.25)["refusal_rate"] == 0.25
    created = post(sim, "ATLAS", "v1/dossiers", {"cerfa": cerfa_for("ATLAS")}).json()
    view = sim.set_etat("ATLAS", created["numeroInterne"], "ANNULE", "annulé")
    assert view["etat"] == "ANNULE"
    page = get(sim, "ATLAS", "v1/dossiers/etats").json()
    assert page["EtatDossierResult"][0]["etat"] == "ANNULE"
    conflict = sim.client.post(
        f"/_admin/dossiers/ATLAS/{created['numeroInterne']}/etat", json={"etat": "ENGAGE"}
    )
    assert conflict.status_code == 409
    stats = sim.stats()
    assert stats["dossiers"]["ATLAS"] == {"ANNULE": 1}
    assert sim.clock()["day"] == 0
    sim.client.post("/_admin/clock/scale", json={"day_seconds": 0.1}).raise_for_status()
    time.sleep(0.25)
    assert sim.clock()["day"] >= 2
    sim.reset()
    assert sim.clock()["day"] == 0 and sim.dossiers() == [] and sim.records() == []
