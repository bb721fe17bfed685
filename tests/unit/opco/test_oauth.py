"""AKTO: OAuth2 client credentials, cached until expires_in - 60 s, one refresh on 401."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.errors import AuthError, MissingCredentialsError, RetryableOpcoError
from tests.unit.opco.conftest import AKTO_SECRET, CFA, FakeClock, GatewayFactory, reply

TOKEN_PATH = "/AKTO/SorApiIdentityServer/connect/token"


class FakeAkto:
    """Issues numbered tokens; accepts only the tokens listed in ``valid``."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.issued = 0
        self.valid: set[str] = set()
        self.token_status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            if self.token_status != 200:
                return reply(self.token_status, {"error": "invalid_client"})
            self.issued += 1
            token = f"t{self.issued}"
            self.valid.add(token)
            body = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
            return reply(200, body)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid:
            return reply(401, {"message": "token invalide"})
        return reply(201, {"numeroInterne": "N1", "etat": "TRANSMIS"})


async def submit(gateway: object) -> object:
    return await gateway.submit_dossier(CFA, OpcoCode.AKTO, {"cerfa": {}})  # type: ignore[attr-defined]


async def test_token_form_and_bearer(make_gateway: GatewayFactory) -> None:
    akto = FakeAkto()
    gateway, recorder, _ = make_gateway(akto)
    await submit(gateway)
    token_request, call = recorder.requests
    assert str(token_request.url) == "http://127.0.0.1:8765/AKTO/SorApiIdentityServer/connect/token"
    assert token_request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["relais-client"],
        "client_secret": [AKTO_SECRET],
        "scope": ["api.read api.write"],
    }
    assert call.headers["Authorization"] == "Bearer t1"
    assert call.headers["X-API-KEY"].endswith("-AKTO")
    assert call.url.path == "/AKTO/SorApiEchangeCFA/v2/dossiers"


async def test_token_cached_until_expiry_minus_60s(
    make_gateway: GatewayFactory, clock: FakeClock
) -> None:
    akto = FakeAkto(expires_in=600)
    gateway, _, _ = make_gateway(akto)
    await submit(gateway)
    clock.advance(539)
    await submit(gateway)
    assert akto.issued == 1
    clock.advance(2)  # 541 s > 600 - 60
    await submit(gateway)
    assert akto.issued == 2


async def test_401_refreshes_once_and_retries(make_gateway: GatewayFactory) -> None:
    akto = FakeAkto()
    gateway, recorder, _ = make_gateway(akto)
    await submit(gateway)
    akto.valid.clear()  # the OPCO revoked every token (e.g. expired early)
    result = await submit(gateway)
    assert result.ids == {"numeroInterne": "N1"}  # type: ignore[attr-defined]
    assert akto.issued == 2
    assert [r.url.path for r in recorder.requests][-3:] == [
        "/AKTO/SorApiEchangeCFA/v2/dossiers",
        TOKEN_PATH,
        "/AKTO/SorApiEchangeCFA/v2/dossiers",
    ]


async def test_second_401_is_auth_error(make_gateway: GatewayFactory) -> None:
    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            return reply(200, {"access_token": "t", "expires_in": 3600})
        return reply(401, {"message": "token invalide"})

    gateway, recorder, _ = make_gateway(always_401)
    with pytest.raises(AuthError, match="401") as exc:
        await submit(gateway)
    assert exc.value.status == 401
    assert len([r for r in recorder.requests if r.url.path != TOKEN_PATH]) == 2


async def test_401_without_oauth_is_auth_error_at_once(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(lambda r: reply(401, {"message": "non autorisé"}))
    with pytest.raises(AuthError):
        await gateway.submit_dossier(CFA, OpcoCode.ATLAS, {"cerfa": {}})
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [400, 401])
async def test_refused_client_credentials(make_gateway: GatewayFactory, status: int) -> None:
    akto = FakeAkto()
    akto.token_status = status
    gateway, _, _ = make_gateway(akto)
    with pytest.raises(AuthError, match="client credentials refused") as exc:
        await submit(gateway)
    assert AKTO_SECRET not in str(exc.value)
    assert exc.value.messages == ("invalid_client",)


async def test_token_endpoint_down_is_retryable(make_gateway: GatewayFactory) -> None:
    akto = FakeAkto()
    akto.token_status = 503
    gateway, _, _ = make_gateway(akto)
    with pytest.raises(RetryableOpcoError):
        await submit(gateway)


async def test_token_endpoint_unreachable(make_gateway: GatewayFactory) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    gateway, _, _ = make_gateway(handler)
    with pytest.raises(RetryableOpcoError, match="oauth2 token: ConnectError"):
        await submit(gateway)


async def test_answer_without_token(make_gateway: GatewayFactory) -> None:
    gateway, _, _ = make_gateway(lambda r: reply(200, {"token_type": "Bearer"}))
    with pytest.raises(RetryableOpcoError, match="without access_token"):
        await submit(gateway)


async def test_a_token_that_cannot_be_a_header_is_retryable(make_gateway: GatewayFactory) -> None:
    """httpx would raise UnicodeEncodeError on such a bearer: only relais errors leave."""
    answer = {"access_token": "jéton", "token_type": "Bearer", "expires_in": 3600}
    gateway, recorder, _ = make_gateway(lambda r: reply(200, answer))
    with pytest.raises(RetryableOpcoError, match="not visible ASCII"):
        await submit(gateway)
    assert [r.url.path for r in recorder.requests] == [TOKEN_PATH]


async def test_token_answer_that_cannot_be_decoded(make_gateway: GatewayFactory) -> None:
    """A broken Content-Encoding raises httpx.DecodingError (a RequestError, not a
    TransportError): still a relais error."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    gateway, _, _ = make_gateway(handler)
    with pytest.raises(RetryableOpcoError, match="oauth2 token: DecodingError"):
        await submit(gateway)


async def test_missing_oauth_client(
    make_gateway: GatewayFactory,
) -> None:
    store = CredentialStore()
    store.add_key(CFA, OpcoCode.AKTO, "k")
    gateway, recorder, _ = make_gateway(FakeAkto(), store=store)
    assert not gateway.has_credentials(CFA, OpcoCode.AKTO)
    with pytest.raises(MissingCredentialsError):
        await submit(gateway)
    assert recorder.requests == []


async def test_concurrent_calls_share_one_token(make_gateway: GatewayFactory) -> None:
    import asyncio

    akto = FakeAkto()
    gateway, _, _ = make_gateway(akto)
    await asyncio.gather(*(submit(gateway) for _ in range(10)))
    assert akto.issued == 1


def test_token_url_follows_a_moved_base_url(profiles: dict, credentials: CredentialStore) -> None:
    from relais.adapters.opco.authorizer import token_url_of

    akto = profiles[OpcoCode.AKTO]

    def moved(base_url: str | None, override: str | None) -> str | None:
        return token_url_of(akto, base_url, override)

    assert moved(None, None) == "http://127.0.0.1:8765/AKTO/SorApiIdentityServer/connect/token"
    assert moved("http://127.0.0.1:4321/AKTO", None) == (
        "http://127.0.0.1:4321/AKTO/SorApiIdentityServer/connect/token"
    )
    assert moved("http://x/AKTO/SorApiEchangeCFA", "https://login.example/t") == (
        "https://login.example/t"
    )
    assert token_url_of(profiles[OpcoCode.OCAPIAT], "http://x", None) is None
