"""The Dockerfile and compose file cannot be built here (no Docker engine on the CI machines):
they are checked statically."""

from __future__ import annotations

from pathlib import Path

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
