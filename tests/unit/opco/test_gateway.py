"""HttpOpcoGateway over httpx.MockTransport: routes, headers, capabilities, errors, secrets."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.errors import (
    AmbiguousOpcoError,
    AuthError,
    ConfigurationError,
    MissingCredentialsError,
    NotFoundError,
    NotSupportedError,
    PermanentOpcoError,
    RelaisError,
    RetryableOpcoError,
)
from relais.services.opco_port import OpcoGateway
from tests.unit.opco.conftest import CFA, KEY, OTHER_CFA, GatewayFactory, reply

CERFA = {"employeur": {"siret": "11111111100011"}, "apprenti": {"nom": "Durand"}}


def created(request: httpx.Request) -> httpx.Response:
    return reply(201, {"numeroInterne": "N1", "numeroExterne": "E1", "etat": "TRANSMIS"})


def test_is_an_opco_gateway(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(created)
    port: OpcoGateway = gateway
    assert port is gateway


async def test_headers_and_body_of_a_dossier(make_gateway: GatewayFactory) -> None:
    gateway, recorder, observed = make_gateway(created)
    result = await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    assert result.ids == {"numeroInterne": "N1", "numeroExterne": "E1"}
    assert result.etat == "TRANSMIS"
    assert not result.duplicate
    (request,) = recorder.requests
    assert str(request.url) == "http://127.0.0.1:8765/AFDAS/v1/dossiers"
    assert request.headers["X-API-KEY"] == f"{KEY}-AFDAS"
    assert request.headers["EDITEUR"] == "Federation"
    assert request.headers["LOGICIEL"] == "relais"
    assert request.headers["VERSION"] == "0.1.0"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers
    assert json.loads(request.content) == {"cerfa": CERFA}
    assert observed.requests == [("AFDAS", "POST /v1/dossiers", "2xx", 0.0)]


async def test_v2_where_the_profile_has_it(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(created)
    await gateway.submit_dossier(CFA, OpcoCode.ATLAS, {"cerfa": CERFA})
    (request,) = recorder.requests
    assert request.url.path == "/ATLAS/SorApiEchangeCFA/v2/dossiers"
    assert json.loads(request.content) == {"cerfa": CERFA}  # not wrapped twice


async def test_each_cfa_its_own_key(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(created)
    with pytest.raises(MissingCredentialsError):
        await gateway.submit_dossier(OTHER_CFA, OpcoCode.AFDAS, CERFA)
    assert recorder.requests == []
    assert gateway.has_credentials(CFA, OpcoCode.AFDAS)
    assert not gateway.has_credentials(OTHER_CFA, OpcoCode.AFDAS)


@pytest.mark.parametrize(
    ("method", "opco", "path", "capability"),
    [
        # JSON at these OPCOs (multipart where the profile says: tests/unit/opco/test_multipart.py)
        (
            "submit_convention",
            OpcoCode.OCAPIAT,
            "/OCAPIAT/ApiEchangeCFA/v1/conventions",
            "conventions",
        ),
        (
            "submit_facture",
            OpcoCode.OPCOMMERCE,
            "/OPCOMMERCE/ApiEchangeCFA/v1/factures",
            "factures",
        ),
        ("submit_certificat", OpcoCode.AFDAS, "/AFDAS/v2/certificats", "certificats"),
        (
            "declare_rupture",
            OpcoCode.OCAPIAT,
            "/OCAPIAT/ApiEchangeCFA/v2/dossiers/rupture/employeur",
            "rupture",
        ),
    ],
)
async def test_creating_routes(
    make_gateway: GatewayFactory, method: str, opco: OpcoCode, path: str, capability: str
) -> None:
    gateway, recorder, _ = make_gateway(lambda r: reply(201, {"idConvention": "C9"}))
    body = {"numeroInterneDossier": "N1"}
    result = await getattr(gateway, method)(CFA, opco, body)
    assert result.ids == {"idConvention": "C9"}
    assert recorder.paths() == [f"POST {path}"]
    assert json.loads(recorder.requests[0].content) == body
    assert gateway.supports(opco, capability)


@pytest.mark.parametrize(
    ("method", "opco"),
    [
        ("submit_dossier", OpcoCode.SANTE),
        ("submit_convention", OpcoCode.SANTE),
        ("submit_facture", OpcoCode.UNIFORMATION),
        ("submit_certificat", OpcoCode.AKTO),
        ("declare_rupture", OpcoCode.AFDAS),
    ],
)
async def test_refused_locally_without_a_call(
    make_gateway: GatewayFactory, method: str, opco: OpcoCode
) -> None:
    gateway, recorder, _ = make_gateway(created)
    with pytest.raises(NotSupportedError, match=f"{opco.value} does not offer"):
        await getattr(gateway, method)(CFA, opco, {})
    assert recorder.requests == []


async def test_reads_refused_locally(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(created)
    with pytest.raises(NotSupportedError):
        [e async for e in gateway.facture_etats(CFA, OpcoCode.AFDAS)]
    with pytest.raises(NotSupportedError):
        [e async for e in gateway.dossier_etats(CFA, OpcoCode.SANTE)]
    with pytest.raises(NotSupportedError):
        await gateway.get_dossier(CFA, OpcoCode.SANTE, "N1")
    assert recorder.requests == []


def test_supports(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(created)
    assert gateway.supports(OpcoCode.AFDAS, "certificats")
    assert not gateway.supports(OpcoCode.ATLAS, "certificats")
    assert gateway.supports(OpcoCode.AFDAS, "dossiers")
    assert not gateway.supports(OpcoCode.SANTE, "dossiers")
    assert not gateway.supports(OpcoCode.AFDAS, "no_such_capability")
    assert not gateway.supports(OpcoCode.AFDAS, "model_config")


async def test_duplicate_is_done(make_gateway: GatewayFactory) -> None:
    body = {"message": "Dossier déjà transmis", "numeroInterne": "N0", "numeroExterne": "E0"}
    gateway, _, _ = make_gateway(lambda r: reply(409, body))
    result = await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    assert result.duplicate
    assert result.ids == {"numeroInterne": "N0", "numeroExterne": "E0"}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PermanentOpcoError),
        (422, PermanentOpcoError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (501, NotSupportedError),
        (500, RetryableOpcoError),
        (503, RetryableOpcoError),
        (429, RetryableOpcoError),
    ],
)
async def test_errors_carry_the_opco_messages(
    make_gateway: GatewayFactory, status: int, error: type[RelaisError]
) -> None:
    body = {"message": "Refusé", "errors": [{"champ": "contrat.dateDebutContrat", "code": "D1"}]}
    gateway, _, _ = make_gateway(lambda r: reply(status, body, {"Retry-After": "3"}))
    with pytest.raises(error) as exc:
        await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    assert type(exc.value) is error
    assert exc.value.messages == ("Refusé", "D1 contrat.dateDebutContrat")  # type: ignore[attr-defined]
    assert exc.value.status == status  # type: ignore[attr-defined]
    if isinstance(exc.value, RetryableOpcoError):
        assert exc.value.retry_after == 3.0


def raising(exc_type: type[httpx.RequestError]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return handler


@pytest.mark.parametrize(
    ("exc_type", "ambiguous", "status_class"),
    [
        (httpx.ConnectError, False, "error"),
        (httpx.ConnectTimeout, False, "timeout"),
        (httpx.PoolTimeout, False, "timeout"),
        (httpx.WriteTimeout, True, "timeout"),
        (httpx.WriteError, True, "error"),
        (httpx.ReadTimeout, True, "timeout"),
        (httpx.ReadError, True, "error"),
        (httpx.RemoteProtocolError, True, "error"),
    ],
)
async def test_transport_failures(
    make_gateway: GatewayFactory,
    exc_type: type[httpx.RequestError],
    ambiguous: bool,
    status_class: str,
) -> None:
    gateway, _, observed = make_gateway(raising(exc_type))
    with pytest.raises(RetryableOpcoError) as on_post:
        await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    assert isinstance(on_post.value, AmbiguousOpcoError) is ambiguous
    with pytest.raises(RetryableOpcoError) as on_get:
        await gateway.get_dossier(CFA, OpcoCode.AFDAS, "N1")
    assert not isinstance(on_get.value, AmbiguousOpcoError)
    assert observed.requests[0][2] == status_class
    assert not isinstance(on_post.value.__cause__, httpx.HTTPError)
    assert on_post.value.__suppress_context__ or on_post.value.__context__ is None


async def test_bad_base_url_is_configuration(
    make_gateway: GatewayFactory, profiles: Any, credentials: CredentialStore
) -> None:
    from relais.adapters.opco import HttpOpcoGateway

    gateway = HttpOpcoGateway(
        profiles,
        credentials,
        editeur="e",
        logiciel="l",
        version="v",
        base_urls={OpcoCode.AFDAS: "ftp://nowhere/ApiEchangeCFA"},
    )
    try:
        with pytest.raises(ConfigurationError):
            await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    finally:
        await gateway.aclose()


def test_headers_must_be_ascii(profiles: Any, credentials: CredentialStore) -> None:
    from relais.adapters.opco import HttpOpcoGateway

    with pytest.raises(ConfigurationError, match="EDITEUR"):
        HttpOpcoGateway(profiles, credentials, editeur="Fédération", logiciel="l", version="1")


async def test_no_secret_in_errors_or_reprs(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(lambda r: reply(403, {"message": "clé API CFA invalide"}))
    with pytest.raises(AuthError) as exc:
        await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    shown = f"{exc.value!s} {exc.value!r} {exc.value.messages} {gateway!r}"
    assert KEY not in shown
    assert "Durand" not in shown  # nor the personal data we sent
    assert exc.value.messages == ("clé API CFA invalide",)


async def test_get_dossier_normalises_quirks(make_gateway: GatewayFactory) -> None:
    detail = [
        {
            "cerfa": {"numeroInterne": "N1", "etat": "ENGAGE"},
            "engagementsFraisAnnexe": [{"natureFrais": "Restauration", "montantTotal": 10}],
            "detailsFacturation": {"IBAN": "FR7612345", "periodesFraisAnnexes": []},
        }
    ]
    gateway, recorder, _ = make_gateway(lambda r: reply(200, detail))
    result = await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
    assert recorder.requests[0].url.path == "/ATLAS/SorApiEchangeCFA/v2/dossiers"
    assert recorder.requests[0].url.params["numeroInterne"] == "N1"
    assert result["engagementsFraisAnnexe"][0]["natureFrais"] == "RESTAURATION"
    assert result["detailsFacturation"]["iban"] == "FR7612345"
    assert "IBAN" not in result["detailsFacturation"]


async def test_get_dossier_v1_and_404(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(lambda r: reply(404, {"message": "Dossier inconnu"}))
    with pytest.raises(NotFoundError) as exc:
        await gateway.get_dossier(CFA, OpcoCode.AFDAS, "N404")
    assert exc.value.messages == ("Dossier inconnu",)  # the OPCO's text: never in str(error)
    assert "Dossier inconnu" not in str(exc.value)
    assert recorder.requests[0].url.path == "/AFDAS/v1/dossiers"


async def test_key_info(make_gateway: GatewayFactory) -> None:
    body = {"status": "success", "dateFinValidite": "2027-01-31T00:00:00+0000", "comment": ""}
    gateway, recorder, _ = make_gateway(lambda r: reply(200, body))
    info = await gateway.key_info(CFA, OpcoCode.OPCO2I)
    assert info.valid
    assert str(info.date_fin_validite) == "2027-01-31"
    assert recorder.requests[0].url.path == "/OPCO2I/ApiEchangeCFA/v2/cfakeyinfo"


async def test_key_info_past_date_or_error_status(make_gateway: GatewayFactory) -> None:
    answers = iter(
        [
            {"status": "success", "dateFinValidite": "2026-11-26"},
            {"status": "error", "comment": "clé révoquée"},
        ]
    )
    gateway, _, _ = make_gateway(lambda r: reply(200, next(answers)))
    past = await gateway.key_info(CFA, OpcoCode.AFDAS)
    assert not past.valid
    revoked = await gateway.key_info(CFA, OpcoCode.AFDAS)
    assert not revoked.valid
    assert revoked.comment == "clé révoquée"


async def test_key_info_refused_key(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(lambda r: reply(403, {"message": "clé API CFA expirée"}))
    info = await gateway.key_info(CFA, OpcoCode.AFDAS)
    assert not info.valid
    assert info.comment == "clé API CFA expirée"


@pytest.mark.parametrize("bad_key", ["clé-afdas", "key with space", "key\r\nX-Injected: 1", "\t"])
async def test_a_key_that_is_no_header_value_is_configuration(
    make_gateway: GatewayFactory, bad_key: str
) -> None:
    """Only relais errors leave the client: httpx would raise UnicodeEncodeError (or send a
    broken header) for such a key; nothing is sent and the key does not show in the error."""
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.AFDAS, bad_key)
    gateway, recorder, _ = make_gateway(created, store=store)
    with pytest.raises(ConfigurationError) as exc:
        await gateway.submit_dossier(CFA, OpcoCode.AFDAS, CERFA)
    assert recorder.requests == []
    assert bad_key not in str(exc.value) and "AFDAS" in str(exc.value)
    assert gateway.breaker_state(OpcoCode.AFDAS) == "closed"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), object(), {1, 2}], ids=["nan", "inf", "object", "set"]
)
async def test_a_body_that_is_not_json_is_permanent_without_a_call(
    make_gateway: GatewayFactory, value: Any
) -> None:
    gateway, recorder, _ = make_gateway(created)
    with pytest.raises(PermanentOpcoError, match="not valid JSON") as exc:
        await gateway.submit_dossier(CFA, OpcoCode.AFDAS, {"cerfa": {**CERFA, "x": value}})
    assert not isinstance(exc.value, RetryableOpcoError)
    assert recorder.requests == []
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
