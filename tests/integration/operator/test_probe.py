"""``relais opco probe`` against the simulator: every OPCO as its profile says (no difference), and
a profile that differs from what the endpoint does (reported, exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from relais.adapters.credentials import CredentialStore
from relais.config import OpcoSettings, Settings
from relais.demo.processes import write_profiles
from relais.domain.opco import OpcoCode
from relais.domain.referentials import referential
from relais.entrypoints.cli import run_cli
from relais.operator.probe import probe
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess, default_key

pytestmark = pytest.mark.integration


def setup(
    sim: SimulatorProcess, tmp_path: Path, **overrides: Any
) -> tuple[Settings, CredentialStore]:
    profiles = tmp_path / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, sim.base_url)
    settings = Settings(opco=OpcoSettings(profiles_file=profiles, overrides=overrides))
    store = CredentialStore()
    for code in OpcoCode:
        store.add_key(DEFAULT_CFA_SIRET, code, default_key(code))
    sim.add_oauth_clients(store)
    return settings, store


@pytest.mark.parametrize("opco", list(OpcoCode))
async def test_every_opco_is_as_its_profile_says(
    fresh_simulator: SimulatorProcess, tmp_path: Path, opco: OpcoCode
) -> None:
    sim = fresh_simulator
    sim.dossiers()  # (nothing yet)
    settings, store = setup(sim, tmp_path)
    report = await probe(settings, store, opco)
    assert not report.differs, report.text()
    checks = {f.check for f in report.findings}
    assert {"base_path", "auth"} <= checks
    token = [f for f in report.findings if f.check == "token"]
    assert len(token) == (0 if report.scheme == "api_key" else 1)
    calls = sim.records(opco=opco.value)
    assert {r["method"] for r in calls} == {"GET"}  # read-only calls only


async def test_ids_of_the_opco_shape_are_checked(
    fresh_simulator: SimulatorProcess, tmp_path: Path
) -> None:
    """ATLAS's dossiers listed by etats have its identifier shapes (the simulator issues them)."""
    from tests.integration.simulator.helpers import submit

    sim = fresh_simulator
    submit(sim, "ATLAS", version="v2")
    settings, store = setup(sim, tmp_path)
    report = await probe(settings, store, OpcoCode.ATLAS)
    found = {f.check: f for f in report.findings}
    assert found["identifiers.numero_interne"].ok, report.text()
    assert found["identifiers.numero_interne"].detail == "1 of 1 match"
    # a deployment expecting another shape sees the difference, never the id itself
    settings, _ = setup(sim, tmp_path, ATLAS={"identifiers": {"numero_interne": "@######"}})
    report = await probe(settings, store, OpcoCode.ATLAS)
    bad = {f.check: f for f in report.findings}["identifiers.numero_interne"]
    assert not bad.ok and bad.found == "#######" and report.differs


async def test_a_differing_variant_is_reported(
    fresh_simulator: SimulatorProcess, tmp_path: Path
) -> None:
    sim = fresh_simulator
    settings, store = setup(
        sim,
        tmp_path,
        AKTO={"base_path": "/ApiEchangeCFA"},  # the older notes' path
        ATLAS={
            "auth": {
                "oauth2": {
                    "token_url": f"{sim.base_url}/ATLAS/SorApiIdentityServer/connect/token",
                    "scope": ".default",  # the older notes' Azure AD scope
                    "server": "identityserver",
                }
            }
        },
        OCAPIAT={"auth": {"oauth2": {"token_url": "http://127.0.0.1:9/none", "server": "okta"}}},
    )
    akto = await probe(settings, store, OpcoCode.AKTO)
    base = {f.check: f for f in akto.findings}["base_path"]
    assert akto.differs and not base.ok
    assert (base.expected, base.found) == ("/ApiEchangeCFA", "/SorApiEchangeCFA")

    atlas = await probe(settings, store, OpcoCode.ATLAS)
    scope = {f.check: f for f in atlas.findings}["token.scope"]
    assert atlas.differs and (scope.expected, scope.found) == (".default", "api.read api.write")

    store.add_oauth(OpcoCode.OCAPIAT, "c", "s")
    ocapiat = await probe(settings, store, OpcoCode.OCAPIAT)
    auth = {f.check: f for f in ocapiat.findings}["auth"]
    assert ocapiat.differs and not auth.ok  # the endpoint takes the key alone


def test_the_command_prints_json_and_exits_1_on_a_difference(
    fresh_simulator: SimulatorProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sim = fresh_simulator
    profiles = tmp_path / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, sim.base_url)
    keys = tmp_path / "keys.csv"
    keys.write_text(f"siret,opco,key,expiry\n{DEFAULT_CFA_SIRET},AKTO,{default_key('AKTO')},\n")
    keys.chmod(0o600)
    env = {
        "RELAIS_OPCO__PROFILES_FILE": str(profiles),
        "RELAIS_CREDENTIALS__KEYS_FILE": str(keys),
        "RELAIS_CREDENTIALS__OAUTH_CLIENTS_FILE": str(sim.oauth_file),
        "RELAIS_SECRETS_DIR": str(tmp_path / "none"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_cli(["opco", "probe", "--opco", "akto", "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["opco"] == "AKTO" and doc["differs"] is False and doc["scheme"] == "oauth2"
    assert "test-key" not in out.out + out.err and "relais-tests-secret" not in out.out + out.err
    monkeypatch.setenv("RELAIS_OPCO__OVERRIDES__AKTO__BASE_PATH", "/ApiEchangeCFA")
    assert run_cli(["opco", "probe", "--opco", "AKTO"]) == 1
    assert "DIFF base_path" in capsys.readouterr().out
