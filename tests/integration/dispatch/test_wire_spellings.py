"""Each OPCO's spelling of the cerfa keys that vary (``Quirks``, convergence-api.md 0), end to end:
the dispatcher writes the profile's spelling (``CERFAsignatureProbante`` and
``contrat.dateFormationPratiqueEmployeur`` at the OPCOs the working ERP client used,
``CERFASignatureProbante`` and ``contrat.dateDebutFormationPratique`` elsewhere) and the real
simulator, which reads its own profile's spelling, finds nothing spelled as another OPCO does (it
warns on the record when it does: the raw request below)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from relais.domain.opco import OpcoCode
from tests.integration.dispatch.conftest import Rig
from tests.integration.simulator.helpers import cerfa_for

pytestmark = pytest.mark.integration

SECTION_0 = ("CERFAsignatureProbante", "dateFormationPratiqueEmployeur")
OLDER = ("CERFASignatureProbante", "dateDebutFormationPratique")


@pytest.mark.parametrize(
    ("opco", "spelling"),
    [(OpcoCode.AKTO, SECTION_0), (OpcoCode.OPCOEP, SECTION_0), (OpcoCode.CONSTRUCTYS, OLDER)],
)
async def test_the_simulator_reads_the_spelling_relais_sends(
    rig: Rig, opco: OpcoCode, spelling: tuple[str, str]
) -> None:
    quirks = rig.gateway.quirks(opco)
    assert (quirks.cerfa_signature_key, quirks.pratique_field) == spelling
    d = rig.dossier(opco, start=rig.today - timedelta(days=2))
    assert d.cerfa["CERFASignatureProbante"] is True  # the CFA's event: the older spelling
    command = await rig.send(d.event, opco)
    await rig.settle(rig.dispatcher())
    assert await rig.state(command) == "done"
    [record] = rig.creations(opco, "dossiers_post")
    assert record["warnings"] == []


@pytest.mark.parametrize(
    ("opco", "foreign"),
    [(OpcoCode.ATLAS, OLDER), (OpcoCode.OCAPIAT, SECTION_0)],
)
async def test_the_other_spelling_is_warned_about_not_refused(
    rig: Rig, opco: OpcoCode, foreign: tuple[str, str]
) -> None:
    cerfa = cerfa_for(opco.value, seed=7, siret=rig.cfa)
    signature, pratique = foreign
    cerfa[signature] = cerfa.pop("CERFASignatureProbante")
    cerfa["contrat"][pratique] = cerfa["contrat"].pop("dateDebutFormationPratique")
    url = rig.sim.api_url(opco) + "/v1/dossiers"
    headers = rig.sim.headers(opco, rig.cfa, method="POST", url=url)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, json={"cerfa": cerfa}, headers=headers)
    assert r.status_code == 200, r.text  # stored as received: relais's rules read both
    [record] = rig.sim.records(opco=opco.value, route="dossiers_post")
    assert [w.split(":")[0] for w in record["warnings"]] == [signature, f"contrat.{pratique}"]
    assert all("autre OPCO" in w for w in record["warnings"])
