"""Every route of the wire contract, through the client, against the real simulator; every OPCO's
capability set (a route the profile lacks is refused without a call)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.errors import NotFoundError, NotSupportedError, PermanentOpcoError
from tests.integration.opco.conftest import CFA, Rig, natural_key
from tests.integration.simulator.helpers import facture_for

IBAN = "FR7630006000011234567890189"
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("opco", [OpcoCode.AFDAS, OpcoCode.ATLAS, OpcoCode.AKTO])
async def test_dossier_lifecycle_reads(rig: Rig, opco: OpcoCode) -> None:
    d = rig.dossier(opco)
    created = await rig.gateway.submit_dossier(CFA, opco, d.cerfa)
    assert created.etat == "TRANSMIS"
    assert not created.duplicate
    numero = created.ids["numeroInterne"]
    version = "v2" if rig.profiles[opco].capabilities.dossiers_v2 else "v1"
    (record,) = rig.created_records(opco, "dossiers_post")
    assert record["version"] == version

    etats = [e async for e in rig.gateway.dossier_etats(CFA, opco)]
    assert [(e.numero_interne, e.etat) for e in etats] == [(numero, "TRANSMIS")]
    assert etats[0].numero_externe == created.ids["numeroExterne"]

    detail = await rig.gateway.get_dossier(CFA, opco, numero)
    assert detail["cerfa"]["numeroInterne"] == numero
    assert detail["cerfa"]["apprenti"]["nom"] == d.cerfa["apprenti"]["nom"]

    again = await rig.gateway.submit_dossier(CFA, opco, d.cerfa)
    assert again.duplicate
    assert again.ids == created.ids

    found = await rig.gateway.find_dossier(CFA, opco, natural_key(d))
    assert found is not None
    assert found.ids == created.ids


async def test_akto_quirks_are_undone(rig: Rig) -> None:
    d, created = await rig.engaged(OpcoCode.AKTO)
    numero = created.ids["numeroInterne"]
    detail = await rig.gateway.get_dossier(CFA, OpcoCode.AKTO, numero)
    assert "IBAN" not in detail["detailsFacturation"]
    assert "iban" in detail["detailsFacturation"]
    natures = [f["natureFrais"] for f in detail["engagementsFraisAnnexe"]]
    assert natures == [n.upper() for n in natures]
    assert detail["echeances"]
    etats = [e async for e in rig.gateway.dossier_etats(CFA, OpcoCode.AKTO)]  # wrapped pages
    assert [e.etat for e in etats] == ["ENGAGE"]
    assert d.cerfa["contrat"]["dateDebutContrat"] == rig.today.isoformat()


async def test_pagination_over_several_pages(rig: Rig) -> None:
    opco = OpcoCode.OCAPIAT
    size = rig.profiles[opco].page_size
    # Pages of the real page size would need > 50 dossiers: move the simulator's page size down
    # is not possible, so create page_size + 3 dossiers (fast: no network latency).
    numbers = set()
    for _ in range(size + 3):
        created = await rig.gateway.submit_dossier(CFA, opco, rig.dossier(opco).cerfa)
        numbers.add(created.ids["numeroInterne"])
    etats = [e.numero_interne async for e in rig.gateway.dossier_etats(CFA, opco)]
    assert sorted(etats) == sorted(numbers)
    pages = [r for r in rig.sim.records(opco=opco.value, route="dossiers_etats")]
    assert len(pages) == 2


async def test_follow_up_routes(rig: Rig) -> None:
    opco = OpcoCode.AFDAS
    _, created = await rig.engaged(opco)
    numero = created.ids["numeroInterne"]

    signed = await rig.pdf("convention")  # AFDAS takes conventions and factures as multipart
    convention = await rig.gateway.submit_convention(
        CFA,
        opco,
        {"numeroInterneDossier": numero, "couts": {"coutTotalPedagogieCFA": 6000}},
        signed,
    )
    assert set(convention.ids) >= {"idConvention", "numeroInterneDossier"}
    again = await rig.gateway.submit_convention(CFA, opco, {"numeroInterneDossier": numero}, signed)
    assert again.duplicate
    assert again.ids["idConvention"] == convention.ids["idConvention"]

    # the convention's costs may change the échéancier: read it now
    first = (await rig.gateway.get_dossier(CFA, opco, numero))["echeances"][0]

    externe = created.ids["numeroExterne"]
    facture_body = facture_for("FAC-2026-0001", externe, [(1, first["montantTotal"])], IBAN)
    pdf = await rig.pdf()
    facture = await rig.gateway.submit_facture(CFA, opco, facture_body, pdf)
    assert facture.ids["referenceFactureCFA"] == "FAC-2026-0001"
    assert facture.etat == "TRANSMIS"
    duplicate = await rig.gateway.submit_facture(CFA, opco, facture_body, pdf)
    assert duplicate.duplicate
    assert duplicate.ids["numeroInterneFacture"] == facture.ids["numeroInterneFacture"]

    certificat = await rig.gateway.submit_certificat(
        CFA, opco, {"numeroInterneDossier": numero, "echeance": {"numero": 1}}
    )
    assert "idCertificat" in certificat.ids


@pytest.mark.parametrize("opco", [OpcoCode.OCAPIAT, OpcoCode.ATLAS])
async def test_a_document_in_the_profiles_transport(rig: Rig, opco: OpcoCode) -> None:
    """OCAPIAT takes documents as JSON (the file in base64 and nomFichier), ATLAS as multipart
    (infosFichier + fichier): the file arrives whole either way; the same file again is the
    OPCO's 409 with the existing numeroInterneDocument."""
    multipart = rig.profiles[opco].transport.documents.multipart
    assert multipart is (opco is OpcoCode.ATLAS)
    _, created = await rig.engaged(opco)
    numero = created.ids["numeroInterne"]
    infos = {
        "typeFichier": "CONVENTION_FORMATION",
        "objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero}],
    }
    pdf = await rig.pdf("convention")
    document = await rig.gateway.submit_document(CFA, opco, infos, pdf)
    (record,) = rig.sim.records(opco=opco.value, route="documents")
    assert record["status"] == 200
    assert document.ids == {"numeroInterneDocument": record["ids"]["numeroInterneDocument"]}
    [stored] = rig.sim.documents(opco=opco.value)
    assert stored["fileName"] == pdf.name and stored["size"] == pdf.size
    again = await rig.gateway.submit_document(CFA, opco, infos, pdf)
    assert again.duplicate and again.ids == document.ids
    assert len(rig.sim.documents(opco=opco.value)) == 1


