"""The Helm chart, rendered by Helm's own engine (helm-python-sdk embeds the Go SDK), linted, and
every manifest validated against the Kubernetes schemas (kubernetes-validate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

from relais.config_files import FilesSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "relais"
PRODUCTION = yaml.safe_load((CHART / "ci" / "production-values.yaml").read_text())
K8S_VERSION = "1.30.0"
CUSTOM_SCHEMAS = {
    "ScaledObject": Path(__file__).parent / "crd-subsets" / "scaledobject.json",
    "ServiceMonitor": Path(__file__).parent / "crd-subsets" / "servicemonitor.json",
}
EXTRAS = {
    **PRODUCTION,
    "extraEnv": [
        {"name": "RELAIS_KAFKA__SSL_CAFILE", "value": "/etc/relais/kafka-ca/ca.crt"},
        {
            "name": "RELAIS_CFA__HMAC_SECRETS",
            "valueFrom": {"secretKeyRef": {"name": "relais-hmac", "key": "secrets.json"}},
        },
    ],
    "extraEnvFrom": [{"secretRef": {"name": "relais-more-settings"}}],
    "extraVolumes": [
        {"name": "kafka-ca", "configMap": {"name": "kafka-ca"}},
        {
            "name": "cfa-keys-dir",
            "secret": {
                "secretName": "cfa-keys",
                "defaultMode": 0o400,
                "items": [{"key": "AKTO.12345678900011", "path": "AKTO/12345678900011"}],
            },
        },
    ],
    "extraVolumeMounts": [
        {"name": "kafka-ca", "mountPath": "/etc/relais/kafka-ca", "readOnly": True},
        {"name": "cfa-keys-dir", "mountPath": "/etc/relais/keys", "readOnly": True},
    ],
}
VALUE_SETS = {
    "defaults": {},
    "production": PRODUCTION,
    "single": {"mode": "single"},
    "extras": EXTRAS,
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    chart = helm.Chart.load(str(CHART))
    chart.validate_schema(values)
    rendered = chart.render(values, name="relais", namespace="cfa", is_install=True)
    docs: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


@pytest.mark.parametrize("name", VALUE_SETS)
def test_chart_lints_without_errors(name: str) -> None:
    report = helm.lint(str(CHART), VALUE_SETS[name], strict=True)
    errors = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert errors == []


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_manifest_is_valid_kubernetes(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    docs = render(VALUE_SETS[name])
    assert docs
    for doc in docs:
        kind = doc["kind"]
        if kind in CUSTOM_SCHEMAS:
            schema = json.loads(CUSTOM_SCHEMAS[kind].read_text())
            jsonschema.validate(doc, schema)
            with capsys.disabled():
                print(
                    f"\n{kind}: validated against the hand-written subset in crd-subsets/ "
                    "(published CRD not vendored)"
                )
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_role_mode_has_one_deployment_per_role_and_single_mode_one() -> None:
    roles = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]
        for d in by_kind(render({}), "Deployment")
    }
    assert roles == {"ingest", "dispatch", "relay", "poll"}
    single = by_kind(render({"mode": "single"}), "Deployment")
    assert [d["spec"]["template"]["spec"]["containers"][0]["args"] for d in single] == [["run"]]


def test_pods_are_locked_down_and_probed() -> None:
    for doc in by_kind(render(PRODUCTION), "Deployment"):
        pod = doc["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsNonRoot"] is True
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert pod["terminationGracePeriodSeconds"] > PRODUCTION["shutdownGraceSeconds"]


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook() -> None:
    (job,) = by_kind(render(PRODUCTION), "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def test_secrets_come_from_existing_secrets_never_from_the_configmap() -> None:
    docs = render(PRODUCTION)
    assert by_kind(docs, "Secret") == []  # existing Secrets only
    (config,) = by_kind(docs, "ConfigMap")
    assert not any("PASSWORD" in k or "SECRET" in k or "LEDGER__URL" in k for k in config["data"])
    deployment = by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in deployment["containers"][0]["env"]}
    assert env["RELAIS_LEDGER__URL"]["valueFrom"]["secretKeyRef"]["name"] == "relais-ledger"
    assert env["RELAIS_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "relais-kafka"
    volumes = {v["name"]: v for v in deployment["volumes"]}
    assert volumes["cfa-keys"]["secret"]["secretName"] == "relais-cfa-keys"
    assert volumes["cfa-keys"]["secret"]["defaultMode"] == 0o400


def test_keda_scales_ingest_on_lag_capped_at_partition_count() -> None:
    docs = render(PRODUCTION)
    (scaled,) = by_kind(docs, "ScaledObject")
    assert scaled["spec"]["maxReplicaCount"] == PRODUCTION["keda"]["partitions"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    # The lag relais exports per partition (the broker's figure, tests/integration/broker/
    # test_kafka_lag.py), the one the alert rules use too.
    assert trigger["metadata"]["query"].startswith("sum(relais_kafka_consumer_lag{")
    assert trigger["metadata"]["threshold"] == str(PRODUCTION["keda"]["lagThreshold"])
    ingest = next(
        d for d in by_kind(docs, "Deployment") if d["metadata"]["name"].endswith("-ingest")
    )
    assert "replicas" not in ingest["spec"]  # owned by KEDA


def test_schema_rejects_bad_values() -> None:
    chart = helm.Chart.load(str(CHART))
    with pytest.raises(helm.HelmError):
        chart.validate_schema({"mode": "cluster"})
    with pytest.raises(helm.HelmError):
        chart.validate_schema({"securityContext": {"allowPrivilegeEscalation": True}})


def _settings_field_exists(path: list[str]) -> bool:
    from pydantic import BaseModel

    from relais.config import Settings

    model: type[BaseModel] = Settings
    for i, part in enumerate(path):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(path) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_rendered_setting_is_a_real_settings_field(name: str) -> None:
    docs = render(VALUE_SETS[name])
    env_names = set(by_kind(docs, "ConfigMap")[0]["data"])
    for deployment in by_kind(docs, "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env_names |= {e["name"] for e in container.get("env", [])}
    for env_name in sorted(env_names):
        assert env_name.startswith("RELAIS_")
        path = env_name.removeprefix("RELAIS_").lower().split("__")
        assert _settings_field_exists(path), f"{env_name} is not a relais setting"


@pytest.mark.parametrize(("name", "bound"), [("defaults", False), ("production", True)])
def test_tenant_binding_is_explicit(
    name: str, bound: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defaults leave the binding for the operator to fill in (relais refuses to start without
    it, the waiver being explicitly off); the production values bind the input topic."""
    from relais.config import isolation_problem, load_settings

    data = by_kind(render(VALUE_SETS[name]), "ConfigMap")[0]["data"]
    assert data["RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES"] == "false"
    for env_name in list(os.environ):
        if env_name.startswith("RELAIS_"):
            monkeypatch.delenv(env_name)
    for env_name, value in data.items():
        monkeypatch.setenv(env_name, value)
    monkeypatch.setenv("RELAIS_SECRETS_DIR", "/nonexistent")
    assert (isolation_problem(load_settings()) is None) is bound


