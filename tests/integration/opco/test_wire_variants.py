"""The client against the simulator in each OPCO's wire variant (convergence-api.md 0): multipart
conventions and factures with their PDF (checked by hash at the simulator), every error-body
shape normalized to ``OpcoErrorDetail`` (the auth gates' 403 too), etats answered as a top-level
array."""

from __future__ import annotations

import hashlib

import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain import wire
from relais.domain.opco import OpcoCode
from relais.domain.opco_errors import OpcoErrorDetail
from relais.errors import AuthError, NotFoundError, PermanentOpcoError
from tests.integration.opco.conftest import CFA, Rig
from tests.integration.simulator.helpers import facture_for

pytestmark = pytest.mark.integration


async def test_multipart_convention_and_facture_carry_their_pdf(rig: Rig) -> None:
    opco = OpcoCode.AKTO  # multipart per its profile, behind OAuth2 too
    assert rig.profiles[opco].transport.factures.multipart
    _, created = await rig.engaged(opco)
    numero, externe = created.ids["numeroInterne"], created.ids["numeroExterne"]
    convention = {"numeroInterneDossier": numero, "couts": {"coutTotalPedagogieCFA": 6000.5}}
    signed = await rig.pdf("convention-signee")
    await rig.gateway.submit_convention(CFA, opco, convention, signed)
    amount = (await rig.gateway.get_dossier(CFA, opco, numero))["echeances"][0]["montantTotal"]
    facture = facture_for("FAC-MP-1", externe, [(1, amount)], "FR7630006000011234567890189")
    invoice = await rig.pdf("FAC-MP-1")
    done = await rig.gateway.submit_facture(CFA, opco, facture, invoice)
    assert done.ids["numeroInterneFacture"]
    for route, body, title in (
        ("conventions", convention, "convention-signee"),
        ("factures", facture, "FAC-MP-1"),
    ):
        [record] = rig.created_records(opco, route)
        pdf = (rig.files / f"{title}.pdf").read_bytes()
        assert record["contentType"].startswith("multipart/form-data; boundary=")
        assert record["jsonSha256"] == hashlib.sha256(wire.encode(body)).hexdigest()
        assert record["file"] == {
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "size": len(pdf),
            "name": f"{title}.pdf",
            "mediaType": "application/pdf",
        }


async def test_a_multipart_route_without_its_file_is_never_called(rig: Rig) -> None:
    with pytest.raises(PermanentOpcoError, match="multipart"):
        await rig.gateway.submit_convention(CFA, OpcoCode.ATLAS, {"numeroInterneDossier": "1"})
    assert rig.sim.records(opco="ATLAS", route="conventions") == []


NOT_FOUND = "Dossier introuvable"


@pytest.mark.parametrize(
    ("opco", "expected"),
    [
        (OpcoCode.ATLAS, OpcoErrorDetail(None, NOT_FOUND, None)),  # {"description"}
        (OpcoCode.OPCOEP, OpcoErrorDetail(None, NOT_FOUND, None)),  # {"comment"}
        (OpcoCode.AKTO, OpcoErrorDetail("ERREUR", NOT_FOUND, None)),  # {"errors": [...]}
        (OpcoCode.OCAPIAT, OpcoErrorDetail(None, NOT_FOUND, None)),  # {"message", "errors"}
    ],
)
async def test_each_error_shape_is_normalized(
    rig: Rig, opco: OpcoCode, expected: OpcoErrorDetail
) -> None:
    with pytest.raises(NotFoundError) as exc:
        await rig.gateway.get_dossier(CFA, opco, "0000000")
    assert exc.value.details == (expected,)
    assert NOT_FOUND not in str(exc.value)  # the OPCO's text stays out of the error's text


@pytest.mark.parametrize(
    ("opco", "fields"),
    [
        (OpcoCode.AKTO, {"apprenti", "contrat"}),  # errors[] with champ
        (OpcoCode.OCAPIAT, {"apprenti", "contrat"}),
        (OpcoCode.ATLAS, set()),  # one description: the fields are only named in its text
    ],
)
async def test_field_errors_are_normalized(rig: Rig, opco: OpcoCode, fields: set[str]) -> None:
    cerfa = {"employeur": {"siret": "0" * 14}, "organismeFormation": {"siret": CFA}}
    with pytest.raises(PermanentOpcoError) as exc:
        await rig.gateway.submit_dossier(CFA, opco, {"cerfa": cerfa})
    assert exc.value.status == 400
    details = exc.value.details
    assert details and all(isinstance(d, OpcoErrorDetail) for d in details)
    assert {d.field for d in details if d.field} >= fields
    if not fields:
        [only] = details
        assert only.message is not None and "apprenti: " in only.message


async def test_etats_as_a_top_level_array(rig: Rig) -> None:
    opco = OpcoCode.MOBILITES
    assert rig.profiles[opco].etats.page_shape == "array"
    first = await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
    # one item: a top-level array of ONE etat, not a page wrapped in an array
    assert [e.numero_interne async for e in rig.gateway.dossier_etats(CFA, opco)] == [
        first.ids["numeroInterne"]
    ]
    numbers = {first.ids["numeroInterne"]}
    for _ in range(rig.profiles[opco].page_size + 2):  # more than a page: still one answer
        created = await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
        numbers.add(created.ids["numeroInterne"])
    etats = [e async for e in rig.gateway.dossier_etats(CFA, opco)]
    assert {e.numero_interne for e in etats} == numbers
    assert all(e.numero_externe for e in etats)
    assert len(rig.sim.records(opco=opco.value, route="dossiers_etats")) == 2


UNKNOWN_KEY = "Clé API CFA absente ou inconnue"


@pytest.mark.parametrize(
    ("opco", "expected"),
    [
        (OpcoCode.ATLAS, OpcoErrorDetail(None, UNKNOWN_KEY, None)),  # {"description"}
        (OpcoCode.OPCOEP, OpcoErrorDetail(None, UNKNOWN_KEY, None)),  # {"comment"}
        (OpcoCode.AKTO, OpcoErrorDetail("ERREUR", UNKNOWN_KEY, None)),  # {"errors": [...]}
        (OpcoCode.OCAPIAT, OpcoErrorDetail(None, UNKNOWN_KEY, None)),  # {"message", "errors"}
    ],
)
async def test_the_auth_gate_answers_in_the_opco_shape(
    rig: Rig, opco: OpcoCode, expected: OpcoErrorDetail
) -> None:
    """A good token, a wrong key: the 403 is in the OPCO's error shape, normalized the same."""
    store = CredentialStore()
    store.add_key(CFA, opco, "not-the-key")
    rig.sim.add_oauth_clients(store)
    gateway = rig.gateway_with(store=store)
    try:
        with pytest.raises(AuthError) as exc:
            await gateway.get_dossier(CFA, opco, "0000000")
    finally:
        await gateway.aclose()
    assert exc.value.status == 403
    assert exc.value.details == (expected,)
