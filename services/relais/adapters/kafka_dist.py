"""Apache Kafka's distribution for the tests, the fault suite and the benchmark: its jars, resolved
by Maven from Maven Central once (``deploy/kafka/pom.xml`` into
``~/.cache/relais/kafka-<version>/libs``; a lock keeps two sessions from resolving at once), the
Java that runs them (17+: ``$JAVA_HOME/bin/java``, else ``java``), and Kafka's own command-line
tools (``run_tool``). ``embedded_kafka`` starts brokers from these jars. Development only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

KAFKA_VERSION = "4.1.1"
POM = Path(__file__).resolve().parents[3] / "deploy" / "kafka" / "pom.xml"
_MAVEN_TIMEOUT_S = 1200.0


class KafkaLauncherError(RuntimeError):
    """Apache Kafka could not be resolved, formatted or started (the message says why)."""


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise KafkaLauncherError("Apache Kafka needs Java 17+: no java on PATH nor in $JAVA_HOME")
    return found


def cache_root() -> Path:
    return Path.home() / ".cache" / "relais"


def ensure_kafka_libs(version: str = KAFKA_VERSION, root: Path | None = None) -> Path:
    """The folder of Apache Kafka ``version``'s jars, resolved by Maven the first time only."""
    libs = (root or cache_root()) / f"kafka-{version}" / "libs"
    done = libs / ".complete"
    if done.is_file():
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    with (libs.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be resolving the same version
        if done.is_file():
            return libs
        _resolve(version, libs)
        done.touch()
    return libs


def _resolve(version: str, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaLauncherError("resolving Apache Kafka needs Maven (mvn) on PATH")
    if not POM.is_file():
        raise KafkaLauncherError(f"no {POM}: Apache Kafka is resolved from a relais checkout")
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(  # noqa: S603 - fixed command, no shell
        command, capture_output=True, text=True, timeout=_MAVEN_TIMEOUT_S, check=False
    )
    if result.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise KafkaLauncherError(f"mvn could not resolve Apache Kafka {version}:\n{tail}")
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)


def run_tool(
    main_class: str, *args: str, version: str = KAFKA_VERSION, timeout_s: float = 120
) -> str:
    """Run one of Kafka's own command-line tools (``kafka-consumer-groups`` is
    ``org.apache.kafka.tools.consumer.group.ConsumerGroupCommand``, ``kafka-acls`` is
    ``org.apache.kafka.tools.AclCommand``...) and return its output; raise when it fails."""
    libs = ensure_kafka_libs(version)
    result = subprocess.run(  # noqa: S603 - fixed command, no shell
        [
            java_binary(),
            "-Xmx256m",
            "-XX:TieredStopAtLevel=1",
            "-Dlog4j2.level=WARN",
            "-cp",
            f"{libs}/*",
            main_class,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0:
        raise KafkaLauncherError(
            f"{main_class} {' '.join(args)} failed ({result.returncode}):\n"
            + (result.stdout + result.stderr)[-3000:]
        )
    return result.stdout
