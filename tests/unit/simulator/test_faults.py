"""Fault specs: parsing, validation, seeded draws, budgets and route filters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relais.domain.opco import OpcoCode
from relais_simulator.faults import FaultInjector, FaultKind, FaultSpec, parse_faults


def test_parse_faults_applies_the_wildcard_to_unnamed_opco() -> None:
    specs = parse_faults({"*": {"latency_ms": 20}, "AKTO": {"error_rate": 0.5}})
    assert specs[OpcoCode.AKTO].error_rate == 0.5
    assert specs[OpcoCode.AKTO].latency_ms == 0
    assert specs[OpcoCode.ATLAS].latency_ms == 20
    assert len(specs) == 11


def test_parse_faults_refuses_unknown_opco_and_fields() -> None:
    with pytest.raises(ValueError, match="unknown OPCO"):
        parse_faults({"NOPE": {}})
    with pytest.raises(ValidationError):
        FaultSpec.model_validate({"error_rate": 2})
    with pytest.raises(ValidationError):
        FaultSpec.model_validate({"typo_rate": 0.1})
    with pytest.raises(ValidationError):
        FaultSpec.model_validate({"error_statuses": [404]})


def test_no_spec_means_no_fault() -> None:
    injector = FaultInjector()
    assert injector.decide(OpcoCode.ATLAS, "status").kind is FaultKind.NONE


@pytest.mark.parametrize(
    ("spec", "kind", "status"),
    [
        ({"down": True}, FaultKind.DOWN, 503),
        ({"error_rate": 1, "error_statuses": [502]}, FaultKind.ERROR, 502),
        ({"throttle_rate": 1, "retry_after_s": 7}, FaultKind.THROTTLE, 429),
        ({"drop_rate": 1}, FaultKind.DROP, 0),
        ({"timeout_rate": 1, "hang_s": 3}, FaultKind.TIMEOUT, 0),
        ({"stored_lost_rate": 1}, FaultKind.STORED_LOST, 0),
    ],
)
def test_certain_faults(spec: dict[str, object], kind: FaultKind, status: int) -> None:
    injector = FaultInjector()
    injector.set(OpcoCode.AKTO, FaultSpec.model_validate(spec))
    decision = injector.decide(OpcoCode.AKTO, "dossiers_post")
    assert decision.kind is kind
    assert decision.status == status
    if kind is FaultKind.THROTTLE:
        assert decision.retry_after_s == 7
    if kind is FaultKind.TIMEOUT:
        assert decision.hang_s == 3
    assert injector.decide(OpcoCode.ATLAS, "dossiers_post").kind is FaultKind.NONE


def test_latency_and_jitter_are_bounded() -> None:
    injector = FaultInjector(seed=3)
    injector.set(OpcoCode.OPCOEP, FaultSpec(latency_ms=100, jitter_ms=50))
    delays = [injector.decide(OpcoCode.OPCOEP, "status").delay_s for _ in range(200)]
    assert all(0.1 <= d <= 0.15 for d in delays)
    assert max(delays) - min(delays) > 0.03


def test_rates_are_seeded_and_roughly_respected() -> None:
    def draws(seed: int) -> list[FaultKind]:
        injector = FaultInjector(seed=seed)
        injector.set(OpcoCode.ATLAS, FaultSpec(error_rate=0.3))
        return [injector.decide(OpcoCode.ATLAS, "status").kind for _ in range(1000)]

    first = draws(42)
    assert first == draws(42)
    errors = first.count(FaultKind.ERROR)
    assert 230 < errors < 370


def test_max_faults_is_a_budget_then_quiet() -> None:
    injector = FaultInjector()
    injector.set(OpcoCode.ATLAS, FaultSpec(error_rate=1, max_faults=2))
    kinds = [injector.decide(OpcoCode.ATLAS, "status").kind for _ in range(4)]
    assert kinds == [FaultKind.ERROR, FaultKind.ERROR, FaultKind.NONE, FaultKind.NONE]
    assert injector.injected(OpcoCode.ATLAS) == 2


def test_routes_filter_restricts_faults() -> None:
    injector = FaultInjector()
    injector.set(OpcoCode.ATLAS, FaultSpec(drop_rate=1, routes=["dossiers_post"]))
    assert injector.decide(OpcoCode.ATLAS, "dossiers_etats").kind is FaultKind.NONE
    assert injector.decide(OpcoCode.ATLAS, "dossiers_post").kind is FaultKind.DROP


@pytest.mark.parametrize(
    ("given", "names"),
    [
        (["dossiers_post"], ["dossiers_post"]),
        (["POST /v2/dossiers"], ["dossiers_post"]),
        (["get /v1/dossiers"], ["dossier_detail"]),
        (["dossiers"], ["dossier_detail", "dossiers_post"]),
        (["/AKTO/SorApiEchangeCFA/v2/dossiers/etats?numeroPage=1"], ["dossiers_etats"]),
        (["factures/etats", "POST factures"], ["factures", "factures_etats"]),
    ],
)
def test_routes_accept_names_and_paths(given: list[str], names: list[str]) -> None:
    assert FaultSpec(routes=given).routes == names


@pytest.mark.parametrize("given", ["dosiers_post", "POST /v2/dossiers/etats", "v3/status", ""])
def test_an_unknown_route_is_refused_not_silently_never_faulted(given: str) -> None:
    with pytest.raises(ValidationError, match="unknown route"):
        FaultSpec(routes=[given])


def test_a_quiet_spec_clears_the_opco() -> None:
    injector = FaultInjector()
    injector.set(OpcoCode.ATLAS, FaultSpec(down=True))
    injector.set(OpcoCode.ATLAS, FaultSpec())
    assert injector.spec(OpcoCode.ATLAS) is None
    injector.set(OpcoCode.ATLAS, FaultSpec(rate_limit_per_s=5))
    assert injector.spec(OpcoCode.ATLAS) is not None
    injector.clear()
    assert injector.specs() == {}
