"""Helpers for the OPCO client's unit tests: a fake clock and a gateway over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco import BreakerSettings, HttpOpcoGateway
from relais.domain.opco import OpcoCode
from relais.domain.profiles import AuthProfile, OpcoProfile, load_profiles
from relais.domain.referentials import referential

CFA = "12345678900011"
OTHER_CFA = "98765432100019"
KEY = "key-afdas-secret-123"
AKTO_SECRET = "akto-client-secret-xyz"


class FakeClock:
    """Monotonic and wall time that only move when a test (or a sleep) moves them."""

    def __init__(self, start: datetime = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) -> None:
        self.t = 1000.0
        self.start = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Recorder:
    """What the fake OPCO received."""

    requests: list[httpx.Request] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


@dataclass
class Observed:
    requests: list[tuple[str, str, str, float]] = field(default_factory=list)
    breaker: list[tuple[str, str]] = field(default_factory=list)

    def on_request(self, opco: str, route: str, status_class: str, seconds: float) -> None:
        self.requests.append((opco, route, status_class, seconds))

    def on_breaker(self, opco: str, state: str) -> None:
        self.breaker.append((opco, state))


Handler = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    return httpx.Response(status, content=content, headers=all_headers)


@pytest.fixture(scope="session")
def profiles() -> dict[OpcoCode, OpcoProfile]:
    """The bundled profiles, with OAuth2 at AKTO only: these tests are about the gateway's
    mechanics (one OAuth OPCO is enough here); each OPCO's own auth scheme runs against the
    simulator in ``tests/integration/opco/test_auth_schemes.py``."""
    bundled = load_profiles(referential("opco-profiles.json"))
    return {code: p if code is OpcoCode.AKTO else _key_only(p) for code, p in bundled.items()}


def _key_only(profile: OpcoProfile) -> OpcoProfile:
    sources = {k: v for k, v in profile.sources.items() if not k.startswith("auth.")}
    return profile.model_copy(update={"auth": AuthProfile(), "sources": sources})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def credentials() -> CredentialStore:
    store = CredentialStore()
    for opco in OpcoCode:
        store.add_key(CFA, opco, f"{KEY}-{opco.value}")
    store.add_oauth(OpcoCode.AKTO, "relais-client", AKTO_SECRET)
    return store


GatewayFactory = Callable[..., tuple[HttpOpcoGateway, Recorder, Observed]]


@pytest_asyncio.fixture(loop_scope="function")
async def make_gateway(
    profiles: dict[OpcoCode, OpcoProfile], credentials: CredentialStore, clock: FakeClock
) -> Any:
    made: list[HttpOpcoGateway] = []

    def factory(
        handler: Handler,
        *,
        breaker: BreakerSettings | None = None,
        store: CredentialStore | None = None,
        profile_overrides: dict[OpcoCode, dict[str, Any]] | None = None,
    ) -> tuple[HttpOpcoGateway, Recorder, Observed]:
        recorder, observed = Recorder(), Observed()

        def record(request: httpx.Request) -> httpx.Response:
            recorder.requests.append(request)
            return handler(request)

        chosen = dict(profiles)
        for code, update in (profile_overrides or {}).items():
            chosen[code] = chosen[code].model_copy(update=update)
        gateway = HttpOpcoGateway(
            chosen,
            store if store is not None else credentials,
            editeur="Federation",
            logiciel="relais",
            version="0.1.0",
            transport=httpx.MockTransport(record),
            observer=observed,
            clock=clock,
            breaker=breaker,
        )
        made.append(gateway)
        return gateway, recorder, observed

    yield factory
    for gateway in made:
        await gateway.aclose()


def with_token(handler: Handler) -> Handler:
    """Answer AKTO's token endpoint, pass everything else to ``handler``."""

    def wrapped(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/connect/token"):
            return reply(200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        return handler(request)

    return wrapped
