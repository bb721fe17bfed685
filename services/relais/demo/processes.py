"""The demo's child processes: the simulator and ``relais run``, plus the simulator's admin API.

Children are started with the running interpreter (``python -m relais.entrypoints.cli ...``), in
their own session, their output in log files. Stopping is SIGTERM, then SIGKILL after a grace
period. ``relais_env`` is the one place that turns demo choices into ``RELAIS_*`` variables for a
child: the child's ``relais.config`` reads them, as in any deployment.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import httpx
from joserfc.jwk import ECKey, RSAKey

from relais.domain.profiles import load_profiles
from relais.errors import ConfigurationError
from relais.sampledata.pdfs import default_files_dir
from relais_simulator.config import ADMIN_TOKEN_ENV

HANDSHAKE = "relais-simulator listening on"
_GRACE_S = 10.0


class ProcessError(ConfigurationError):
    """A child process did not start or answer in time."""

    code = "DEMO_PROCESS"


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Child:
    """One child process with its log file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str]):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, *, stdout_pipe: bool = False) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else self._log,
            stderr=self._log,
            env=self.env,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise ProcessError(
                f"{self.name} exited with code {self.process.returncode}; log {self.log_path}:\n"
                + _tail(self.log_path)
            )

    def stop(self, grace_s: float = _GRACE_S) -> int | None:
        process, self.process = self.process, None
        code: int | None = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=grace_s)
            code = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        return code


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "relais.entrypoints.cli", *args]


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment minus any ``RELAIS_*`` value, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class SimulatorProcess(Child):
    """``relais simulator --port 0``; ``url`` is read from its handshake line."""

    def __init__(
        self,
        *,
        log_path: Path,
        admin_token: str,
        keys_file: Path | None = None,
        oauth_file: Path | None = None,
        profiles_file: Path | None = None,
        day_seconds: float = 0.0,
        refusal_rate: float | None = None,
        seed: int = 0,
        extra_args: Sequence[str] = (),
    ) -> None:
        args = ["simulator", "--port", "0", "--seed", str(seed)]
        args += ["--day-seconds", str(day_seconds)]
        if keys_file is not None:
            args += ["--keys", str(keys_file)]
        if oauth_file is not None:
            args += ["--oauth-clients", str(oauth_file)]
        if profiles_file is not None:
            args += ["--profiles", str(profiles_file)]
        if refusal_rate is not None:
            args += ["--refusal-rate", str(refusal_rate)]
        args += list(extra_args)
        # By environment, not argv: a command line is readable by every user of the machine.
        env = child_env({ADMIN_TOKEN_ENV: admin_token})
        super().__init__("simulator", cli_argv(*args), log_path, env)
        self.admin_token = admin_token
        self.url: str | None = None

    def start_and_wait(self, timeout_s: float = 30.0) -> str:
        self.start(stdout_pipe=True)
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        deadline = time.monotonic() + timeout_s
        os.set_blocking(stdout.fileno(), False)
        buffer = b""
        while time.monotonic() < deadline:
            self.check_alive()
            chunk = stdout.read()
            if chunk:
                buffer += chunk
                for line in buffer.decode(errors="replace").splitlines():
                    if line.startswith(HANDSHAKE):
                        self.url = line[len(HANDSHAKE) :].strip()
                        return self.url
            time.sleep(0.05)
        self.stop()
        raise ProcessError(f"the simulator did not announce itself in {timeout_s}s")


class RelaisProcess(Child):
    """``relais run`` (all roles) with the given environment; ready when /health/ready says so."""

    def __init__(
        self, *, log_path: Path, env: Mapping[str, str], http_port: int, args: Sequence[str] = ()
    ) -> None:
        super().__init__("relais run", cli_argv("run", *args), log_path, child_env(env))
        self.http_port = http_port

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/health/ready"

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    resp = await client.get(self.health_url)
                    if resp.status_code == 200:
                        return
                    last = f"HTTP {resp.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                await asyncio.sleep(0.2)
        raise ProcessError(f"relais run not ready after {timeout_s}s ({last}); log {self.log_path}")


TANSU_TIMINGS = {
    # The embedded broker joins a group in ~1 s with these (5-18 s with the defaults).
    "RELAIS_KAFKA__SESSION_TIMEOUT_MS": "1000",
    "RELAIS_KAFKA__HEARTBEAT_INTERVAL_MS": "333",
    # The embedded broker holds every fetch this long even when records are there.
    "RELAIS_KAFKA__FETCH_MAX_WAIT_MS": "20",
}


