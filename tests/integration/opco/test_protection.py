"""Breaker and rate limiter against the real simulator."""

from __future__ import annotations

import asyncio
import time

import pytest

from relais.adapters.opco import BreakerSettings
from relais.domain.opco import OpcoCode
from relais.errors import RetryableOpcoError
from tests.integration.opco.conftest import CFA, Rig

pytestmark = pytest.mark.integration


async def test_breaker_opens_then_recovers(rig: Rig) -> None:
    gateway = rig.gateway_with(breaker=BreakerSettings(failure_threshold=3, cooldown_s=0.5))
    try:
        rig.sim.set_faults(OpcoCode.ATLAS, error_rate=1, error_statuses=[500])
        for _ in range(3):
            with pytest.raises(RetryableOpcoError):
                await gateway.key_info(CFA, OpcoCode.ATLAS)
        sent = len(rig.sim.records(opco="ATLAS"))
        with pytest.raises(RetryableOpcoError, match="circuit breaker open") as exc:
            await gateway.key_info(CFA, OpcoCode.ATLAS)
        assert exc.value.retry_after is not None and 0 < exc.value.retry_after <= 0.5
        assert len(rig.sim.records(opco="ATLAS")) == sent  # failed fast, no request
        assert (await gateway.key_info(CFA, OpcoCode.AFDAS)).valid  # others unaffected
        rig.sim.clear_faults(OpcoCode.ATLAS)
        await asyncio.sleep(0.55)
        assert (await gateway.key_info(CFA, OpcoCode.ATLAS)).valid  # the half-open probe
        assert gateway.breaker_state(OpcoCode.ATLAS) == "closed"
    finally:
        await gateway.aclose()


async def _burst(rig: Rig, client_rate: float, n: int) -> tuple[int, float]:
    profiles = dict(rig.profiles)
    profiles[OpcoCode.OPCO2I] = profiles[OpcoCode.OPCO2I].model_copy(
        update={"rate_limit_per_s": client_rate}
    )
    gateway = rig.gateway_with(profiles=profiles)
    rig.sim.set_faults(OpcoCode.OPCO2I, rate_limit_per_s=20)
    # Create the OPCO's bucket and let it fill: then only delays can happen on the way, and a
    # delay never makes a client under the limit go over it.
    await rig.gateway.key_info(CFA, OpcoCode.OPCO2I)
    await asyncio.sleep(1.05)
    started = time.perf_counter()
    try:
        results = await asyncio.gather(
            *(gateway.key_info(CFA, OpcoCode.OPCO2I) for _ in range(n)), return_exceptions=True
        )
    finally:
        await gateway.aclose()
    elapsed = time.perf_counter() - started
    throttled = sum(1 for r in results if isinstance(r, RetryableOpcoError) and r.status == 429)
    return throttled, elapsed


async def test_client_rate_limit_keeps_under_the_opco_limit(rig: Rig) -> None:
    # The OPCO allows 20/s (burst 20); the client is set well under it, since network and CPU
    # jitter can bunch requests sent apart (a client at 18/s sees an occasional 429 here).
    throttled, elapsed = await _burst(rig, client_rate=10.0, n=25)
    assert throttled == 0
    assert elapsed >= (25 - 10) / 10 - 0.1
    # 100 at once: throttled unless they reach the OPCO spread over more than 4 s (with 25, a
    # loaded machine spreading them over 0.25 s was enough to see no 429)
    unlimited, _ = await _burst(rig, client_rate=1000.0, n=100)
    assert unlimited > 0  # without the client's limiter the OPCO would throttle
