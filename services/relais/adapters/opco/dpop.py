"""DPoP proofs (RFC 9449) signed with the CFA's key pair, by a maintained JOSE library (joserfc).

A proof is a JWT with header ``typ: dpop+jwt``, ``alg`` and the public JWK, and claims ``jti``
(unique), ``htm`` (the method), ``htu`` (the URL without query nor fragment), ``iat``; on an API
call also ``ath`` (base64url SHA-256 of the access token); ``nonce`` when the server gave one
(``DPoP-Nonce``). The private key never leaves this object; its repr shows the thumbprint only.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Literal

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from relais.domain.clock import Clock
from relais.errors import ConfigurationError

Alg = Literal["RS256", "ES256"]


class _Registry(jws.JWSRegistry):
    max_header_length = 4096  # the header carries the public JWK (an RSA 2048 one: ~450 bytes)


REGISTRY = _Registry(algorithms=["RS256", "ES256"])


class DpopSigner:
    def __init__(self, private_pem: str, alg: Alg, clock: Clock) -> None:
        try:
            key = (
                RSAKey.import_key(private_pem) if alg == "RS256" else ECKey.import_key(private_pem)
            )
        except (JoseError, ValueError, TypeError):
            raise ConfigurationError(f"the DPoP key is not a PEM {alg} private key") from None
        if not key.is_private:
            raise ConfigurationError("the DPoP key is a public key: the private key is needed")
        self._key = key
        self._alg = alg
        self._clock = clock
        self._public = {k: v for k, v in key.as_dict(private=False).items() if k != "kid"}
        self.thumbprint = key.thumbprint()

    def __repr__(self) -> str:
        return f"DpopSigner(alg={self._alg!r}, jkt={self.thumbprint!r})"

    def proof(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        claims: dict[str, object] = {
            "jti": str(uuid.uuid4()),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(self._clock.now().timestamp()),
        }
        if access_token is not None:
            claims["ath"] = ath(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": self._alg, "jwk": self._public}
        return jwt.encode(header, claims, self._key, algorithms=[self._alg], registry=REGISTRY)


def htu(url: str) -> str:
    """The URL a proof names: no query, no fragment (RFC 9449 4.2)."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
