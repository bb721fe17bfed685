"""Secrets: read from files with tight permissions, never echoed (what exists today).

- ``CredentialStore`` (keys CSV, keys directory, OAuth CSV): a group/other-readable file is a
  problem; values never show in a repr, an entry listing or an exception.
- ``Settings`` with a secrets directory (Kubernetes secret mounts, one file per value): the values
  are read, stay ``SecretStr`` and never show in ``repr``/``str``/JSON dumps.
- ``relais config check``: reports loose permissions as errors and prints no secret value.
- ``relais run``: secrets never reach its log, even when set through the environment, and a
  group/world-readable key file is named in a ``credentials.problem`` warning at start (G1).

- The ``Settings`` secrets directory: a group/world-readable file is named (G2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relais.adapters.credentials import CredentialStore
from relais.adapters.embedded_broker import free_port
from relais.config import load_settings
from relais.domain.opco import OpcoCode
from relais.errors import MissingCredentialsError
from tests.integration.pipeline.harness import broker_timings

SIRET = "50708047100539"
KEY = "key-value-that-must-never-show-7f3a9c"
CLIENT_SECRET = "oauth-client-secret-never-shown-55e1"
SASL = "sasl-password-never-shown-0b7d"
PG_PASSWORD = "pg-password-never-shown-91c2"
HMAC = "hmac-secret-never-shown-d4e8"
ALL = (KEY, CLIENT_SECRET, SASL, PG_PASSWORD, HMAC)


def _keys_csv(directory: Path, mode: int) -> Path:
    path = directory / "keys.csv"
    path.write_text(f"siret,opco,key,expiry\n{SIRET},ATLAS,{KEY},2099-12-31\n")
    path.chmod(mode)
    return path


def _oauth_csv(directory: Path, mode: int) -> Path:
    path = directory / "oauth.csv"
    path.write_text(f"opco,client_id,client_secret\nAKTO,relais,{CLIENT_SECRET}\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_loose_credential_files_are_problems(tmp_path: Path, mode: int) -> None:
    store = CredentialStore.load(
        keys_csv=_keys_csv(tmp_path, mode), oauth_csv=_oauth_csv(tmp_path, mode)
    )
    loose = [p for p in store.problems if "readable by group or others" in p]
    assert len(loose) == 2, store.problems
    assert not any(secret in p for p in store.problems for secret in ALL)


def test_tight_credential_files_load_quietly_and_never_echo(tmp_path: Path) -> None:
    store = CredentialStore.load(
        keys_csv=_keys_csv(tmp_path, 0o600), oauth_csv=_oauth_csv(tmp_path, 0o400)
    )
    assert store.problems == []
    assert store.api_key(SIRET, OpcoCode.ATLAS).value.get_secret_value() == KEY
    shown = repr(store) + str(store.entries()) + repr(store.keys) + repr(store.oauth)
    assert KEY not in shown and CLIENT_SECRET not in shown
    with pytest.raises(MissingCredentialsError) as err:
        store.api_key(SIRET, OpcoCode.AKTO)
    assert KEY not in str(err.value)


def test_keys_directory_mount_modes(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    (root / "ATLAS").mkdir(parents=True)
    (root / "ATLAS" / SIRET).write_text(KEY + "\n")
    (root / "ATLAS" / SIRET).chmod(0o400)
    (root / "OPCO2I").mkdir()
    (root / "OPCO2I" / SIRET).write_text(KEY + "\n")
    (root / "OPCO2I" / SIRET).chmod(0o644)
    store = CredentialStore.load(secrets_dir=root)
    assert store.has_key(SIRET, OpcoCode.ATLAS)
    assert [p for p in store.problems if "OPCO2I" in p and "group or others" in p]
    assert not any(KEY in p for p in store.problems)


def _secrets_dir(tmp_path: Path) -> Path:
    d = tmp_path / "secrets"
    d.mkdir()
    for name, value in (
        ("relais_kafka__sasl_password", SASL),
        ("relais_ledger__url", f"postgresql://relais:{PG_PASSWORD}@127.0.0.1:5432/relais"),
    ):
        (d / name).write_text(value)
        (d / name).chmod(0o400)
    return d


def test_settings_read_secret_files_and_never_show_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("RELAIS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RELAIS_CFA__HMAC_SECRETS", json.dumps({SIRET: HMAC}))
    settings = load_settings(secrets_dir=_secrets_dir(tmp_path))
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == SASL
    assert PG_PASSWORD in settings.ledger.url.get_secret_value()
    assert settings.cfa.hmac_secrets[SIRET].get_secret_value() == HMAC
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    shown += json.dumps(settings.model_dump(mode="json"))
    for secret in (SASL, PG_PASSWORD, HMAC):
        assert secret not in shown


def test_config_check_reports_loose_files_without_echoing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update(
        RELAIS_CREDENTIALS__KEYS_FILE=str(_keys_csv(tmp_path, 0o644)),
        RELAIS_CREDENTIALS__OAUTH_CLIENTS_FILE=str(_oauth_csv(tmp_path, 0o600)),
        RELAIS_CFA__HMAC_SECRETS=json.dumps({SIRET: HMAC}),
        RELAIS_SECRETS_DIR=str(_secrets_dir(tmp_path)),
    )
    done = subprocess.run(
        [sys.executable, "-m", "relais.entrypoints.cli", "config", "check", "--json", "--no-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert "readable by group or others" in output, output[-2000:]
    assert done.returncode != 0
    for secret in ALL:
        assert secret not in output


def _run_once(tmp_path: Path, kafka_bootstrap: str, keys_mode: int) -> str:
    """Start ``relais run`` (every role), wait until it has started, stop it; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    port = free_port()
    env.update(
        RELAIS_KAFKA__BOOTSTRAP_SERVERS=kafka_bootstrap,
        **{
            f"RELAIS_KAFKA__{k.upper()}": str(v) for k, v in broker_timings(kafka_bootstrap).items()
        },
        RELAIS_KAFKA__INPUT_TOPIC=f"secrets-{port}",
        RELAIS_LEDGER__URL=f"sqlite:///{tmp_path}/ledger.db",
        RELAIS_CREDENTIALS__KEYS_FILE=str(_keys_csv(tmp_path, keys_mode)),
        RELAIS_CREDENTIALS__OAUTH_CLIENTS_FILE=str(_oauth_csv(tmp_path, 0o600)),
        RELAIS_CFA__HMAC_SECRETS=json.dumps({SIRET: HMAC}),
        RELAIS_KAFKA__TOPIC_SOURCES=json.dumps({f"secrets-{port}": [SIRET]}),
        RELAIS_HTTP__PORT=str(port),
        RELAIS_LOG__LEVEL="DEBUG",
        RELAIS_LOG__JSON="true",
        RELAIS_POLL__ENABLED="false",
        RELAIS_SECRETS_DIR=str(tmp_path / "none"),
    )
    log = tmp_path / f"run-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "relais.entrypoints.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "relais.started" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
            proc.terminate()
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    return log.read_text(errors="replace")


