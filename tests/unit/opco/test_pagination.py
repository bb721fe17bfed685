"""Paging through etats listings (v2 numeroPage, v1 fallback, AKTO wrapping) and the lookups
that resolve an ambiguous creation (find_dossier, find_facture)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relais.adapters.opco.pages import paginate, parse_page
from relais.domain.opco import OpcoCode
from relais.errors import PermanentOpcoError, RetryableOpcoError
from relais.services.opco_port import DossierEtat, DossierNaturalKey
from tests.unit.opco.conftest import CFA, GatewayFactory, reply, with_token


def etat(n: int, state: str = "ENGAGE") -> dict[str, Any]:
    return {"numeroInterne": f"N{n}", "numeroExterne": f"E{n}", "numeroDeca": None, "etat": state}


def paged(
    items: list[dict[str, Any]], size: int, *, key: str = "EtatDossierResult", wrap: bool = False
) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("numeroPage", "1"))
        chunk = items[(number - 1) * size : number * size]
        body: Any = {"total": len(items), "count": len(chunk), "page": number, key: chunk}
        return reply(200, [body] if wrap else body)

    return handler


@pytest.mark.parametrize("wrap", [False, True])
async def test_v2_pages_until_total(make_gateway: GatewayFactory, wrap: bool) -> None:
    items = [etat(i) for i in range(7)]
    gateway, recorder, _ = make_gateway(with_token(paged(items, 3, wrap=wrap)))
    got = [e async for e in gateway.dossier_etats(CFA, OpcoCode.AKTO)]
    assert [e.numero_interne for e in got] == [f"N{i}" for i in range(7)]
    assert got[0] == DossierEtat("N0", "E0", None, "ENGAGE")
    calls = recorder.requests[1:]  # after the token
    assert [r.url.params["numeroPage"] for r in calls] == ["1", "2", "3"]
    assert {r.url.path for r in calls} == {"/AKTO/SorApiEchangeCFA/v2/dossiers/etats"}


async def test_stops_on_empty_page_without_total(make_gateway: GatewayFactory) -> None:
    pages = {1: [etat(1), etat(2)], 2: [etat(3), etat(4)], 3: []}

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["numeroPage"])
        return reply(200, {"page": number, "EtatDossierResult": pages[number]})

    gateway, recorder, _ = make_gateway(
        handler, profile_overrides={OpcoCode.ATLAS: {"page_size": 2}}
    )
    got = [e.numero_interne async for e in gateway.dossier_etats(CFA, OpcoCode.ATLAS)]
    assert got == ["N1", "N2", "N3", "N4"]
    assert len(recorder.requests) == 3


async def test_short_page_without_total_ends(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(lambda r: reply(200, {"EtatDossierResult": [etat(1)]}))
    got = [e async for e in gateway.dossier_etats(CFA, OpcoCode.ATLAS)]
    assert len(got) == 1
    assert len(recorder.requests) == 1


async def test_repeated_page_is_an_error(make_gateway: GatewayFactory) -> None:
    body = {"total": 10, "count": 2, "page": 1, "EtatDossierResult": [etat(1), etat(2)]}
    gateway, recorder, _ = make_gateway(lambda r: reply(200, body))
    with pytest.raises(PermanentOpcoError, match="page 2 repeats page 1"):
        [e async for e in gateway.dossier_etats(CFA, OpcoCode.ATLAS)]
    assert len(recorder.requests) == 2


async def test_v1_fallback_bare_list(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(lambda r: reply(200, [etat(1), etat(2, "TRANSMIS")]))
    got = [e async for e in gateway.dossier_etats(CFA, OpcoCode.AFDAS)]
    assert [e.etat for e in got] == ["ENGAGE", "TRANSMIS"]
    assert recorder.paths() == ["GET /AFDAS/v1/dossiers/etats"]


async def test_v1_paged_like_v2(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(paged([etat(i) for i in range(5)], 2))
    got = [e async for e in gateway.dossier_etats(CFA, OpcoCode.UNIFORMATION)]
    assert len(got) == 5
    assert recorder.paths()[0] == "GET /UNIFORMATION/ApiEchangeCFA/v1/dossiers/etats"


async def test_error_mid_pagination_propagates(make_gateway: GatewayFactory) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["numeroPage"] == "2":
            return reply(503, {"message": "indisponible"}, {"Retry-After": "4"})
        return reply(200, {"total": 4, "EtatDossierResult": [etat(1), etat(2)]})

    gateway, _, _ = make_gateway(handler)
    seen: list[str] = []
    with pytest.raises(RetryableOpcoError) as exc:
        async for e in gateway.dossier_etats(CFA, OpcoCode.ATLAS):
            seen.append(e.numero_interne)
    assert seen == ["N1", "N2"]
    assert exc.value.retry_after == 4.0


def test_parse_page_shapes() -> None:
    assert parse_page({"total": 0, "count": 0, "page": 1}, "factures").items == []
    assert parse_page({"Factures": [{"a": 1}]}, "factures").items == [{"a": 1}]
    with pytest.raises(PermanentOpcoError, match="lacks factures"):
        parse_page({"total": 3}, "factures")
    with pytest.raises(PermanentOpcoError, match="not an object"):
        parse_page("oops", "factures")
    assert parse_page({"total": True, "factures": []}, "factures").total is None


FACTURES = [
    {
        "numeroInterneFacture": "F1",
        "referenceFactureCFA": "CFA-2026-001",
        "montantFacture": 1200.0,
        "etatFacture": "regle",
        "organismeFormation": {"siret": "1", "IBAN": "FR76"},
        "dossiers": [],
    },
    {
        "numeroInterneFacture": "F2",
        "referenceFactureCFA": "CFA-2026-002",
        "etatFacture": "TRANSMIS",
    },
]


async def test_facture_etats_akto_quirks(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(with_token(paged(FACTURES, 1, key="factures", wrap=True)))
    got = [f async for f in gateway.facture_etats(CFA, OpcoCode.AKTO)]
    assert [f.numero_interne_facture for f in got] == ["F1", "F2"]
    assert got[0].etat == "REGLE"
    assert got[0].body["organismeFormation"] == {"siret": "1", "iban": "FR76"}
    assert recorder.paths()[1] == "GET /AKTO/SorApiEchangeCFA/v2/factures/etats"


async def test_find_facture(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(paged(FACTURES, 1, key="factures"))
    found = await gateway.find_facture(CFA, OpcoCode.ATLAS, "CFA-2026-002")
    assert found is not None
    assert found.ids == {"numeroInterneFacture": "F2", "referenceFactureCFA": "CFA-2026-002"}
    assert found.duplicate
    assert found.etat == "TRANSMIS"
    assert await gateway.find_facture(CFA, OpcoCode.ATLAS, "CFA-2026-999") is None


async def test_find_facture_without_read_route(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(paged(FACTURES, 1, key="factures"))
    assert await gateway.find_facture(CFA, OpcoCode.AFDAS, "CFA-2026-001") is None
    assert recorder.requests == []


KEY = DossierNaturalKey(
    employeur_siret="11111111100011",
    apprenti_nom="Lefèvre",
    apprenti_prenom="Jean-Luc",
    apprenti_date_naissance=date(2007, 3, 14),
    date_debut_contrat=date(2026, 9, 1),
)


def cerfa(n: int, *, nom: str = "Martin", siret: str = "11111111100011") -> dict[str, Any]:
    return {
        "cerfa": {
            "numeroInterne": f"N{n}",
            "employeur": {"siret": siret},
            "apprenti": {"nom": nom, "prenom": "jean luc", "dateNaissance": "2007-03-14"},
            "contrat": {"dateDebutContrat": "2026-09-01T00:00:00+0000"},
        }
    }


class FakeListing:
    """etats + dossiers/liste + dossiers?numeroInterne over a few dossiers; N3 is ours."""

    def __init__(self) -> None:
        self.etats = [etat(1), etat(2, "REFUSE"), etat(3, "TRANSMIS"), etat(4, "ENGAGE")]
        self.details = {
            "N1": cerfa(1),
            "N2": cerfa(2, nom="LEFEVRE", siret="22222222200022"),
            "N3": cerfa(3, nom="LEFEVRE"),
            "N4": cerfa(4),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.split("/", 2)[2]  # after /<OPCO>/
        path = path.split("SorApiEchangeCFA/", 1)[-1]  # and its base path, if it has one
        if path.endswith("dossiers/etats"):
            return reply(200, {"total": len(self.etats), "EtatDossierResult": self.etats})
        if path == "v1/dossiers/liste":
            wanted = request.url.params["numerosInternes"].split(",")
            return reply(200, [self.details[n] for n in wanted if n in self.details])
        if path.endswith("dossiers"):
            numero = request.url.params["numeroInterne"]
            if numero not in self.details:
                return reply(404, {"message": "inconnu"})
            return reply(200, self.details[numero])
        return reply(500)


async def test_find_dossier_through_liste(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(FakeListing())
    found = await gateway.find_dossier(CFA, OpcoCode.ATLAS, KEY)
    assert found is not None
    assert found.ids == {"numeroInterne": "N3", "numeroExterne": "E3"}
    assert found.duplicate
    assert found.etat == "TRANSMIS"
    liste = [r for r in recorder.requests if r.url.path.endswith("liste")]
    assert liste[0].url.params["numerosInternes"].split(",")[0] == "N3"  # fresh ones first


async def test_find_dossier_through_details(make_gateway: GatewayFactory) -> None:
    listing = FakeListing()
    listing.etats.append(etat(9, "TRANSMIS"))  # listed but vanished: 404 is skipped
    gateway, recorder, _ = make_gateway(
        listing, profile_overrides={OpcoCode.ATLAS: {"capabilities": _caps(dossiers_liste=False)}}
    )
    found = await gateway.find_dossier(CFA, OpcoCode.ATLAS, KEY)
    assert found is not None
    assert found.ids["numeroInterne"] == "N3"
    assert not any(r.url.path.endswith("liste") for r in recorder.requests)


async def test_find_dossier_not_found(make_gateway: GatewayFactory) -> None:
    listing = FakeListing()
    del listing.details["N3"]
    listing.etats.pop(2)
    gateway, _, _ = make_gateway(listing)
    assert await gateway.find_dossier(CFA, OpcoCode.AFDAS, KEY) is None


async def test_find_dossier_other_birth_date(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(FakeListing())
    other = DossierNaturalKey(
        KEY.employeur_siret,
        KEY.apprenti_nom,
        KEY.apprenti_prenom,
        date(2007, 3, 15),
        KEY.date_debut_contrat,
    )
    assert await gateway.find_dossier(CFA, OpcoCode.ATLAS, other) is None


async def test_find_dossier_where_nothing_can_be_read(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(FakeListing())
    assert await gateway.find_dossier(CFA, OpcoCode.SANTE, KEY) is None
    assert recorder.requests == []


def _caps(**changes: bool) -> Any:
    from relais.domain.profiles import Capabilities

    base = {"dossiers_v2": True, "factures_etats": True, "rupture": True}
    return Capabilities(**{**base, **changes})


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=40),
    size=st.integers(min_value=1, max_value=12),
    wrap=st.booleans(),
    with_total=st.booleans(),
)
async def test_paging_collects_everything_once(
    total: int, size: int, wrap: bool, with_total: bool
) -> None:
    items = [etat(i) for i in range(total)]
    fetched: list[int] = []

    async def fetch(number: int) -> Any:
        fetched.append(number)
        chunk = items[(number - 1) * size : number * size]
        body: dict[str, Any] = {"page": number, "EtatDossierResult": chunk}
        if with_total:
            body["total"] = total
        return [body] if wrap else body

    got = [item async for item in paginate(fetch, "EtatDossierResult", page_size=size)]
    assert got == items
    assert fetched == list(range(1, len(fetched) + 1))
    assert len(fetched) <= total // size + 2


def test_a_one_element_array_is_a_wrapped_page_only_when_it_holds_a_page() -> None:
    """convergence-api.md 0: ``dossiers/etats`` may answer a top-level array of items; an array
    of ONE item is that item, not a page wrapped in an array (the older AKTO quirk)."""
    item = {"numeroInterne": "1234567", "numeroDeca": "054202612010001", "etat": "ENGAGE"}
    page = {"total": 1, "count": 1, "page": 1, "EtatDossierResult": [item]}
    for shape in ("object", "wrapped_object", "array"):
        bare = parse_page([item], "EtatDossierResult", shape=shape)
        assert (bare.items, bare.paged) == ([item], False)
    wrapped = parse_page([page], "EtatDossierResult", shape="wrapped_object")
    assert (wrapped.items, wrapped.total, wrapped.paged) == ([item], 1, True)
