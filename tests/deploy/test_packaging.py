"""What the image installs: relais as a wheel (not editable), the demo's broker only in an extra,
and the installed wheel working outside the source tree the way the image lays it out. The image
itself cannot be built here (no container engine): the Dockerfile is checked statically in
test_container_static.py and `make image` builds it where an engine runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")  # what the Dockerfile copies; no build/ in the checkout
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "services",
        src / "services",
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"),
    )
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    done = subprocess.run(
        [*pip, "--wheel-dir", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("relais-*.whl")
    return built


def metadata(wheel: Path) -> tuple[list[str], set[str]]:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        message = Parser().parsestr(zf.read(meta).decode())
    return message.get_all("Requires-Dist") or [], names


def test_the_demo_broker_is_only_an_extra(wheel: Path) -> None:
    requires, _ = metadata(wheel)
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if r.lower().startswith("calfkit")], runtime
    broker = [r for r in requires if r.lower().startswith("calfkit")]
    assert broker and all("extra ==" in r for r in broker)
    assert any('extra == "demo"' in r for r in broker)
    for needed in ("click", "faststream", "httpx", "pydantic-settings", "asyncpg"):
        assert any(r.lower().startswith(needed) for r in runtime), needed
    for dev_only in ("pytest", "hypothesis", "mypy", "matplotlib", "moto"):
        assert not any(r.lower().startswith(dev_only) for r in runtime), dev_only


def test_the_tracing_sdk_is_an_extra_the_image_installs(wheel: Path) -> None:
    """The API (its no-op tracer: tracing off) is a dependency; the SDK and exporter are the
    ``tracing`` extra, which the image installs so that an endpoint is all it takes."""
    requires, _ = metadata(wheel)
    runtime = [r.lower() for r in requires if "extra ==" not in r]
    assert any(r.startswith("opentelemetry-api") for r in runtime), runtime
    assert not any(r.startswith(("opentelemetry-sdk", "opentelemetry-exporter")) for r in runtime)
    extra = [r.lower() for r in requires if 'extra == "tracing"' in r]
    for name in ("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"):
        assert any(r.startswith(name) for r in extra), (name, extra)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert '/wheels/relais-*.whl)[tracing]"' in dockerfile


def test_the_wheel_carries_the_code_and_its_data_but_no_tests(wheel: Path) -> None:
    _, names = metadata(wheel)
    assert "relais/entrypoints/cli.py" in names
    assert any(n.startswith("relais/adapters/ledger/") and n.endswith(".sql") for n in names)
    assert any(n.startswith("relais_simulator/") for n in names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    assert not any("__editable__" in n or n.endswith(".pth") for n in names)


def test_the_installed_wheel_runs_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    """Laid out as in the image: a site-packages, the schemas linked three folders above the
    package (deploy/Dockerfile's `ln -s`), no access to the checkout."""
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    done = subprocess.run(
        [*pip, str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (site.parent / "schemas").symlink_to(ROOT / "schemas")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RELAIS_", "PYTHON"))}
    env["PYTHONPATH"] = str(site)  # first on the path: the wheel's relais, not the checkout's
    code = (
        "import relais, sys; print(relais.__file__, file=sys.stderr); "
        "from relais.entrypoints.cli import main; main(sys.argv[1:])"
    )

    def relais(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    version = relais("--version")
    assert version.returncode == 0, version.stderr
    assert version.stderr.strip().startswith(str(site)), version.stderr
    assert version.stdout.startswith("relais ")
    routed = relais("route", "--idcc", "1486")
    assert routed.returncode == 0, routed.stderr
    assert routed.stdout.strip() == "ATLAS"
