"""DPoP proofs (RFC 9449) as the client signs them, and the token server's nonce answered once."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
from joserfc import jws
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from relais.adapters.credentials import OAuthClient
from relais.adapters.opco.dpop import REGISTRY, DpopSigner
from relais.adapters.opco.oauth import OAuthTokenProvider
from relais.demo.processes import new_dpop_key
from tests.unit.opco.conftest import FakeClock

PEM = new_dpop_key("RS256").decode()
TOKEN_URL = "https://okta.example/oauth2/default/v1/token"


def decode(proof: str) -> tuple[dict[str, object], dict[str, object]]:
    header = RSAKey.import_key(json.loads(_part(proof, 0))["jwk"])
    token = jws.deserialize_compact(proof, header, registry=REGISTRY)
    return json.loads(_part(proof, 0)), json.loads(token.payload)


def _part(proof: str, n: int) -> bytes:
    raw = proof.split(".")[n]
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def test_a_proof_names_the_call_and_carries_the_public_key_only() -> None:
    signer = DpopSigner(PEM, "RS256", FakeClock())
    header, claims = decode(signer.proof("get", "https://x.example/v1/status?numeroPage=2#f"))
    assert header["typ"] == "dpop+jwt" and header["alg"] == "RS256"
    assert set(header["jwk"]) == {"kty", "n", "e"}  # type: ignore[arg-type]
    assert claims["htm"] == "GET" and claims["htu"] == "https://x.example/v1/status"
    assert isinstance(claims["iat"], int) and len(str(claims["jti"])) >= 16
    _, with_token = decode(signer.proof("POST", TOKEN_URL, access_token="tok"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=").decode()
    assert with_token["ath"] == expected
    _, other = decode(signer.proof("POST", TOKEN_URL))
    assert other["jti"] != with_token["jti"]
    assert PEM not in repr(signer) and signer.thumbprint in repr(signer)


async def test_the_token_server_nonce_is_answered_once() -> None:
    seen: list[dict[str, object]] = []

    def server(request: httpx.Request) -> httpx.Response:
        _, claims = decode(request.headers["DPoP"])
        seen.append(claims)
        if "nonce" not in claims:
            return httpx.Response(
                400, json={"error": "use_dpop_nonce"}, headers={"DPoP-Nonce": "n-1"}
            )
        return httpx.Response(200, json={"access_token": "t", "token_type": "DPoP"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        provider = OAuthTokenProvider(
            http,
            opco="AFDAS",
            token_url=TOKEN_URL,
            scope=None,
            client=OAuthClient("c", SecretStr("s")),
            clock=FakeClock(),
            dpop=DpopSigner(PEM, "RS256", FakeClock()),
        )
        assert await provider.token() == "t"
    assert [c.get("nonce") for c in seen] == [None, "n-1"]
    assert all(c["htu"] == TOKEN_URL and c["htm"] == "POST" for c in seen)