async def test_facture_etats_and_find_facture(rig: Rig) -> None:
    opco = OpcoCode.ATLAS
    _, created = await rig.engaged(opco)
    numero = created.ids["numeroInterne"]
    amount = (await rig.gateway.get_dossier(CFA, opco, numero))["echeances"][0]["montantTotal"]
    body = facture_for("FAC-ATLAS-7", created.ids["numeroExterne"], [(1, amount)], IBAN)
    facture = await rig.gateway.submit_facture(CFA, opco, body, await rig.pdf())
    etats = [f async for f in rig.gateway.facture_etats(CFA, opco)]
    assert [(f.numero_interne_facture, f.reference_facture_cfa) for f in etats] == [
        (facture.ids["numeroInterneFacture"], "FAC-ATLAS-7")
    ]
    assert etats[0].body["organismeFormation"]["iban"] == "FR7630006000011234567890189"
    found = await rig.gateway.find_facture(CFA, opco, "FAC-ATLAS-7")
    assert found is not None
    assert found.ids["numeroInterneFacture"] == facture.ids["numeroInterneFacture"]
    assert await rig.gateway.find_facture(CFA, opco, "FAC-UNKNOWN") is None


async def test_rupture(rig: Rig) -> None:
    opco = OpcoCode.MOBILITES
    _, created = await rig.engaged(opco)
    numero = created.ids["numeroInterne"]
    body = {
        "numeroInterne": numero,
        "dateRupture": f"{(rig.today + timedelta(days=20)).isoformat()}T00:00:00+00:00",
        "motif": "commun accord",
    }
    result = await rig.gateway.declare_rupture(CFA, opco, body)
    assert result.etat == "RUPTURE"
    assert result.ids["numeroInterne"] == numero
    etats = [e async for e in rig.gateway.dossier_etats(CFA, opco)]
    assert etats[0].etat == "RUPTURE"


