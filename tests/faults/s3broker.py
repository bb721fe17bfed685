"""A durable Tansu for the broker-restart fault: ``s3://`` storage on a local S3 emulator (moto).

``/work/shared/broker.md`` sections 3, 7 and 8: Tansu's ``memory://`` engine forgets everything at
a restart, its ``s3://`` engine keeps topics, records and committed offsets in a bucket. moto's
server (PyPI ``moto[server]``, a dev extra) is the bucket here; it keeps data in memory, so it
stays up while the broker restarts. Both run as child processes on loopback, output in files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from relais.adapters.embedded_broker import create_topics_sync, free_port, tansu_binary

BUCKET = "tansu"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "faults",
    "AWS_SECRET_ACCESS_KEY": "faults-s3-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
}


def moto_available() -> bool:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


class S3Broker:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.s3_port = free_port()
        self.port = free_port()
        self.moto: subprocess.Popen[bytes] | None = None
        self.tansu: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self) -> S3Broker:
        env = {**os.environ, **S3_ENV}
        self.moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)],
            stdout=(self.workdir / "moto.log").open("ab"),
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.put(f"{self.endpoint}/{BUCKET}", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.moto.poll() is not None:
                    raise RuntimeError("moto did not start") from None
                time.sleep(0.2)
        self.start_tansu()
        return self

    def start_tansu(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        env = {**os.environ, **S3_ENV, "AWS_ENDPOINT": self.endpoint}
        self.tansu = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                *("--listener-url", url, "--advertised-listener-url", url),
                *("--storage-engine", f"s3://{BUCKET}/"),
            ],
            stdout=(self.workdir / "tansu-s3.log").open("ab"),
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.starts += 1
        deadline = time.monotonic() + 60
        probe = f"probe-{self.starts}"
        while True:
            try:
                create_topics_sync(self.bootstrap, [probe], 1)
                return
            except Exception:
                if time.monotonic() > deadline or self.tansu.poll() is not None:
                    raise RuntimeError("tansu (s3) did not start") from None
                time.sleep(0.3)

    def kill_tansu(self) -> None:
        if self.tansu is not None and self.tansu.poll() is None:
            self.tansu.send_signal(signal.SIGKILL)
            self.tansu.wait(10)

    def stop(self) -> None:
        for proc in (self.tansu, self.moto):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
