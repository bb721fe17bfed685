"""Every fault the simulator injects, seen through the client: the right relais error, and the
ambiguous ones resolved by a lookup (DESIGN promise 2)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from relais.domain.opco import OpcoCode
from relais.errors import AmbiguousOpcoError, RetryableOpcoError
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, default_key
from tests.integration.opco.conftest import CFA, Rig, natural_key
from tests.integration.simulator.helpers import facture_for

pytestmark = pytest.mark.integration


async def test_latency_is_waited_for(rig: Rig) -> None:
    rig.sim.set_faults(OpcoCode.ATLAS, latency_ms=300)
    started = time.perf_counter()
    info = await rig.gateway.key_info(CFA, OpcoCode.ATLAS)
    assert info.valid
    assert time.perf_counter() - started >= 0.3
    [record] = rig.sim.records(opco="ATLAS")
    assert record["delayMs"] == 300


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_retryable_not_ambiguous(rig: Rig, status: int) -> None:
    rig.sim.set_faults(OpcoCode.ATLAS, error_rate=1, error_statuses=[status], max_faults=1)
    with pytest.raises(RetryableOpcoError) as exc:
        await rig.gateway.submit_dossier(CFA, OpcoCode.ATLAS, rig.dossier(OpcoCode.ATLAS).cerfa)
    assert not isinstance(exc.value, AmbiguousOpcoError)
    assert exc.value.status == status
    assert exc.value.messages == ("Erreur interne du serveur",)
    assert rig.created_records(OpcoCode.ATLAS, "dossiers_post") == []


async def test_503_and_429_carry_retry_after(rig: Rig) -> None:
    rig.sim.set_faults(OpcoCode.AFDAS, error_rate=1, error_statuses=[503], retry_after_s=9)
    with pytest.raises(RetryableOpcoError) as unavailable:
        await rig.gateway.key_info(CFA, OpcoCode.AFDAS)
    assert (unavailable.value.status, unavailable.value.retry_after) == (503, 9.0)
    rig.sim.set_faults(OpcoCode.AFDAS, throttle_rate=1, retry_after_s=4)
    with pytest.raises(RetryableOpcoError) as throttled:
        await rig.gateway.submit_dossier(CFA, OpcoCode.AFDAS, rig.dossier(OpcoCode.AFDAS).cerfa)
    assert (throttled.value.status, throttled.value.retry_after) == (429, 4.0)
    assert not isinstance(throttled.value, AmbiguousOpcoError)


async def test_down(rig: Rig) -> None:
    rig.sim.set_faults(OpcoCode.OPCOEP, down=True, retry_after_s=60)
    with pytest.raises(RetryableOpcoError) as exc:
        [e async for e in rig.gateway.dossier_etats(CFA, OpcoCode.OPCOEP)]
    assert (exc.value.status, exc.value.retry_after) == (503, 60.0)
    assert await rig.gateway.key_info(CFA, OpcoCode.AFDAS)  # the others are unaffected


@pytest.mark.parametrize("fault", ["timeout", "drop"])
async def test_no_answer_on_a_read_is_plain_retryable(rig: Rig, fault: str) -> None:
    rig.sim.set_faults(OpcoCode.ATLAS, **{f"{fault}_rate": 1}, hang_s=60, max_faults=1)
    with pytest.raises(RetryableOpcoError) as exc:
        await rig.gateway.key_info(CFA, OpcoCode.ATLAS)
    assert not isinstance(exc.value, AmbiguousOpcoError)
    assert exc.value.status is None
    assert (await rig.gateway.key_info(CFA, OpcoCode.ATLAS)).valid  # the pool recovers


@pytest.mark.parametrize("fault", ["timeout", "drop"])
async def test_no_answer_on_a_creation_is_ambiguous(rig: Rig, fault: str) -> None:
    rig.sim.set_faults(OpcoCode.ATLAS, **{f"{fault}_rate": 1}, hang_s=60, max_faults=1)
    d = rig.dossier(OpcoCode.ATLAS)
    with pytest.raises(AmbiguousOpcoError):
        await rig.gateway.submit_dossier(CFA, OpcoCode.ATLAS, d.cerfa)
    # the fault came before processing: nothing stored, the lookup says so, resending is safe
    assert await rig.gateway.find_dossier(CFA, OpcoCode.ATLAS, natural_key(d)) is None
    created = await rig.gateway.submit_dossier(CFA, OpcoCode.ATLAS, d.cerfa)
    assert not created.duplicate


@pytest.mark.parametrize(
    ("opco", "mode"),
    [(OpcoCode.ATLAS, "drop"), (OpcoCode.AFDAS, "hang"), (OpcoCode.AKTO, "drop")],
)
async def test_stored_but_answer_lost_then_found(rig: Rig, opco: OpcoCode, mode: str) -> None:
    for _ in range(3):  # a few other dossiers of the CFA, so the lookup has to choose
        await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
    rig.sim.set_faults(
        opco, stored_lost_rate=1, stored_lost_mode=mode, hang_s=60, routes=["dossiers_post"]
    )
    d = rig.dossier(opco)
    with pytest.raises(AmbiguousOpcoError):
        await rig.gateway.submit_dossier(CFA, opco, d.cerfa)
    rig.sim.clear_faults(opco)
    # "hang": the client may give up before a loaded simulator has stored the dossier
    records = rig.sim.wait_for_records(4, opco=opco.value, route="dossiers_post")
    (stored,) = [r for r in records if r["status"] == 0]
    found = await rig.gateway.find_dossier(CFA, opco, natural_key(d))
    assert found is not None
    assert found.ids["numeroInterne"] == stored["ids"]["numeroInterne"]
    assert found.duplicate
    assert len(rig.created_records(opco, "dossiers_post")) == 4  # no second creation


async def test_facture_stored_but_answer_lost_then_found(rig: Rig) -> None:
    opco = OpcoCode.OPCOMMERCE
    _, created = await rig.engaged(opco)
    numero = created.ids["numeroInterne"]
    amount = (await rig.gateway.get_dossier(CFA, opco, numero))["echeances"][0]["montantTotal"]
    body = facture_for(
        "FAC-LOST-1", created.ids["numeroExterne"], [(1, amount)], "FR7630006000011234567890189"
    )
    rig.sim.set_faults(opco, stored_lost_rate=1, routes=["factures"])
    with pytest.raises(AmbiguousOpcoError):
        await rig.gateway.submit_facture(CFA, opco, body)
    rig.sim.clear_faults(opco)
    found = await rig.gateway.find_facture(CFA, opco, "FAC-LOST-1")
    assert found is not None
    (stored,) = rig.created_records(opco, "factures")
    assert found.ids["numeroInterneFacture"] == stored["ids"]["numeroInterneFacture"]
    resent = await rig.gateway.submit_facture(CFA, opco, body)  # and a resend is a duplicate
    assert resent.duplicate
    assert resent.ids["numeroInterneFacture"] == found.ids["numeroInterneFacture"]


async def test_convention_answer_lost_resend_is_duplicate(rig: Rig) -> None:
    """No read route for conventions: the resend relies on the OPCO's 409 (DESIGN promise 2)."""
    opco = OpcoCode.CONSTRUCTYS
    _, created = await rig.engaged(opco)
    body = {"numeroInterneDossier": created.ids["numeroInterne"]}
    rig.sim.set_faults(opco, stored_lost_rate=1, routes=["conventions"], max_faults=1)
    with pytest.raises(AmbiguousOpcoError):
        await rig.gateway.submit_convention(CFA, opco, body)
    resent = await rig.gateway.submit_convention(CFA, opco, body)
    assert resent.duplicate
    assert "idConvention" in resent.ids


