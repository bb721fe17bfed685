#!/usr/bin/env bash
# Create .venv (if missing) and install relais with its dev extras. Idempotent and quick when done.
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
