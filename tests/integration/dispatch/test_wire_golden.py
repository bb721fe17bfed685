"""Send what was validated (issue 15, item 3), end to end: the exact bytes each route's body has
when it reaches the OPCO, through the real ledger, dispatcher and OPCO client, against the real
simulator's request record (the SHA-256 of each POST body it received).

One dossier and its convention, facture and rupture or certificat (the routes each OPCO offers)
on three OPCO profiles: AKTO (its ``iban_field`` quirk: the facture's ``IBAN``), ATLAS and AFDAS
(the standard's ``iban``; AFDAS alone offers certificats, and no rupture). The golden files
under ``golden/`` are the bytes sent, the dossier's OPCO id written ``@NUMERO@`` (the simulator
gives it); they are reviewed by hand when they change (``UPDATE_GOLDEN=1`` rewrites them from the
bodies the dispatcher builds). The generator is seeded and the simulator starts on ``TODAY``.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest

from relais.domain import wire
from relais.domain.events import ConventionSubmittedData, EventData, FactureSubmittedData
from relais.domain.files import FileReference
from relais.domain.opco import OpcoCode
from relais.services.calls import build_call
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import CommandKind, NewCommand
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden"
PLACEHOLDER = b"@NUMERO@"
EXTERNE = b"@NUMERO_EXTERNE@"
MULTIPART = {CommandKind.CONVENTION, CommandKind.FACTURE}  # at AKTO, ATLAS, AFDAS (section 0)
ROUTE_OF = {
    CommandKind.DOSSIER: "dossiers_post",
    CommandKind.CONVENTION: "conventions",
    CommandKind.CERTIFICAT: "certificats",
    CommandKind.FACTURE: "factures",
    CommandKind.RUPTURE: "rupture",
}


def sent_bytes(rig: Rig, opco: OpcoCode, command: NewCommand, numero: str, externe: str) -> bytes:
    """What the dispatcher builds for ``command`` (only to rewrite a golden file)."""
    assert isinstance(command.payload, CommandPayload)
    numeros = {command.dossier_id: numero}
    externes = {command.dossier_id: externe}
    quirks = rig.gateway.quirks(opco)
    data = command.payload.data
    body = build_call(command.kind, command.dossier_id, data, numeros, quirks, externes).body
    return wire.encode({"cerfa": body} if command.kind is CommandKind.DOSSIER else body)


def golden_bytes(name: str, computed: bytes, numero: str, externe: str) -> bytes:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        # the numeroExterne first: at ATLAS it holds the numeroInterne ("00" + its 7 digits)
        text = computed.replace(externe.encode(), EXTERNE)
        path.write_bytes(text.replace(numero.encode(), PLACEHOLDER) + b"\n")
    text = path.read_bytes().removesuffix(b"\n").replace(PLACEHOLDER, numero.encode())
    return text.replace(EXTERNE, externe.encode())


@pytest.mark.parametrize("opco", [OpcoCode.AKTO, OpcoCode.ATLAS, OpcoCode.AFDAS])
async def test_the_opco_receives_the_golden_bytes(rig: Rig, opco: OpcoCode) -> None:
    dispatcher = rig.dispatcher()
    d = rig.dossier(opco, start=rig.today - timedelta(days=2))
    commands = [await rig.send(d.event, opco)]
    commands.append(await rig.send(rig.gen.convention(d), opco))
    if rig.gateway.supports(opco, "certificats"):
        commands.append(await rig.send(rig.gen.certificat(d), opco))
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(opco, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(opco, numero)["echeances"] if e["numero"] == 1]
    rig.sim.advance(3)  # échéance 1 opens at the contract start
    facture = rig.gen.facture(
        [d], montants={d.dossier_id: min(100.0, float(e1["montantTotal"]))}, date_facture=d.start
    )
    commands.append(await rig.send(facture, opco))
    if rig.gateway.supports(opco, "rupture"):
        rupture = rig.gen.rupture(d, date_rupture=d.start + timedelta(days=1))
        commands.append(await rig.send(rupture, opco))
    await rig.settle(dispatcher)

    externe = rig.sim.dossier(opco, numero)["numeroExterne"]
    for command in commands:
        assert await rig.state(command) == "done", command.kind
        route = ROUTE_OF[command.kind]
        [record] = rig.sim.records(opco=opco.value, route=route)
        name = f"{opco.value.lower()}-{command.kind.value}.json"
        computed = sent_bytes(rig, opco, command, numero, externe)
        expected = hashlib.sha256(golden_bytes(name, computed, numero, externe)).hexdigest()
        if command.kind in MULTIPART:
            # the JSON part keeps the golden bytes; the file is the one the event names
            assert record["contentType"].startswith("multipart/form-data; boundary=")
            assert record["jsonSha256"] == expected, f"{opco.value} {route}: not golden/{name}"
            assert isinstance(command.payload, CommandPayload)
            ref = file_ref_of(command.payload.data)
            assert record["file"] == {
                "sha256": ref.sha256,
                "size": ref.size,
                "name": ref.fileName,
                "mediaType": "application/pdf",
            }
            continue
        assert record["contentType"] == "application/json"
        assert record["bodySha256"] == expected, (
            f"{opco.value} {route}: the bytes received are not golden/{name}"
        )


def file_ref_of(data: EventData) -> FileReference:
    ref = data.fichier if isinstance(data, ConventionSubmittedData) else None
    if isinstance(data, FactureSubmittedData):
        ref = data.facture.fichier
    assert ref is not None, "the generator gives conventions and factures their PDF"
    return ref


def test_the_golden_bytes_show_the_wire_forms() -> None:
    """What the golden files must show, in words (reviewed once; a rewrite that loses it fails)."""
    routes = {
        "akto": ("convention", "facture", "rupture"),
        "atlas": ("convention", "facture", "rupture"),
        "afdas": ("convention", "facture", "certificat"),
    }
    for opco, followups in routes.items():
        dossier = (GOLDEN / f"{opco}-dossier.json").read_bytes()
        assert dossier.startswith(b'{"cerfa":{')
        assert b'"codeIdcc":"' in dossier  # IDCC as 4-digit text
        assert b"T00:00:00+01:00" in dossier or b"T00:00:00+02:00" in dossier  # Paris midnight
        assert b"\\u" not in dossier  # UTF-8 as is, never ASCII-escaped
        # the three OPCOs' spelling (convergence-api.md 0, their profiles' quirks)
        assert b'"CERFAsignatureProbante":true' in dossier
        assert b'"dateFormationPratiqueEmployeur":"' in dossier
        assert b"CERFASignatureProbante" not in dossier
        assert b"dateDebutFormationPratique" not in dossier
        for route in followups:
            body = (GOLDEN / f"{opco}-{route}.json").read_bytes()
            assert b"T00:00:00+00:00" in body, route  # the follow-ups' dates: midnight UTC
            assert b": " not in body and b", " not in body  # compact separators
    for opco in routes:  # convergence-api.md 0's facture, the same at every OPCO
        facture = (GOLDEN / f"{opco}-facture.json").read_bytes()
        assert facture.startswith(b'{"montantTotal":')
        assert b'"numero":"FAC-' in facture and b'"ibanEmetteur":"FR' in facture
        assert b'"numeroDossier":"@NUMERO_EXTERNE@"' in facture  # the dossier's numeroExterne
        assert b'"estCertificatRealisation":false' in facture  # échéance 1
        assert b'"natureLigne":"PEDAGOGIE"' in facture and b'"codificationEcheance":1' in facture
