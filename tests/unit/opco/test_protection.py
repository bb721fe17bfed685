"""Per-OPCO protection: circuit breaker, token bucket, concurrency limit, isolation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from relais.adapters.opco import BreakerSettings
from relais.adapters.opco.breaker import CircuitBreaker
from relais.adapters.opco.ratelimit import TokenBucket
from relais.domain.opco import OpcoCode
from relais.errors import NotFoundError, RetryableOpcoError
from tests.unit.opco.conftest import CFA, FakeClock, GatewayFactory, reply

SETTINGS = BreakerSettings(failure_threshold=3, cooldown_s=30.0)


def test_breaker_state_machine(clock: FakeClock) -> None:
    changes: list[str] = []
    breaker = CircuitBreaker(SETTINGS, clock, changes.append)
    for _ in range(2):
        assert breaker.before_call() is None
        breaker.on_failure()
    assert breaker.state == "closed"
    breaker.on_success()  # a success resets the count
    for _ in range(3):
        assert breaker.before_call() is None
        breaker.on_failure()
    assert breaker.state == "open"
    clock.advance(10)
    assert breaker.before_call() == pytest.approx(20.0)
    clock.advance(20)
    assert breaker.state == "half_open"
    assert breaker.before_call() is None  # the probe
    assert breaker.before_call() == pytest.approx(3.0)  # others wait while it is in flight
    breaker.on_failure()
    assert breaker.state == "open"
    assert breaker.before_call() == pytest.approx(30.0)
    clock.advance(30)
    assert breaker.before_call() is None
    breaker.on_success()
    assert breaker.state == "closed"
    assert changes == ["open", "half_open", "open", "half_open", "closed"]


def test_breaker_release_frees_the_probe(clock: FakeClock) -> None:
    breaker = CircuitBreaker(BreakerSettings(1, 5.0), clock)
    breaker.before_call()
    breaker.on_failure()
    clock.advance(5)
    assert breaker.before_call() is None
    breaker.release()
    assert breaker.before_call() is None


async def test_open_breaker_fails_fast_without_network(
    make_gateway: GatewayFactory, clock: FakeClock
) -> None:
    gateway, recorder, observed = make_gateway(lambda r: reply(500), breaker=SETTINGS)
    for _ in range(3):
        with pytest.raises(RetryableOpcoError):
            await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    assert gateway.breaker_state(OpcoCode.ATLAS) == "open"
    clock.advance(12)
    with pytest.raises(RetryableOpcoError, match="circuit breaker open") as exc:
        await gateway.submit_dossier(CFA, OpcoCode.ATLAS, {"cerfa": {}})
    assert exc.value.retry_after == pytest.approx(18.0)
    assert len(recorder.requests) == 3
    assert observed.breaker == [("ATLAS", "open")]
    assert len(observed.requests) == 3


async def test_breaker_isolates_opcos(make_gateway: GatewayFactory) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/ATLAS/"):
            raise httpx.ConnectError("refused", request=request)
        return reply(200, {"cerfa": {"numeroInterne": "N1"}})

    gateway, _, _ = make_gateway(handler, breaker=SETTINGS)
    for _ in range(5):
        with pytest.raises(RetryableOpcoError):
            await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    assert gateway.breaker_state(OpcoCode.ATLAS) == "open"
    assert await gateway.get_dossier(CFA, OpcoCode.AFDAS, "N1") == {
        "cerfa": {"numeroInterne": "N1"}
    }
    assert gateway.breaker_state(OpcoCode.AFDAS) == "closed"


async def test_half_open_probe_closes_on_success(
    make_gateway: GatewayFactory, clock: FakeClock
) -> None:
    answers = iter([500, 500, 500, 404])
    gateway, recorder, observed = make_gateway(lambda r: reply(next(answers)), breaker=SETTINGS)
    for _ in range(3):
        with pytest.raises(RetryableOpcoError):
            await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    clock.advance(30)
    with pytest.raises(NotFoundError):  # a 4xx proves the OPCO is up
        await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    assert gateway.breaker_state(OpcoCode.ATLAS) == "closed"
    assert [s for _, s in observed.breaker] == ["open", "half_open", "closed"]
    assert len(recorder.requests) == 4


async def test_rate_limit_spaces_requests(make_gateway: GatewayFactory, clock: FakeClock) -> None:
    gateway, recorder, _ = make_gateway(
        lambda r: reply(200, {"cerfa": {}}),
        profile_overrides={OpcoCode.OPCO2I: {"rate_limit_per_s": 2.0}},
    )
    for _ in range(6):
        await gateway.get_dossier(CFA, OpcoCode.OPCO2I, "N1")
    assert len(recorder.requests) == 6
    # burst of 2 (bucket capacity), then one every 0.5 s
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5, 0.5])
    await gateway.get_dossier(CFA, OpcoCode.AFDAS, "N1")  # other OPCOs are not slowed
    assert len(clock.sleeps) == 4


async def test_token_bucket_refills(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=10.0, clock=clock, capacity=2)
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(0.1)
    clock.advance(1.0)  # refills up to the capacity, not beyond
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() > 0
    with pytest.raises(ValueError):
        TokenBucket(rate=0, clock=clock)


async def test_concurrency_limit(make_gateway: GatewayFactory) -> None:
    in_flight = 0
    peak = 0
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return reply(200, {"cerfa": {}})

    gateway, _, _ = make_gateway(
        handler,  # type: ignore[arg-type]
        profile_overrides={OpcoCode.OPCOEP: {"max_concurrency": 3}},
    )
    calls = [
        asyncio.create_task(gateway.get_dossier(CFA, OpcoCode.OPCOEP, str(i))) for i in range(8)
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert peak == 3
    release.set()
    await asyncio.gather(*calls)
    assert peak == 3


async def test_cancelled_call_frees_the_half_open_probe(
    make_gateway: GatewayFactory, clock: FakeClock
) -> None:
    hang = asyncio.Event()
    mode = {"fail": True}

    async def handler(request: httpx.Request) -> httpx.Response:
        if mode["fail"]:
            return reply(500)
        await hang.wait()
        return reply(200, {"cerfa": {}})

    gateway, _, _ = make_gateway(handler, breaker=BreakerSettings(1, 5.0))  # type: ignore[arg-type]
    with pytest.raises(RetryableOpcoError):
        await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    clock.advance(5)
    mode["fail"] = False
    probe = asyncio.create_task(gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1"))
    for _ in range(5):
        await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    hang.set()
    assert await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1") == {"cerfa": {}}
