"""An OPCO's own text is personal data until proven otherwise (security review, "Poison records and
tenant isolation", item 5): it reaches the CFA's own status event, never a log line, a metric label,
the ledger's error column nor another CFA's status.

The seam is the real gateway over ``httpx.MockTransport`` (what the OPCO answers), driven by the
real dispatcher over the Protocol-checked fake ledger.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import httpx
import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.logging import configure_logging, reset_logging
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.ledger_port import CommandState
from relais.services.retry import RetryPolicy
from tests.ledger_entries import accept
from tests.unit.opco.conftest import GatewayFactory, reply
from tests.unit.services.fakes import FakeLedger, ManualClock
from tests.unit.services.samples import CFA, OTHER_CFA, dossier_cmd

NAME, BIRTH, BIRTH_ISO, NIR = "Jean DUPONT", "14/03/2006", "2006-03-14", "1 06 03 75 123 456 78"
OPCO_MESSAGE = (
    f"Dossier refusé : l'apprenti {NAME} né le {BIRTH} ({BIRTH_ISO}), NIR {NIR}, "
    "est déjà sous contrat"
)
PERSONAL = ("Jean", "DUPONT", BIRTH, BIRTH_ISO, NIR, NIR.replace(" ", ""))


class LabelMetrics:
    def __init__(self) -> None:
        self.labels: list[str] = []

    def command(self, opco: str, kind: str, outcome: str) -> None:
        self.labels += [opco, kind, outcome]


@pytest.fixture()
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json_output=True, stream=stream, force=True)
    yield stream
    reset_logging()


def refuse_one_cfa(request: httpx.Request) -> httpx.Response:
    if request.headers["X-API-KEY"] == "key-refused":
        return reply(422, {"message": OPCO_MESSAGE, "errors": [{"message": f"{NAME} {BIRTH}"}]})
    return reply(201, {"numeroInterne": "N1", "numeroExterne": "E1", "etat": "TRANSMIS"})


@pytest.mark.parametrize("status", [422, 503])
async def test_opco_text_reaches_the_cfas_own_status_only(
    make_gateway: GatewayFactory, logs: io.StringIO, status: int
) -> None:
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.AFDAS, "key-refused")
    store.add_key(OTHER_CFA, OpcoCode.AFDAS, "key-accepted")

    def handler(request: httpx.Request) -> httpx.Response:
        answer = refuse_one_cfa(request)
        if answer.status_code == 422 and status != 422:
            return reply(status, {"message": OPCO_MESSAGE})
        return answer

    gateway, _, observed = make_gateway(handler, store=store)
    clock = ManualClock()
    ledger = FakeLedger(clock)
    metrics = LabelMetrics()
    policy = RetryPolicy(rand=lambda: 1.0, attempts=1)
    dispatcher = Dispatcher(
        ledger,
        gateway,
        DispatchOptions(retry=policy, retrying_status_every=1),
        clock=clock,
        worker_id="w1",
        metrics=metrics,
    )
    assert await accept(ledger, dossier_cmd("e1", "D1", opco="AFDAS", cfa=CFA), [])
    assert await accept(ledger, dossier_cmd("e2", "D2", n=2, opco="AFDAS", cfa=OTHER_CFA), [])

    assert await dispatcher.run_once() == 2

    states = {r.command.event_id: r.command.state for r in ledger.rows}
    assert states == {"e1": CommandState.FAILED, "e2": CommandState.DONE}
    bodies = {json.loads(m.value)["eventId"]: json.loads(m.value) for m in ledger.statuses()}
    refused, accepted = bodies["e1"], bodies["e2"]
    assert refused["cfa"] == CFA and refused["status"] == "failed"
    assert OPCO_MESSAGE in refused["opcoMessages"]  # the CFA learns why, in the OPCO's words
    assert accepted["cfa"] == OTHER_CFA and accepted["status"] == "submitted"
    other_cfa_raw = b"".join(
        m.value for m in ledger.statuses() if json.loads(m.value)["cfa"] != CFA
    )
    error_column = " ".join(r.command.last_error or "" for r in ledger.rows)
    assert "AFDAS" in error_column and str(status) in error_column
    text = logs.getvalue()
    assert "dispatch.failed" in text
    labels = " ".join(metrics.labels + [str(label) for req in observed.requests for label in req])
    for leaked in PERSONAL:
        assert leaked.encode() not in other_cfa_raw, leaked
        assert leaked not in error_column, leaked
        assert leaked not in text, leaked
        assert leaked not in labels, leaked