@pytest.mark.integration
def test_relais_run_never_logs_its_secrets(tmp_path: Path, kafka_bootstrap: str) -> None:
    """A whole ``relais run`` start and stop, secrets from files and the environment: none of them
    in its output (debug level)."""
    text = _run_once(tmp_path, kafka_bootstrap, 0o600)
    for secret in ALL:
        assert secret not in text


@pytest.mark.integration
def test_relais_run_warns_about_a_world_readable_key_file(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    text = _run_once(tmp_path, kafka_bootstrap, 0o644)
    assert "readable by group or others" in text
    assert KEY not in text


def test_loose_files_in_the_secrets_directory_are_named_never_read_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G2: a secret file group/world-readable is reported by name (config check and at start)."""
    from relais.config import loose_secret_files

    tight = tmp_path / "relais_ledger__url"
    tight.write_text("postgresql://relais:s3cr3t-pw@db/relais")
    tight.chmod(0o600)
    loose = tmp_path / "relais_kafka__sasl_password"
    loose.write_text("kafka-s3cr3t")
    loose.chmod(0o644)
    monkeypatch.setenv("RELAIS_SECRETS_DIR", str(tmp_path))
    problems = loose_secret_files()
    assert problems == [
        f"{loose}: readable by group or others (mode 644); use 0600/0400, or 0440 with the "
        "pod's fsGroup as the file's group"
    ]
    assert not any("s3cr3t" in p for p in problems)
    assert loose_secret_files(tmp_path / "missing") == []
