"""A real Apache Kafka (4.x, KRaft: no ZooKeeper) for the tests, the fault suite and the benchmark:
one broker, or a three-broker cluster, on loopback ports, each node in a directory of ours.

    with KafkaCluster(workdir, size=3) as cluster:   # format storage + start every node
        cluster.bootstrap                            # "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
        cluster.nodes[0].kill()                      # kill -9 (fault tests); .stop(): controlled
        cluster.nodes[0].start()                     # same ports, same data on disk

The broker's jars and Java come from ``kafka_dist`` (Maven Central, resolved once into
``~/.cache/relais/kafka-<version>/libs``; ``run_tool`` runs Kafka's command-line tools). Each
node is a combined broker + controller (``process.roles=broker,controller``) of one KRaft quorum.
Settings tuned for test speed change no client semantics (no initial rebalance delay, a small
heap, fewer ``__consumer_offsets`` partitions); group session limits stay Kafka's defaults
(``group.min.session.timeout.ms`` 6 s). Development only: Tansu (``embedded_broker``) stays the
demo's broker, and production relais talks to the network's own cluster.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from aiokafka.admin import AIOKafkaAdminClient

from relais.adapters.kafka_dist import (
    KAFKA_VERSION,
    KafkaLauncherError,
    ensure_kafka_libs,
    java_binary,
    run_tool,
)

__all__ = ["KAFKA_VERSION", "KafkaCluster", "KafkaLauncherError", "KafkaNode", "run_tool"]

HOST = "127.0.0.1"
DEFAULT_JVM_OPTS = ("-Xmx512m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
START_TIMEOUT_S = 180.0  # a JVM on a loaded 2-core machine: a minute is common
_STOP_GRACE_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class KafkaNode:
    """One combined broker + controller: its ports are fixed at creation (a restart keeps them)."""

    node_id: int
    directory: Path
    libs: Path
    jvm_opts: tuple[str, ...]
    port: int = field(default_factory=_free_port)
    controller_port: int = field(default_factory=_free_port)
    extra_ports: dict[str, int] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.directory / "broker.log"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Spawn the JVM (returns at once; ``wait_listening`` or the cluster waits for it)."""
        if self.running:
            raise KafkaLauncherError(f"kafka node {self.node_id} is already running")
        self._close_log()
        self._log = self.log_path.open("ab")
        log4j = self.directory / "log4j2.properties"
        self._process = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            [
                java_binary(),
                *self.jvm_opts,
                f"-Dlog4j2.configurationFile={log4j}",
                "-cp",
                f"{self.libs}/*",
                "kafka.Kafka",
                str(self.config_path),
            ],
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_listening(self, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise KafkaLauncherError(
                    f"kafka node {self.node_id} exited before listening; log {self.log_path}:\n"
                    + self.log_tail()
                )
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.5):
                return
            time.sleep(0.2)
        raise KafkaLauncherError(f"kafka node {self.node_id} not listening after {timeout_s}s")

    def stop(self, timeout_s: float = _STOP_GRACE_S) -> None:
        """Controlled shutdown (SIGTERM: leadership moved away first), SIGKILL if it hangs."""
        self.terminate()
        self.wait_stopped(timeout_s)

    def terminate(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def wait_stopped(self, timeout_s: float = _STOP_GRACE_S) -> None:
        process, self._process = self._process, None
        if process is not None:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self._close_log()

    def kill(self) -> None:
        """kill -9: no controlled shutdown, the page cache keeps what was written."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        self._close_log()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


_LOG4J = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = out
"""


class KafkaCluster:
    """``size`` KRaft nodes (1 or 3) on loopback, formatted under ``workdir`` with one cluster id.

    ``listeners`` adds listeners by name -> security protocol (e.g. ``{"SASL_SSL": "SASL_SSL"}``),
    each on a port of its own per node (``listener_bootstrap(name)``); the PLAINTEXT listener stays
    the inter-broker one. ``config`` overrides or adds server properties on every node;
    ``scram_users`` (name -> password) are written as SCRAM-SHA-512 credentials at format time.
    """

    def __init__(
        self,
        workdir: Path | str,
        *,
        size: int = 1,
        version: str = KAFKA_VERSION,
        listeners: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        scram_users: Mapping[str, str] | None = None,
        jvm_opts: tuple[str, ...] = DEFAULT_JVM_OPTS,
        log_level: str = "INFO",
    ) -> None:
        self.workdir = Path(workdir)
        self.size = size
        self.version = version
        self.listeners = dict(listeners or {})
        self.config = dict(config or {})
        self.scram_users = dict(scram_users or {})
        self.jvm_opts = jvm_opts
        self.log_level = log_level
        self.nodes: list[KafkaNode] = []

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def listener_bootstrap(self, name: str) -> str:
        return ",".join(f"{HOST}:{node.extra_ports[name]}" for node in self.nodes)

    def node(self, node_id: int) -> KafkaNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self) -> Self:
        """Resolve (once), format every node and start them; block until all brokers listen."""
        libs = ensure_kafka_libs(self.version)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nodes = [
            KafkaNode(
                node_id=i,
                directory=self.workdir / f"node-{i}",
                libs=libs,
                jvm_opts=self.jvm_opts,
                extra_ports={name: _free_port() for name in self.listeners},
            )
            for i in range(1, self.size + 1)
        ]
        cluster_id = _cluster_id()
        for node in self.nodes:
            node.directory.mkdir(parents=True, exist_ok=True)
            (node.directory / "log4j2.properties").write_text(_LOG4J.format(level=self.log_level))
            node.config_path.write_text(self._properties(node))
        self._format_all(cluster_id)
        try:
            for node in self.nodes:
                node.start()
            for node in self.nodes:
                node.wait_listening()
            self.wait_brokers(self.size)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_brokers(self, expected: int, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until the cluster's metadata lists ``expected`` live brokers."""
        deadline = time.monotonic() + timeout_s
        last: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                if broker_count(self.bootstrap) >= expected:
                    return
            except Exception as exc:  # noqa: BLE001 - not up yet: try again
                last = exc
            time.sleep(0.5)
        raise KafkaLauncherError(f"{expected} brokers not live after {timeout_s}s: {last!r}")

    def stop(self) -> None:
        """Every node at once (one by one, the last ones would wait for a lost quorum)."""
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.wait_stopped()

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()

    def _properties(self, node: KafkaNode) -> str:
        replicas = min(3, self.size)
        voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in self.nodes)
        listeners = [f"PLAINTEXT://{HOST}:{node.port}"]
        listeners += [f"{name}://{HOST}:{port}" for name, port in node.extra_ports.items()]
        protocols = {"PLAINTEXT": "PLAINTEXT", "CONTROLLER": "PLAINTEXT", **self.listeners}
        props = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "controller.listener.names": "CONTROLLER",
            "listeners": ",".join([*listeners, f"CONTROLLER://{HOST}:{node.controller_port}"]),
            "advertised.listeners": ",".join(listeners),
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(f"{k}:{v}" for k, v in protocols.items()),
            "log.dirs": str(node.data_dir),
            "num.partitions": "1",
            "default.replication.factor": str(replicas),
            "min.insync.replicas": "2" if self.size >= 3 else "1",
            "offsets.topic.replication.factor": str(replicas),
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": str(replicas),
            "transaction.state.log.min.isr": "2" if self.size >= 3 else "1",
            "transaction.state.log.num.partitions": "5",
            "share.coordinator.state.topic.replication.factor": str(replicas),
            "share.coordinator.state.topic.min.isr": "2" if self.size >= 3 else "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "num.network.threads": "2",
            "num.io.threads": "4",
            **self.config,
        }
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def _format_all(self, cluster_id: str) -> None:
        scram = [
            arg
            for name, password in self.scram_users.items()
            for arg in ("--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]")
        ]
        procs = [
            (
                node,
                subprocess.Popen(  # noqa: S603 - fixed command, no shell
                    [
                        java_binary(),
                        "-Xmx256m",
                        "-XX:TieredStopAtLevel=1",
                        f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
                        "-cp",
                        f"{node.libs}/*",
                        "kafka.tools.StorageTool",
                        *format_args(cluster_id, node.config_path, scram),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
            for node in self.nodes
        ]
        failures = []
        for node, proc in procs:
            output, _ = proc.communicate(timeout=START_TIMEOUT_S)
            if proc.returncode != 0:
                failures.append(f"node {node.node_id}: {output[-2000:]}")
        if failures:
            raise KafkaLauncherError("kafka-storage format failed:\n" + "\n".join(failures))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def broker_count(bootstrap: str) -> int:
    """How many live brokers the cluster's metadata lists (run on a thread of its own, so this
    works from sync code, even from a thread that runs an event loop)."""
    found: list[int] = []
    failure: list[BaseException] = []

    async def count() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            return len((await admin.describe_cluster())["brokers"])
        finally:
            await admin.close()

    def run() -> None:
        try:
            found.append(asyncio.run(asyncio.wait_for(count(), 15)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="kafka-broker-count", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return found[0]


def format_args(cluster_id: str, config: Path, scram: list[str]) -> list[str]:
    """``kafka-storage format``'s arguments. Each value is joined to its option (``--x=v``): a
    random cluster id may start with ``-`` (URL-safe base64), which argparse would otherwise read
    as an option and refuse ("expected one argument")."""
    return ["format", f"--cluster-id={cluster_id}", f"--config={config}", *scram]


def _cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
