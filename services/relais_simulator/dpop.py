"""The simulator's DPoP checks (RFC 9449), as an Okta-like server makes them: a proof is a JWT
with ``typ: dpop+jwt``, an asymmetric ``alg``, the public JWK in its header and a valid signature
by it; ``htm`` and ``htu`` name this request, ``iat`` is within ``IAT_WINDOW_S`` of now, ``jti``
was never seen (a replayed proof is refused); on an API call, ``ath`` is the token's hash and the
key is the one the token was bound to (``jkt``)."""

from __future__ import annotations

import base64
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, JWKRegistry, Key

IAT_WINDOW_S = 60.0
MAX_PROOF_BYTES = 8192
MAX_JTI = 100_000
ALGORITHMS = ["RS256", "ES256"]


class _Registry(jws.JWSRegistry):
    max_header_length = 4096


REGISTRY = _Registry(algorithms=ALGORITHMS)


class DpopError(ValueError):
    """Why a proof is refused (the text is the simulator's own, never the proof)."""


@dataclass(frozen=True, slots=True)
class Proof:
    jkt: str  # the thumbprint of the key that signed it
    claims: dict[str, object]


class DpopVerifier:
    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.replays = 0

    def clear(self) -> None:
        self._seen.clear()

    def verify(
        self, proof: str, *, method: str, url: str, access_token: str | None = None
    ) -> Proof:
        if not proof or len(proof) > MAX_PROOF_BYTES:
            raise DpopError("preuve DPoP absente ou trop longue")
        try:
            token = jwt.decode(proof, _key_of_header, algorithms=ALGORITHMS, registry=REGISTRY)
            jkt = JWKRegistry.import_key(token.header["jwk"]).thumbprint()
        except DpopError:
            raise
        except (JoseError, ValueError, TypeError, KeyError):
            raise DpopError("preuve DPoP illisible ou signature invalide") from None
        if token.header.get("typ") != "dpop+jwt":
            raise DpopError("preuve DPoP: typ n'est pas dpop+jwt")
        claims = token.claims
        if claims.get("htm") != method.upper():
            raise DpopError("preuve DPoP: htm ne correspond pas à la méthode")
        if not isinstance(claims.get("htu"), str) or _norm(claims["htu"]) != _norm(url):
            raise DpopError("preuve DPoP: htu ne correspond pas à l'URL")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or abs(self._wall() - float(iat)) > IAT_WINDOW_S:
            raise DpopError("preuve DPoP: iat hors de la fenêtre acceptée")
        if access_token is not None and claims.get("ath") != _ath(access_token):
            raise DpopError("preuve DPoP: ath ne correspond pas au jeton")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= 200:
            raise DpopError("preuve DPoP: jti absent")
        self._remember(jti)
        return Proof(jkt=jkt, claims=dict(claims))

    def _remember(self, jti: str) -> None:
        now = self._wall()
        while self._seen and next(iter(self._seen.values())) < now - 2 * IAT_WINDOW_S:
            self._seen.popitem(last=False)
        if jti in self._seen:
            self.replays += 1
            raise DpopError("preuve DPoP rejouée (jti déjà vu)")
        self._seen[jti] = now
        while len(self._seen) > MAX_JTI:
            self._seen.popitem(last=False)


def _key_of_header(obj: GuestProtocol) -> Key:
    header = obj.headers()
    jwk = header.get("jwk")
    if header.get("alg") not in ALGORITHMS or not isinstance(jwk, dict):
        raise DpopError("preuve DPoP: alg asymétrique et jwk public requis")
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi")):
        raise DpopError("preuve DPoP: le jwk contient une clé privée")
    return JWKRegistry.import_key(jwk)


def _norm(url: str) -> str:
    """htu compared without query and fragment, scheme and host case-insensitive (RFC 9449 4.3)."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    scheme, sep, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


def _ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
