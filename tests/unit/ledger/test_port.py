"""The ledger port names what the engines (and the unit tests' fake) implement, nothing more."""

from __future__ import annotations

import inspect

import pytest

from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.sqlite import SqliteLedger
from relais.services.ledger_port import Ledger
from tests.unit.services.fakes import FakeLedger

PORT = sorted(
    name for name, value in vars(Ledger).items() if inspect.isfunction(value) and name[0] != "_"
)
IMPLEMENTATIONS = [SqliteLedger, PostgresLedger, FakeLedger]
# Public methods of an engine outside the port, each with its caller.
ENGINE_EXTRAS = {"migration_status"}  # ``relais migrate --check``


def _parameters(function: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def test_the_port_is_what_the_services_use() -> None:
    assert "accept" not in PORT and "reject" not in PORT  # ingest writes batches only
    assert "ingest_batch" in PORT and "claim" in PORT


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=lambda impl: impl.__name__)
def test_every_port_method_exists_with_the_port_signature(impl: type) -> None:
    for name in PORT:
        method = getattr(impl, name, None)
        assert method is not None and inspect.iscoroutinefunction(method), f"{impl.__name__}.{name}"
        assert _parameters(method) == _parameters(getattr(Ledger, name)), f"{impl.__name__}.{name}"


@pytest.mark.parametrize("engine", [SqliteLedger, PostgresLedger], ids=lambda e: e.__name__)
def test_an_engine_has_no_public_method_outside_the_port(engine: type) -> None:
    public = {
        name
        for name in dir(engine)
        if name[0] != "_" and inspect.isfunction(inspect.getattr_static(engine, name))
    }
    assert public - set(PORT) == ENGINE_EXTRAS
