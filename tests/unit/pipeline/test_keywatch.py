"""Key expiry: the earlier of the configured date and the OPCO's cfakeyinfo answer, as a gauge."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relais.domain.dates import PARIS
from relais.domain.opco import OpcoCode
from relais.metrics import Metrics
from relais.services.keywatch import KeyWatch
from relais.services.opco_port import OpcoGateway
from tests.unit.services.fakes import FakeGateway

CFA = "12345678901234"


def _gauge(m: Metrics, opco: str) -> float | None:
    return m.registry.get_sample_value(
        "relais_cfa_key_expiry_timestamp_seconds", {"opco": opco, "cfa": CFA}
    )


async def test_earliest_of_configured_and_opco_expiry() -> None:
    gateway: OpcoGateway = FakeGateway(unsupported={(OpcoCode.ATLAS, "cfakeyinfo")})
    metrics = Metrics()
    pairs = [
        (CFA, OpcoCode.AKTO, date(2028, 1, 1)),  # the OPCO says 2027-12-31: earlier
        (CFA, OpcoCode.AFDAS, date(2027, 6, 30)),  # configured is earlier
        (CFA, OpcoCode.ATLAS, None),  # no route, no configured date: unknown
    ]
    assert await KeyWatch(gateway, pairs, metrics).check_once() == 2
    midnight = datetime(2027, 12, 31, tzinfo=PARIS).timestamp()
    assert _gauge(metrics, "AKTO") == midnight
    assert _gauge(metrics, "AFDAS") == datetime(2027, 6, 30, tzinfo=PARIS).timestamp()
    assert _gauge(metrics, "ATLAS") is None
    assert datetime.fromtimestamp(midnight, UTC).year == 2027
