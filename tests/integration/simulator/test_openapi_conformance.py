"""schemathesis against the running simulator's convergence routes (not admin): no 5xx, and every
answer conforms to the OpenAPI document it serves (status codes, content types, bodies, headers)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fixtures.simulator import SimulatorProcess

with warnings.catch_warnings():
    # schemathesis 3 subclasses jsonschema.RefResolver (deprecated) at import time
    warnings.simplefilter("ignore", DeprecationWarning)
    import schemathesis
    from schemathesis.specs.openapi.schemas import BaseOpenAPISchema

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def no_server_error(response: schemathesis.GenericResponse, case: schemathesis.Case) -> None:
    """Like schemathesis's own check, except that 501 (route not implemented) is a valid answer."""
    assert response.status_code < 500 or response.status_code == 501, response.status_code


CHECKS = (
    no_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
)


@pytest.fixture(scope="module")
def conformance_simulator(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    simulator.settings(rate_limit=False)
    yield simulator
    simulator.reset()


@pytest.fixture(scope="module")
def atlas_schema(conformance_simulator: SimulatorProcess) -> BaseOpenAPISchema:
    url = conformance_simulator.api_url("ATLAS")
    return schemathesis.from_uri(f"{url}/openapi.json", base_url=url)


@pytest.fixture(scope="module")
def afdas_schema(conformance_simulator: SimulatorProcess) -> BaseOpenAPISchema:
    url = conformance_simulator.api_url("AFDAS")
    return schemathesis.from_uri(f"{url}/openapi.json", base_url=url)


@pytest.fixture(scope="module")
def akto_schema(conformance_simulator: SimulatorProcess) -> BaseOpenAPISchema:
    url = conformance_simulator.api_url("AKTO")
    return schemathesis.from_uri(f"{url}/openapi.json", base_url=url)


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    atlas = schemathesis.from_pytest_fixture("atlas_schema")
    afdas = schemathesis.from_pytest_fixture("afdas_schema").include(path_regex="certificats")
    akto = schemathesis.from_pytest_fixture("akto_schema").include(
        path_regex="etats|status|cfakeyinfo"
    )


@atlas.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_atlas_conforms(case: schemathesis.Case, conformance_simulator: SimulatorProcess) -> None:
    response = case.call_and_validate(
        headers=conformance_simulator.headers("ATLAS"), checks=CHECKS, timeout=10
    )
    assert response.status_code < 500 or response.status_code == 501


@akto.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_akto_conforms(case: schemathesis.Case, conformance_simulator: SimulatorProcess) -> None:
    response = case.call_and_validate(
        headers=conformance_simulator.headers("AKTO"), checks=CHECKS, timeout=10
    )
    assert response.status_code < 500 or response.status_code == 501


@afdas.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_afdas_certificats_conform(
    case: schemathesis.Case, conformance_simulator: SimulatorProcess
) -> None:
    url = conformance_simulator.api_url("AFDAS") + case.formatted_path
    headers = conformance_simulator.headers("AFDAS", method=case.method, url=url)
    response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)
    assert response.status_code < 500 or response.status_code == 501