async def test_key_info(rig: Rig) -> None:
    info = await rig.gateway.key_info(CFA, OpcoCode.UNIFORMATION)
    assert info.valid
    assert str(info.date_fin_validite) == "2099-12-31"


async def test_validation_errors_are_permanent_with_messages(rig: Rig) -> None:
    cerfa = rig.dossier(OpcoCode.ATLAS).cerfa
    del cerfa["apprenti"]["nom"]
    with pytest.raises(PermanentOpcoError) as exc:
        await rig.gateway.submit_dossier(CFA, OpcoCode.ATLAS, cerfa)
    assert exc.value.status == 400
    assert any("apprenti.nom" in m for m in exc.value.messages)


async def test_unknown_dossier_is_not_found(rig: Rig) -> None:
    with pytest.raises(NotFoundError):
        await rig.gateway.get_dossier(CFA, OpcoCode.AFDAS, "999999999")
    with pytest.raises(NotFoundError):
        await rig.gateway.submit_convention(
            CFA, OpcoCode.AFDAS, {"numeroInterneDossier": "999999999"}, await rig.pdf()
        )


ROUTE_CALLS: dict[str, tuple[str, str]] = {
    # capability -> (gateway method, simulator route name)
    "conventions": ("submit_convention", "conventions"),
    "factures": ("submit_facture", "factures"),
    "certificats": ("submit_certificat", "certificats"),
    "documents": ("submit_document", "documents"),
    "rupture": ("declare_rupture", "rupture"),
}


@pytest.mark.parametrize("opco", list(OpcoCode))
async def test_capability_sets(rig: Rig, opco: OpcoCode) -> None:
    """A route the profile lacks: NotSupportedError and no request. A route it has: the request
    reaches the simulator (whatever its verdict on the empty body, never 501)."""
    caps = rig.profiles[opco].capabilities
    for capability, (method, route) in ROUTE_CALLS.items():
        call: Any = getattr(rig.gateway, method)
        before = len(rig.sim.records(opco=opco.value, route=route))
        with_file = ("submit_convention", "submit_facture", "submit_document")
        file = (await rig.pdf(),) if method in with_file else ()
        if caps.has(capability):  # type: ignore[arg-type]
            with pytest.raises(PermanentOpcoError) as exc:
                await call(CFA, opco, {}, *file)
            assert not isinstance(exc.value, NotSupportedError), (opco, capability)
            assert exc.value.status == 400, (opco, capability)
            assert len(rig.sim.records(opco=opco.value, route=route)) == before + 1
        else:
            with pytest.raises(NotSupportedError):
                await call(CFA, opco, {}, *file)
            assert len(rig.sim.records(opco=opco.value, route=route)) == before
    has_dossiers = caps.dossiers_v1 or caps.dossiers_v2
    assert rig.gateway.supports(opco, "dossiers") is has_dossiers
    if not has_dossiers:
        with pytest.raises(NotSupportedError):
            await rig.gateway.submit_dossier(CFA, opco, rig.dossier(OpcoCode.AFDAS).cerfa)
        assert rig.sim.records(opco=opco.value, route="dossiers_post") == []
    if not caps.factures_etats:
        assert await rig.gateway.find_facture(CFA, opco, "X") is None
        assert rig.sim.records(opco=opco.value, route="factures_etats") == []
    if not caps.dossiers_etats:
        assert await rig.gateway.find_dossier(CFA, opco, natural_key(rig.dossier(opco))) is None


async def test_simulator_501_when_the_profile_is_wrong(rig: Rig) -> None:
    """If relais's profile claims a route the OPCO lacks, the OPCO's 501 is NotSupportedError."""
    profiles = dict(rig.profiles)
    caps = profiles[OpcoCode.ATLAS].capabilities.model_copy(update={"certificats": True})
    profiles[OpcoCode.ATLAS] = profiles[OpcoCode.ATLAS].model_copy(update={"capabilities": caps})
    gateway = rig.gateway_with(profiles=profiles)
    try:
        with pytest.raises(NotSupportedError) as exc:
            await gateway.submit_certificat(CFA, OpcoCode.ATLAS, {})
        assert exc.value.status == 501
        assert exc.value.messages == ("Route non implémentée par cet OPCO",)
    finally:
        await gateway.aclose()
