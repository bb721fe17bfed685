"""Settings -> the dispatcher's per-OPCO share of its in-flight slots."""

from __future__ import annotations

from pathlib import Path

import pytest

from relais.bootstrap import build
from relais.config import Settings
from tests.unit.services.fakes import FakeGateway


@pytest.mark.parametrize(
    ("share", "cap"),
    [({}, 4), ({"per_opco_inflight_limit": 3}, 3), ({"per_opco_inflight_limit": 0}, None)],
)
def test_the_share_setting_reaches_the_dispatcher(
    tmp_path: Path, share: dict[str, int], cap: int | None
) -> None:
    settings = Settings(
        ledger={"url": f"sqlite:///{tmp_path}/l.db"},
        http={"enabled": False},
        dispatch={"inflight_limit": 16, **share},
    )
    app = build(settings, ["dispatch"], gateway=FakeGateway())
    assert app.dispatcher is not None
    assert app.dispatcher.options.opco_cap == cap


def test_environment_sets_the_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAIS_DISPATCH__PER_OPCO_INFLIGHT_LIMIT", "7")
    assert Settings().dispatch.per_opco_inflight_limit == 7
    with pytest.raises(ValueError):
        Settings(dispatch={"per_opco_inflight_limit": -1})