async def test_connection_refused_is_plain_retryable(rig: Rig) -> None:
    with socket_port() as port:
        gateway = rig.gateway_with(
            base_urls={OpcoCode.ATLAS: f"http://127.0.0.1:{port}/ATLAS/SorApiEchangeCFA"}
        )
    try:
        with pytest.raises(RetryableOpcoError) as exc:
            await gateway.submit_dossier(CFA, OpcoCode.ATLAS, rig.dossier(OpcoCode.ATLAS).cerfa)
        assert not isinstance(exc.value, AmbiguousOpcoError)  # nothing was sent
    finally:
        await gateway.aclose()


@contextmanager
def socket_port() -> Iterator[int]:
    """A port that was free a moment ago and has nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


async def test_slow_opco_does_not_slow_another(rig: Rig) -> None:
    """Per-OPCO pools: a hanging OPCO holds its own connections only. Every connection ATLAS
    allows is held in the simulator's latency (seen there, not guessed with a sleep) while AFDAS
    answers; no stopwatch, so a loaded machine cannot fail it."""
    slots = rig.profiles[OpcoCode.ATLAS].max_concurrency
    # (requests of an earlier test may still sleep: the simulator drops them when they wake)
    before = rig.sim.delayed()

    def hanging() -> dict[str, int]:
        now = rig.sim.delayed()
        return {o: n - before.get(o, 0) for o, n in now.items() if n != before.get(o, 0)}

    rig.sim.set_faults(OpcoCode.ATLAS, latency_ms=120_000)
    gateway = rig.gateway_with(timeout=httpx.Timeout(5.0, read=None))  # waits out the latency
    slow = [asyncio.create_task(gateway.key_info(CFA, OpcoCode.ATLAS)) for _ in range(slots)]
    try:
        for _ in range(1500):
            if hanging() == {"ATLAS": slots}:
                break
            await asyncio.sleep(0.02)
        assert hanging() == {"ATLAS": slots}, "ATLAS holds all its connections"
        assert (await gateway.key_info(CFA, OpcoCode.AFDAS)).valid
        assert not any(task.done() for task in slow), "AFDAS answered while ATLAS still hangs"
        assert hanging() == {"ATLAS": slots}
        assert [r["delayMs"] for r in rig.sim.records(opco="AFDAS")] == [0]
    finally:
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
        await gateway.aclose()


async def test_headers_reach_the_simulator(rig: Rig) -> None:
    """Sanity: the key the client sends is the one the simulator knows for this CFA."""
    assert default_key(OpcoCode.AFDAS).endswith(DEFAULT_CFA_SIRET)
    async with httpx.AsyncClient() as client:
        r = await client.get(
            f"{rig.sim.api_url(OpcoCode.AFDAS)}/v2/cfakeyinfo",
            headers={"X-API-KEY": default_key(OpcoCode.AFDAS)},
        )
    assert r.status_code == 400  # EDITEUR/LOGICIEL/VERSION missing: the client always sends them
    assert (await rig.gateway.key_info(CFA, OpcoCode.AFDAS)).valid
