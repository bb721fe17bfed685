"""``relais keys check`` against the real simulator: configured expiry and the OPCO's key info."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from relais.adapters.credentials import CredentialStore
from relais.config import OpcoSettings, Settings
from relais.demo.processes import write_profiles
from relais.domain.opco import OpcoCode
from relais.domain.referentials import referential
from relais.operator.keys import check_keys
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    SimulatorProcess,
    default_key,
)

pytestmark = pytest.mark.integration

OTHER_CFA = "44306184100047"


async def test_keys_are_listed_soonest_trouble_first(
    fresh_simulator: SimulatorProcess, tmp_path: Path
) -> None:
    today = date.fromisoformat(fresh_simulator.clock()["today"])
    soon = (today + timedelta(days=10)).isoformat()
    profiles = tmp_path / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, fresh_simulator.base_url)
    settings = Settings(opco=OpcoSettings(profiles_file=profiles))
    store = CredentialStore()
    store.add_key(DEFAULT_CFA_SIRET, OpcoCode.ATLAS, default_key("ATLAS"), date(2099, 12, 31))
    store.add_key(DEFAULT_CFA_SIRET, OpcoCode.AKTO, default_key("AKTO"), None)
    fresh_simulator.add_oauth_clients(store)
    key = fresh_simulator.key_for(OTHER_CFA, OpcoCode.AFDAS, expiry=soon)
    store.add_key(OTHER_CFA, OpcoCode.AFDAS, key, None)
    later = today + timedelta(days=400)  # configured, not expired: the OPCO alone says invalid
    store.add_key(OTHER_CFA, OpcoCode.OPCO2I, "not-a-key-the-opco-knows", later)

    rows = await check_keys(settings, store, today=today)

    assert [(r.cfa, r.opco, r.state) for r in rows] == [
        (OTHER_CFA, "OPCO2I", "invalid"),
        (OTHER_CFA, "AFDAS", "expiring"),
        (DEFAULT_CFA_SIRET, "AKTO", "ok"),
        (DEFAULT_CFA_SIRET, "ATLAS", "ok"),
    ]
    afdas = rows[1]
    assert afdas.opco_expiry == today + timedelta(days=10)
    assert afdas.days_left == 10
    assert rows[2].configured_expiry is None and rows[2].opco_expiry == date(2099, 12, 31)
    assert all("not-a-key" not in str(r.as_dict()) for r in rows)  # keys are never shown