def _pod_specs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")]


def test_extra_env_and_volumes_reach_every_pod_and_the_migration_job() -> None:
    docs = render(EXTRAS)
    pods = _pod_specs(docs)
    assert len(pods) == 5  # four roles and the migration job
    for pod in pods:
        (container,) = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["RELAIS_KAFKA__SSL_CAFILE"]["value"] == "/etc/relais/kafka-ca/ca.crt"
        assert env["RELAIS_CFA__HMAC_SECRETS"]["valueFrom"]["secretKeyRef"]["name"] == "relais-hmac"
        assert {"secretRef": {"name": "relais-more-settings"}} in container["envFrom"]
        volumes = {v["name"] for v in pod["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert {"kafka-ca", "cfa-keys-dir"} <= volumes
        assert mounts["kafka-ca"] == "/etc/relais/kafka-ca"
        assert mounts["cfa-keys-dir"] == "/etc/relais/keys"
    assert all("extraEnv" not in json.dumps(d) for d in docs)


def test_the_schema_accepts_the_extras_and_rejects_malformed_ones() -> None:
    chart = helm.Chart.load(str(CHART))
    chart.validate_schema(EXTRAS)
    for bad in (
        {"extraEnv": [{"value": "no name"}]},
        {"extraVolumeMounts": [{"name": "x", "mountPath": "relative"}]},
        {"extraVolumes": "not-a-list"},
    ):
        with pytest.raises(Exception):  # noqa: B017 - helm-python raises a generic error
            chart.validate_schema(bad)


def _rate_share(values: dict[str, Any]) -> str:
    (config,) = by_kind(render(values), "ConfigMap")
    return str(config["data"]["RELAIS_OPCO__RATE_LIMIT_SHARED_BY"])


def test_each_opco_rate_limit_is_shared_by_the_processes_calling_it() -> None:
    roles = {"roles": {"dispatch": {"replicas": 3}, "poll": {"replicas": 1}}}
    assert _rate_share(roles) == "4"
    assert _rate_share({"mode": "single", "single": {"replicas": 2}}) == "2"
    explicit = {"config": {"opco": {"rate_limit_shared_by": 7}}}
    (config,) = by_kind(render(explicit), "ConfigMap")
    assert config["data"]["RELAIS_OPCO__RATE_LIMIT_SHARED_BY"] == "7"


def _schema_leaves(node: dict[str, Any], path: str = "") -> dict[str, dict[str, Any]]:
    out = {path: node} if path else {}
    for key, sub in node.get("properties", {}).items():
        out.update(_schema_leaves(sub, f"{path}.{key}" if path else key))
    return out


def _value_paths(values: dict[str, Any], path: str = "") -> list[str]:
    out = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else key
        out.append(here)
        if isinstance(value, dict) and key not in OPEN_MAPS:
            out.extend(_value_paths(value, here))
    return out


# Maps whose keys are the user's (labels, annotations, settings groups, resources).
OPEN_MAPS = {
    "config",
    "podAnnotations",
    "podLabels",
    "nodeSelector",
    "affinity",
    "annotations",
    "labels",
    "requests",
    "limits",
    "seccompProfile",
    "capabilities",
}


def test_every_value_is_in_the_schema_with_a_description() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = _schema_leaves(json.loads((CHART / "values.schema.json").read_text()))
    for path in _value_paths(values):
        if path.startswith(("podSecurityContext.", "securityContext.")) and path not in schema:
            continue  # passed through to Kubernetes as is; the schema pins the few that matter
        assert path in schema, path
        assert str(schema[path].get("description", "")).strip(), path


def test_the_chart_readme_values_table_is_up_to_date() -> None:
    script = ROOT / "scripts" / "helm_values_table.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    readme = (CHART / "README.md").read_text()
    for name in ("extraEnv", "extraVolumes", "extraVolumeMounts", "credentials.existingSecret"):
        assert f"| `{name}` |" in readme, name


FILES = {
    **PRODUCTION,
    "files": {
        "cfas": {
            "19350000000011": {"s3": [{"bucket": "cfa-docs", "prefix": "19350000000011/"}]},
            "35600000000048": {"inline": True},
        },
        "s3": {"endpointUrl": "https://minio.federation.example:9000", "existingSecret": "s3-ro"},
        "localBase": "/var/lib/relais/files",
        "volume": {"persistentVolumeClaim": {"claimName": "cfa-files"}},
    },
}


def test_file_grants_reach_the_settings_and_the_s3_key_comes_from_its_secret() -> None:
    docs = render(FILES)
    (config,) = by_kind(docs, "ConfigMap")
    data = config["data"]
    grants = json.loads(data["RELAIS_FILES__CFAS"])
    assert grants["19350000000011"]["s3"] == [{"bucket": "cfa-docs", "prefix": "19350000000011/"}]
    assert data["RELAIS_FILES__S3__ENDPOINT_URL"] == "https://minio.federation.example:9000"
    assert data["RELAIS_FILES__LOCAL_BASE"] == "/var/lib/relais/files"
    assert not any("SECRET_ACCESS_KEY" in key for key in data)
    # what the chart renders is what relais loads (the grants are checked there)
    env = {k: str(v) for k, v in data.items() if k.startswith("RELAIS_FILES__")}
    files = FilesSettings.model_validate(
        {
            "cfas": json.loads(env["RELAIS_FILES__CFAS"]),
            "local_base": env["RELAIS_FILES__LOCAL_BASE"],
            "max_bytes": int(env["RELAIS_FILES__MAX_BYTES"]),
        }
    )
    assert files.uses_s3
    deployments = by_kind(docs, "Deployment")
    assert len(deployments) == 4
    for pod in (d["spec"]["template"]["spec"] for d in deployments):
        (container,) = pod["containers"]
        refs = {
            e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e
        }
        assert refs["RELAIS_FILES__S3__SECRET_ACCESS_KEY"]["name"] == "s3-ro"
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["cfa-files"]["mountPath"] == "/var/lib/relais/files"
        assert mounts["cfa-files"]["readOnly"] is True
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["cfa-files"]["persistentVolumeClaim"] == {"claimName": "cfa-files"}


def test_a_local_base_without_its_volume_and_a_bad_grant_are_refused() -> None:
    with pytest.raises(Exception, match=r"files\.volume"):
        render({"files": {"localBase": "/var/lib/relais/files"}})
    chart = helm.Chart.load(str(CHART))
    with pytest.raises(Exception):  # noqa: B017
        chart.validate_schema({"files": {"cfas": {"not-a-siret": {"inline": True}}}})
