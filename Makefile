# relais: every target installs what it needs first (scripts/setup.sh is idempotent).
VENV := .venv
BIN := $(VENV)/bin
SRC := $(wildcard services tests bench)

.PHONY: setup demo test lint typecheck unit integration faults bench schemas clean

setup:
	bash scripts/setup.sh

demo: setup
	$(BIN)/relais demo

lint: setup
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/ruff check $(SRC)
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

schemas: setup
	$(BIN)/relais schemas write

unit: setup
	$(BIN)/python -m pytest tests/unit

# The default test run: quality gate + every suite except the long ones (< 15 min).
test: lint typecheck
	$(BIN)/python -m pytest -m "not slow"

faults: setup
	$(BIN)/python -m pytest -m slow tests/faults

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .relais
