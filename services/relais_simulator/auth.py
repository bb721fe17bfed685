"""Who may call: CFA API keys per OPCO (with expiry) and OAuth2 client-credentials tokens (every
OPCO whose profile has ``auth.oauth2``; a DPoP-bound token remembers its key's thumbprint).

Keys come from a CSV (``siret,opco,key,expiry``; ISO dates) and from the admin API. A key is valid
through its expiry date included, judged on the simulator's clock. OAuth2 clients come from a CSV
(``opco,client_id,client_secret``) and the admin API; tokens are opaque random strings valid for
``ttl_s`` real seconds.
"""

from __future__ import annotations

import csv
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from relais.domain.dates import parse_date
from relais.domain.opco import OpcoCode


@dataclass(frozen=True, slots=True)
class CfaKey:
    siret: str
    opco: OpcoCode
    key: str
    expiry: date

    def masked(self) -> dict[str, str]:
        shown = self.key[:4] + "…" if len(self.key) > 8 else "…"
        return {
            "siret": self.siret,
            "opco": self.opco.value,
            "key": shown,
            "expiry": self.expiry.isoformat(),
        }


class KeyRegistry:
    def __init__(self, keys: Iterable[CfaKey] = ()) -> None:
        self._keys: dict[tuple[OpcoCode, str], CfaKey] = {}
        for k in keys:
            self.add(k)

    def add(self, key: CfaKey) -> None:
        self._keys[(key.opco, key.key)] = key

    def remove(self, opco: OpcoCode, key: str) -> bool:
        return self._keys.pop((opco, key), None) is not None

    def lookup(self, opco: OpcoCode, key: str) -> CfaKey | None:
        return self._keys.get((opco, key))

    def all(self) -> list[CfaKey]:
        return list(self._keys.values())

    def clear(self) -> None:
        self._keys.clear()


def load_keys_csv(path: Path) -> list[CfaKey]:
    with path.open(encoding="utf-8", newline="") as fh:
        return parse_keys_rows(csv.DictReader(_without_comments(fh)))


def parse_keys_rows(rows: Iterable[dict[str, str]]) -> list[CfaKey]:
    out: list[CfaKey] = []
    for n, row in enumerate(rows, start=2):
        try:
            out.append(
                CfaKey(
                    siret=row["siret"].strip(),
                    opco=OpcoCode(row["opco"].strip().upper()),
                    key=row["key"].strip(),
                    expiry=parse_date(row["expiry"].strip()),
                )
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"keys file line {n}: expected siret,opco,key,expiry ({exc})"
            ) from None
    return out


@dataclass(frozen=True, slots=True)
class OAuthClient:
    opco: OpcoCode
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class Token:
    opco: OpcoCode
    client_id: str
    expires_at: float
    jkt: str | None = None  # DPoP: the thumbprint of the key the token is bound to


class OAuthRegistry:
    def __init__(
        self,
        clients: Iterable[OAuthClient] = (),
        ttl_s: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients: dict[tuple[OpcoCode, str], OAuthClient] = {}
        self._tokens: dict[str, Token] = {}
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        for c in clients:
            self.add(c)

    def add(self, client: OAuthClient) -> None:
        self._clients[(client.opco, client.client_id)] = client

    def clients(self) -> list[OAuthClient]:
        return list(self._clients.values())

    def issue(
        self, opco: OpcoCode, client_id: str, client_secret: str, jkt: str | None = None
    ) -> tuple[str, int] | None:
        if not self.verify(opco, client_id, client_secret):
            return None
        token = secrets.token_urlsafe(24)
        self._tokens[token] = Token(opco, client_id, self._monotonic() + self.ttl_s, jkt)
        if len(self._tokens) > 10_000:
            self._purge()
        return token, int(self.ttl_s)

    def verify(self, opco: OpcoCode, client_id: str, client_secret: str) -> bool:
        client = self._clients.get((opco, client_id))
        return client is not None and hmac.compare_digest(
            client.client_secret.encode(), client_secret.encode()
        )

    def check(self, opco: OpcoCode, token: str) -> bool:
        return self.find(opco, token) is not None

    def find(self, opco: OpcoCode, token: str) -> Token | None:
        """The live token of ``opco``, or None."""
        found = self._tokens.get(token)
        if found is None or found.opco != opco or found.expires_at <= self._monotonic():
            return None
        return found

    def expire_all(self) -> int:
        n = len(self._tokens)
        self._tokens.clear()
        return n

    def age(self, seconds: float) -> int:
        """Make every issued token ``seconds`` older (its expiry comes that much closer)."""
        for token, found in self._tokens.items():
            self._tokens[token] = replace(found, expires_at=found.expires_at - seconds)
        return len(self._tokens)

    def clear(self) -> None:
        self._clients.clear()
        self._tokens.clear()

    def _purge(self) -> None:
        now = self._monotonic()
        for t in [t for t, v in self._tokens.items() if v.expires_at <= now]:
            del self._tokens[t]


def load_oauth_csv(path: Path) -> list[OAuthClient]:
    with path.open(encoding="utf-8", newline="") as fh:
        out: list[OAuthClient] = []
        for n, row in enumerate(csv.DictReader(_without_comments(fh)), start=2):
            try:
                out.append(
                    OAuthClient(
                        OpcoCode(row["opco"].strip().upper()),
                        row["client_id"].strip(),
                        row["client_secret"].strip(),
                    )
                )
            except (KeyError, ValueError, AttributeError) as exc:
                raise ValueError(
                    f"oauth clients file line {n}: expected opco,client_id,client_secret ({exc})"
                ) from None
        return out


def _without_comments(lines: Iterable[str]) -> Iterable[str]:
    return (line for line in lines if not line.lstrip().startswith("#") and line.strip())