def relais_env(
    *,
    bootstrap: str,
    ledger_url: str,
    http_port: int,
    profiles_file: Path | None = None,
    keys_file: Path | None = None,
    oauth_file: Path | None = None,
    input_topic: str | None = None,
    status_topic: str | None = None,
    dlq_topic: str | None = None,
    group_id: str | None = None,
    poll_interval_s: float = 1.0,
    fast_retries: bool = True,
    topic_sources: Mapping[str, Sequence[str]] | None = None,
    extra: Mapping[str, str] | None = None,
    tansu_timings: bool = True,
    files_base: Path | None = None,
) -> dict[str, str]:
    """``RELAIS_*`` variables for a ``relais run`` child on the embedded broker.

    ``tansu_timings=False`` (a real Apache Kafka: it refuses a session below 6 s) keeps relais's
    production consumer timings instead of the embedded broker's fast ones.

    ``topic_sources`` binds the input topics to their CFAs; without it, tenant isolation is waived
    explicitly (``RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES``): the demo, the fault runs and the bench
    play every CFA on one private broker.

    ``files_base`` is the local file store (``RELAIS_FILES__LOCAL_BASE``: each CFA reads its own
    SIRET's subdirectory), by default where this process's sample generator writes its PDFs.
    """
    env = {
        "RELAIS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        **(TANSU_TIMINGS if tansu_timings else {}),
        "RELAIS_KAFKA__AUTO_OFFSET_RESET": "earliest",
        "RELAIS_LEDGER__URL": ledger_url,
        "RELAIS_HTTP__HOST": "127.0.0.1",
        "RELAIS_HTTP__PORT": str(http_port),
        "RELAIS_POLL__INTERVAL_S": str(poll_interval_s),
        "RELAIS_LOG__JSON": "true",
        "RELAIS_SECRETS_DIR": "/nonexistent",
        "RELAIS_FILES__LOCAL_BASE": str((files_base or default_files_dir()).resolve()),
    }
    optional = {
        "RELAIS_OPCO__PROFILES_FILE": profiles_file,
        "RELAIS_CREDENTIALS__KEYS_FILE": keys_file,
        "RELAIS_CREDENTIALS__OAUTH_CLIENTS_FILE": oauth_file,
        "RELAIS_KAFKA__INPUT_TOPIC": input_topic,
        "RELAIS_KAFKA__STATUS_TOPIC": status_topic,
        "RELAIS_KAFKA__DLQ_TOPIC": dlq_topic,
        "RELAIS_KAFKA__GROUP_ID": group_id,
    }
    env.update({k: str(v) for k, v in optional.items() if v is not None})
    if topic_sources:
        env["RELAIS_KAFKA__TOPIC_SOURCES"] = json.dumps(
            {t: list(s) for t, s in topic_sources.items()}
        )
    else:
        env["RELAIS_KAFKA__ALLOW_UNBOUND_SOURCES"] = "true"
    if fast_retries:
        env["RELAIS_DISPATCH__BACKOFF_BASE_S"] = "0.2"
        env["RELAIS_DISPATCH__BACKOFF_CAP_S"] = "2"
        env["RELAIS_DISPATCH__IDLE_S"] = "0.05"
        env["RELAIS_KAFKA__RELAY_IDLE_S"] = "0.05"
        env["RELAIS_OPCO__BREAKER_RESET_S"] = "3"
    env.update(extra or {})
    return env


def write_profiles(source: Path, dest: Path, simulator_url: str) -> None:
    """The bundled profiles with every URL's origin moved to the running simulator (each OPCO's
    base path and token server path stay the profile's)."""
    doc = json.loads(source.read_text(encoding="utf-8"))
    for code, body in doc["opcos"].items():
        body["base_url"] = f"{simulator_url}/{code}"
        oauth2 = (body.get("auth") or {}).get("oauth2")
        if oauth2:
            path = httpx.URL(oauth2["token_url"]).path
            oauth2["token_url"] = f"{simulator_url}{path}"
    dest.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def oauth_client_rows(
    profiles_file: Path, directory: Path, client_id: str, client_secret: str
) -> list[list[str]]:
    """``opco,client_id,client_secret,dpop_key_file`` rows: one client for every OPCO whose profile
    asks for OAuth2; where it asks for DPoP, a fresh key pair (its private PEM written beside,
    0600) that the simulator never needs (the proof carries the public key)."""
    rows: list[list[str]] = []
    for code, profile in load_profiles(profiles_file).items():
        if profile.auth.oauth2 is None:
            continue
        key_file = ""
        if profile.auth.dpop is not None:
            pem = new_dpop_key(profile.auth.dpop.alg)
            path = directory / f"dpop-{code.value.lower()}.pem"
            path.touch(mode=0o600)
            path.write_bytes(pem)
            key_file = path.name
        rows.append([code.value, client_id, client_secret, key_file])
    return rows


def new_dpop_key(alg: str) -> bytes:
    """A private key in PEM for DPoP proofs (RS256: RSA 2048; ES256: P-256)."""
    key = ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(2048)
    return key.as_pem(private=True)


class SimulatorAdmin:
    """The simulator's ``/_admin`` API (bearer token)."""

    def __init__(self, url: str, token: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/") + "/_admin",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10.0,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _json(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            resp = await self._client.request(
                method,
                path,
                params={k: v for k, v in params.items() if v is not None},
                content=None if body is None else json.dumps(body),
                headers={"Content-Type": "application/json"} if body is not None else None,
            )
        except httpx.HTTPError as exc:
            raise ProcessError(f"simulator admin {method} {path}: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            raise ProcessError(f"simulator admin {method} {path}: HTTP {resp.status_code}")
        return resp.json() if resp.content else None

    async def records(self, *, page: int = 10_000) -> list[dict[str, Any]]:
        """Every request record, oldest first."""
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            doc = await self._json("GET", "/records", after=after, limit=page)
            batch = doc.get("records", [])
            out.extend(batch)
            if len(batch) < page:
                return out
            after = int(doc["next_after"])

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/stats")
        return result

    async def set_fault(self, opco: str, spec: Mapping[str, Any]) -> None:
        await self._json("PUT", f"/faults/{opco}", dict(spec))

    async def clear_fault(self, opco: str) -> None:
        await self._json("DELETE", f"/faults/{opco}")

    async def dossier(self, opco: str, numero_interne: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", f"/dossiers/{opco}/{numero_interne}")
        return result

    async def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._json("GET", "/clock")
        return result

    async def advance(self, days: float) -> None:
        await self._json("POST", "/clock/advance", {"days": days})
