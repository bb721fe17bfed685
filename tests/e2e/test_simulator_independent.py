"""An independent check of ``relais simulator`` over raw HTTP.

Written from the standard (``shared/domain/convergence-api.md`` §1, §2, §4, Appendix A), issue 3 and
the wire contract (``schemas/convergence/README.md``), not from the simulator's code: the program is
started as a subprocess, talked to with plain httpx requests (headers and bodies as the standard
defines them) for several OPCO, dossiers are read back through ``etats``, faults are injected
through the admin endpoint and observed from the client side.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from relais.domain.opco import OpcoCode
from relais.sampledata import Generator

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

RELAIS = str(Path(sys.executable).parent / "relais")
ADMIN_TOKEN = "T-independent"
TODAY = date(2026, 11, 27)
SOFTWARE = {"EDITEUR": "Integrale Academy", "LOGICIEL": "Gestion Stagiaires", "VERSION": "1.0"}
OAUTH_ID, OAUTH_SECRET = "editeur-independant", "secret-independant"
ALL_OPCO = [c.value for c in OpcoCode]
# convergence-api.md section 0 (a working ERP client): where each OPCO's routes live and how it
# gives tokens; the others keep the older notes' /ApiEchangeCFA and the API key alone.
BASE_PATHS = {"AKTO": "/SorApiEchangeCFA", "ATLAS": "/SorApiEchangeCFA"}
BASE_PATHS |= {"MOBILITES": "/SorApiEchangeCFA", "AFDAS": "", "OPCOEP": ""}
IDENTITY_SERVER = ("/SorApiIdentityServer/connect/token", "api.read api.write")
TOKEN_SERVERS = {opco: IDENTITY_SERVER for opco in ("AKTO", "ATLAS", "MOBILITES")}
TOKEN_SERVERS["OPCOEP"] = ("/realms/interopco-partenaires/protocol/openid-connect/token", None)
TOKEN_SERVERS["AFDAS"] = ("/oauth2/default/v1/token", None)  # Okta, with a DPoP proof
DPOP_KEY = RSAKey.generate_key(2048)

GEN = Generator(20261127, TODAY, cfa_count=2)
CFA_A, CFA_B = GEN.cfa(0), GEN.cfa(1)


class _Registry(jws.JWSRegistry):
    max_header_length = 4096  # the header carries the public JWK


def dpop_proof(method: str, url: str, token: str | None = None) -> str:
    """A DPoP proof as RFC 9449 writes it (joserfc here, not relais's signer)."""
    claims: dict[str, Any] = {"jti": uuid.uuid4().hex, "htm": method, "htu": url.split("?")[0]}
    claims["iat"] = int(time.time())
    if token is not None:
        digest = hashlib.sha256(token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    public = {k: v for k, v in DPOP_KEY.as_dict(private=False).items() if k != "kid"}
    header = {"typ": "dpop+jwt", "alg": "RS256", "jwk": public}
    return jwt.encode(header, claims, DPOP_KEY, algorithms=["RS256"], registry=_Registry())


def key(siret: str, opco: str) -> str:
    return f"k-{opco.lower()}-{siret}"


EXPIRED_KEY = "k-expired-opcommerce"


# ----------------------------------------------------------------------------------- the process


@dataclass
class Sim:
    base: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    admin_token: str = ADMIN_TOKEN
    _tokens: dict[str, str] = field(default_factory=dict)

    def url(self, opco: str, path: str) -> str:
        return f"{self.base}/{opco}{BASE_PATHS.get(opco, '/ApiEchangeCFA')}/{path}"

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        r = httpx.request(method, f"{self.base}/_admin/{path}", headers=headers, timeout=10, **kw)
        assert r.status_code < 300, (path, r.status_code, r.text)
        return r

    def token(self, fresh: bool = False, opco: str = "AKTO") -> str:
        if fresh or opco not in self._tokens:
            path, scope = TOKEN_SERVERS[opco]
            url = f"{self.base}/{opco}{path}"
            form = {"grant_type": "client_credentials", "client_id": OAUTH_ID}
            form["client_secret"] = OAUTH_SECRET
            if scope is not None:
                form["scope"] = scope
            headers = {"DPoP": dpop_proof("POST", url)} if opco == "AFDAS" else {}
            r = httpx.post(url, data=form, headers=headers, timeout=10)
            assert r.status_code == 200, r.text
            body = r.json()
            kind = "dpop" if opco == "AFDAS" else "bearer"
            assert body["token_type"].lower() == kind and body["expires_in"] > 0
            self._tokens[opco] = body["access_token"]
        return self._tokens[opco]

    def headers(
        self,
        opco: str,
        siret: str = CFA_A.siret,
        *,
        method: str = "GET",
        url: str = "",
        **extra: str,
    ) -> dict[str, str]:
        h = {"X-API-KEY": key(siret, opco), "Accept": "application/json", **SOFTWARE}
        if opco == "AKTO":
            del h["X-API-KEY"]
            h["X-Api-Key"] = key(siret, opco)  # as AKTO's own clients spell it
        if opco == "AFDAS":  # the token bound to our key, and a fresh proof for this call
            token = self.token(opco=opco)
            h["Authorization"] = f"DPoP {token}"
            h["DPoP"] = dpop_proof(method, url or self.url(opco, "v1/status"), token)
        elif opco in TOKEN_SERVERS:
            h["Authorization"] = f"Bearer {self.token(opco=opco)}"
        h.update(extra)
        return h

    def call(
        self, method: str, opco: str, path: str, *, siret: str = CFA_A.siret, **kw: Any
    ) -> httpx.Response:
        url = self.url(opco, path)
        headers = self.headers(opco, siret, method=method, url=url)
        headers.update(kw.pop("headers", {}))
        return httpx.request(method, url, headers=headers, timeout=kw.pop("timeout", 10), **kw)

    def advance(self, days: float) -> None:
        self.admin("POST", "clock/advance", json={"days": days})

    def today(self) -> date:
        return date.fromisoformat(self.admin("GET", "clock").json()["today"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str]) -> tuple[subprocess.Popen[str], str, list[str]]:
    proc = subprocess.Popen(
        [RELAIS, "simulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    url = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "listening on http://" in line:
            url = line.split("listening on ", 1)[1].strip()
            break
    if not url:
        proc.kill()
        pytest.fail(f"no listening line: {''.join(lines)}")
    # keep draining the output so the pipe never fills up
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    return proc, url, lines


def stop(proc: subprocess.Popen[str]) -> int:
    proc.terminate()
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    d = tmp_path_factory.mktemp("sim")
    keys = d / "keys.csv"
    with keys.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["siret", "opco", "key", "expiry"])
        for opco in ALL_OPCO:
            if opco != "MOBILITES":  # MOBILITES's key is added at run time (admin)
                w.writerow([CFA_A.siret, opco, key(CFA_A.siret, opco), "2099-12-31"])
        for opco in ("ATLAS", "AKTO"):
            w.writerow([CFA_B.siret, opco, key(CFA_B.siret, opco), "2030-06-30"])
        w.writerow([CFA_A.siret, "OPCOMMERCE", EXPIRED_KEY, "2026-11-26"])
    oauth = d / "oauth.csv"
    oauth.write_text(
        "opco,client_id,client_secret\n"
        + "".join(f"{opco},{OAUTH_ID},{OAUTH_SECRET}\n" for opco in TOKEN_SERVERS)
    )
    proc, url, lines = start(
        [
            "--port",
            "0",
            "--keys",
            str(keys),
            "--oauth-clients",
            str(oauth),
            "--admin-token",
            ADMIN_TOKEN,
            "--start-date",
            TODAY.isoformat(),
            "--refusal-rate",
            "0",
        ]
    )
    s = Sim(url, proc, lines)
    s.admin(
        "POST",
        "keys",
        json={
            "siret": CFA_A.siret,
            "opco": "MOBILITES",
            "key": key(CFA_A.siret, "MOBILITES"),
            "expiry": "2099-12-31",
        },
    )
    yield s
    assert stop(proc) == 0, "".join(lines)
    secrets = [OAUTH_SECRET, key(CFA_A.siret, "ATLAS"), EXPIRED_KEY, ADMIN_TOKEN]
    out = "".join(lines)
    for secret in secrets:
        assert secret not in out, "a credential reached the simulator's output"


# ----------------------------------------------------------------------------------- helpers


# §0: MOBILITES (in its profile) answers etats as a top-level array of every item, no page
UNPAGED = {"MOBILITES"}
# §0: conventions and factures are multipart (the JSON part + the signed PDF in ``fichier``)
MULTIPART = {"AKTO", "ATLAS", "MOBILITES", "AFDAS", "OPCOEP"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def unwrap(opco: str, body: Any) -> dict[str, Any]:
    """A page of etats: AKTO wraps it in a one-element array (§1.5, §4.4); MOBILITES answers a
    bare array of items (§0), read as one page holding them all; the others a page object."""
    if opco == "AKTO":
        assert isinstance(body, list) and len(body) == 1, body
        body = body[0]
    if opco in UNPAGED:
        assert isinstance(body, list), body
        return {"page": 1, "count": len(body), "total": len(body), "items": body}
    assert isinstance(body, dict), body
    return body


def post_followup(sim: Sim, opco: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """A convention or facture as the OPCO takes it: multipart (§0) or JSON."""
    if opco not in MULTIPART:
        return sim.call("POST", opco, path, json=body)
    part = "convention" if path.endswith("conventions") else "facture"
    files = {
        part: (None, json.dumps(body).encode(), "application/json"),
        "fichier": ("piece.pdf", PDF, "application/pdf"),
    }
    return sim.call("POST", opco, path, files=files)


def all_etats(sim: Sim, opco: str, what: str = "dossiers", version: str = "v2") -> list[Any]:
    """Read every page of ``<what>/etats`` the way §1.5 says a client does."""
    items_key = "EtatDossierResult" if what == "dossiers" else "factures"
    items: list[Any] = []
    previous: list[Any] | None = None
    for n in range(1, 1000):
        r = sim.call("GET", opco, f"{version}/{what}/etats", params={"numeroPage": n})
        assert r.status_code == 200, r.text
        page = unwrap(opco, r.json())
        assert page["page"] == n or opco in UNPAGED
        batch = page["items" if opco in UNPAGED else items_key]
        assert page["count"] == len(batch)
        if not batch:
            break
        assert batch != previous, "the same page twice"
        previous = batch
        items.extend(batch)
        if len(items) >= page["total"]:
            assert len(items) == page["total"]
            break
    return items


def etat_of(sim: Sim, opco: str, numero: str, version: str = "v2") -> dict[str, Any]:
    found = [e for e in all_etats(sim, opco, version=version) if e["numeroInterne"] == numero]
    assert len(found) == 1, found
    return found[0]


def new_dossier(
    opco: str, start_in_days: int = 18, cfa: Any = CFA_A, sim: Sim | None = None
) -> Any:
    today = sim.today() if sim is not None else TODAY
    return GEN.dossier(opco, cfa=cfa, start=today + timedelta(days=start_in_days))


def post_dossier(sim: Sim, opco: str, cerfa: dict[str, Any], version: str = "v2") -> dict[str, Any]:
    r = sim.call("POST", opco, f"{version}/dossiers", json={"cerfa": cerfa})
    assert r.status_code == 200, (opco, version, r.status_code, r.text)  # §0: 200
    body = r.json()
    assert body["etat"] == "TRANSMIS"
    assert isinstance(body["numeroInterne"], str) and body["numeroInterne"]
    assert isinstance(body["numeroExterne"], str) and body["numeroExterne"]
    return dict(body)


def detail(sim: Sim, opco: str, numero: str, version: str = "v2") -> dict[str, Any]:
    r = sim.call("GET", opco, f"{version}/dossiers", params={"numeroInterne": numero})
    assert r.status_code == 200, r.text
    return dict(r.json())


def engage(sim: Sim, opco: str, numero: str) -> dict[str, Any]:
    for _ in range(10):
        if etat_of(sim, opco, numero)["etat"] not in ("TRANSMIS", "EN_COURS_INSTRUCTION"):
            break
        sim.advance(1)
    read = detail(sim, opco, numero)
    assert read["cerfa"]["etat"] == "ENGAGE", read["cerfa"]
    return read


def message(r: httpx.Response) -> str:
    body = r.json()
    texts = [str(body.get("message", ""))]
    texts += [f"{e.get('code', '')} {e.get('description', '')}" for e in body.get("errors", [])]
    return " ".join(texts)


def codes(r: httpx.Response) -> set[str]:
    return {str(e.get("code")) for e in r.json().get("errors", [])}


# ----------------------------------------------------------------------------------- start-up


def test_fixed_port_faults_file_and_scaled_clock(tmp_path: Path) -> None:
    """``--port P``, faults set at start (``--faults``), a clock running at 0.4 s per day (at
    OPCOs that take the API key alone: this simulator has no OAuth2 client)."""
    port = free_port()
    keys = tmp_path / "keys.csv"
    keys.write_text(
        "siret,opco,key,expiry\n"
        f"{CFA_A.siret},OCAPIAT,{key(CFA_A.siret, 'OCAPIAT')},2099-12-31\n"
        f"{CFA_A.siret},CONSTRUCTYS,{key(CFA_A.siret, 'CONSTRUCTYS')},2099-12-31\n"
    )
    faults = tmp_path / "faults.json"
    faults.write_text('{"OCAPIAT": {"down": true}, "*": {"latency_ms": 0}}')
    args = ["--port", str(port), "--admin-token", "x", "--keys", str(keys)]
    args += ["--faults", str(faults), "--day-seconds", "0.4", "--refusal-rate", "0"]
    proc, url, lines = start(args)
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        sim = Sim(url, proc, admin_token="x")
        assert sim.call("GET", "OCAPIAT", "v1/status").status_code == 503
        created = post_dossier(sim, "CONSTRUCTYS", new_dossier("CONSTRUCTYS", 40).cerfa, "v1")
        # faults changed at run time with the file's shape
        r = httpx.put(f"{url}/_admin/faults", json={"*": {}}, headers={"Authorization": "Bearer x"})
        assert r.status_code == 200, r.text
        assert sim.call("GET", "OCAPIAT", "v1/status").status_code == 200
        # The clock runs by itself: the dossier goes to ENGAGE with no advance; the states it went
        # through are read from its history (polls on a loaded machine may miss a 0.4 s state).
        seen = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "ENGAGE" not in seen:
            seen.add(etat_of(sim, "CONSTRUCTYS", created["numeroInterne"], "v1")["etat"])
            time.sleep(0.1)
        assert "ENGAGE" in seen and seen <= {"TRANSMIS", "EN_COURS_INSTRUCTION", "ENGAGE"}, seen
        history = sim.admin("GET", f"dossiers/CONSTRUCTYS/{created['numeroInterne']}").json()[
            "history"
        ]
        assert [h["etat"] for h in history] == ["TRANSMIS", "EN_COURS_INSTRUCTION", "ENGAGE"]
        days = [h["day"] for h in history]
        assert days == sorted(days) and days[-1] >= 2, days
        # the same port twice: the second program fails instead of pretending to listen
        second = subprocess.run(
            [RELAIS, "simulator", "--port", str(port)], capture_output=True, text=True, timeout=30
        )
        assert second.returncode != 0
        assert "listening on" not in second.stdout
    finally:
        assert stop(proc) == 0, "".join(lines)


async def test_profile_rate_limit_answers_429_with_retry_after(sim: Sim) -> None:
    headers = sim.headers("OPCOMMERCE")
    answers: list[httpx.Response] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        url = sim.url("OPCOMMERCE", "v1/status")
        # waves until the limiter answers: a loaded machine may serve one wave under the limit
        for _ in range(10):
            answers += await asyncio.gather(*(client.get(url) for _ in range(250)))
            if any(r.status_code == 429 for r in answers):
                break
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) >= 40 and statuses.count(429) >= 1, statuses
    throttled = next(r for r in answers if r.status_code == 429)
    assert float(throttled.headers["Retry-After"]) >= 0
    await asyncio.sleep(1.1)
    assert sim.call("GET", "OPCOMMERCE", "v1/status").status_code == 200


# ------------------------------------------------------------------------------- headers and auth


def test_headers_and_keys(sim: Sim) -> None:
    url = sim.url("ATLAS", "v1/status")
    good = sim.headers("ATLAS")
    r = httpx.get(url, headers=good)
    assert r.status_code == 200 and r.json()["opco"] == "ATLAS"
    # header names are case-insensitive
    lower = {k.lower(): v for k, v in good.items()}
    assert httpx.get(url, headers=lower).status_code == 200
    # the standard's own example has an accent: sent as UTF-8 bytes
    accented = [(k.encode(), v.encode()) for k, v in good.items() if k != "EDITEUR"]
    accented.append((b"EDITEUR", "Intégrale Academy".encode()))
    assert httpx.get(url, headers=accented).status_code == 200
    for missing in ("EDITEUR", "LOGICIEL", "VERSION"):
        r = httpx.get(url, headers={k: v for k, v in good.items() if k != missing})
        assert r.status_code == 400, missing
        assert missing in r.text
    no_key = {k: v for k, v in good.items() if k != "X-API-KEY"}
    assert httpx.get(url, headers=no_key).status_code == 401  # appendix A: missing -> 401
    assert httpx.get(url, headers={**no_key, "X-API-KEY": ""}).status_code == 401
    assert httpx.get(url, headers={**good, "X-API-KEY": "nope"}).status_code == 403
    # a key of ATLAS is not a key of OCAPIAT
    r = httpx.get(
        sim.url("OCAPIAT", "v1/status"),
        headers={**sim.headers("OCAPIAT"), "X-API-KEY": good["X-API-KEY"]},
    )
    assert r.status_code == 403
    # an expired key (expiry = yesterday): 403 with the standard's words, cfakeyinfo says so
    expired = {**sim.headers("OPCOMMERCE"), "X-API-KEY": EXPIRED_KEY}
    r = httpx.get(sim.url("OPCOMMERCE", "v1/status"), headers=expired)
    assert r.status_code == 403 and "expir" in message(r)
    r = httpx.get(sim.url("OPCOMMERCE", "v2/cfakeyinfo"), headers=expired)
    assert r.status_code == 200 and r.json()["status"] == "error"
    assert r.json()["dateFinValidite"].startswith("2026-11-26")
    r = sim.call("GET", "OPCOMMERCE", "v2/cfakeyinfo")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success" and r.json()["dateFinValidite"].startswith("2099-12-31")
    r = sim.call("GET", "ATLAS", "v2/cfakeyinfo", siret=CFA_B.siret)
    assert r.json()["dateFinValidite"].startswith("2030-06-30")
    # a key added at run time works at once; removed, it stops working
    assert sim.call("GET", "MOBILITES", "v1/status").status_code == 200
    extra = {"siret": CFA_B.siret, "opco": "OCAPIAT", "key": "k-runtime", "expiry": "2027-01-31"}
    sim.admin("POST", "keys", json=extra)
    h = {**sim.headers("OCAPIAT"), "X-API-KEY": "k-runtime"}
    assert httpx.get(sim.url("OCAPIAT", "v1/status"), headers=h).status_code == 200
    sim.admin("DELETE", "keys/OCAPIAT/k-runtime")
    assert httpx.get(sim.url("OCAPIAT", "v1/status"), headers=h).status_code == 403


def test_akto_oauth2(sim: Sim) -> None:
    url = sim.url("AKTO", "v1/status")
    good = sim.headers("AKTO")
    assert httpx.get(url, headers=good).status_code == 200
    no_bearer = {k: v for k, v in good.items() if k != "Authorization"}
    assert httpx.get(url, headers=no_bearer).status_code == 401
    assert httpx.get(url, headers={**good, "Authorization": "Bearer forged"}).status_code == 401
    # the bearer does not replace the CFA's key
    no_key = {k: v for k, v in good.items() if k != "X-Api-Key"}
    assert httpx.get(url, headers=no_key).status_code == 401
    assert httpx.get(url, headers={**no_key, "X-Api-Key": "nope"}).status_code == 403
    # bad client credentials, wrong grant
    token_url = f"{sim.base}/AKTO/SorApiIdentityServer/connect/token"
    form = {"grant_type": "client_credentials", "client_id": OAUTH_ID, "scope": "api.read"}
    r = httpx.post(token_url, data={**form, "client_secret": "wrong"})
    assert r.status_code in (400, 401) and "access_token" not in r.text
    r = httpx.post(
        token_url, data={**form, "client_secret": OAUTH_SECRET, "grant_type": "password"}
    )
    assert r.status_code in (400, 401) and "access_token" not in r.text
    # tokens expire: at the end of their lifetime (aged through the admin API rather than raced
    # on the wall clock), then the admin's "expire every token"
    sim.admin("PUT", "oauth/ttl", json={"ttl_s": 600})
    try:
        short = sim.token(fresh=True)
        h = {**good, "Authorization": f"Bearer {short}"}
        assert httpx.get(url, headers=h).status_code == 200
        sim.admin("POST", "oauth/age", json={"seconds": 500})
        assert httpx.get(url, headers=h).status_code == 200
        sim.admin("POST", "oauth/age", json={"seconds": 101})
        assert httpx.get(url, headers=h).status_code == 401
    finally:
        sim.admin("PUT", "oauth/ttl", json={"ttl_s": 3600})
    fresh = sim.token(fresh=True)
    h = {**good, "Authorization": f"Bearer {fresh}"}
    assert httpx.get(url, headers=h).status_code == 200
    sim.admin("POST", "oauth/expire-tokens")
    assert httpx.get(url, headers=h).status_code == 401
    sim._tokens.clear()  # every OPCO's token is gone
    # an OAuth client added at run time
    sim.admin(
        "POST", "oauth-clients", json={"opco": "AKTO", "client_id": "c2", "client_secret": "s2"}
    )
    r = httpx.post(token_url, data={**form, "client_id": "c2", "client_secret": "s2"})
    assert r.status_code == 200 and r.json()["access_token"]
    # the older notes' scope is refused by this IdentityServer
    r = httpx.post(token_url, data={**form, "client_secret": OAUTH_SECRET, "scope": ".default"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    # an OPCO without OAuth2 needs no bearer
    assert sim.call("GET", "OCAPIAT", "v1/status").status_code == 200


def test_admin_needs_its_token(sim: Sim) -> None:
    for method, path in (("GET", "records"), ("PUT", "faults/ATLAS"), ("POST", "clock/advance")):
        r = httpx.request(method, f"{sim.base}/_admin/{path}", json={})
        assert r.status_code == 401, path
        r = httpx.request(
            method, f"{sim.base}/_admin/{path}", json={}, headers={"Authorization": "Bearer no"}
        )
        assert r.status_code == 401, path
    # the CFA's key is no admin token
    r = httpx.get(f"{sim.base}/_admin/records", headers=sim.headers("ATLAS"))
    assert r.status_code == 401


# ----------------------------------------------------------------------------------- capabilities


def test_capabilities_per_opco(sim: Sim) -> None:
    cerfa = new_dossier("SANTE").cerfa
    for version in ("v1", "v2"):
        r = sim.call("POST", "SANTE", f"{version}/dossiers", json={"cerfa": cerfa})
        assert r.status_code == 501, r.text
    assert (
        sim.call("GET", "SANTE", "v2/dossiers/etats", params={"numeroPage": 1}).status_code == 501
    )
    assert sim.call("POST", "SANTE", "v1/conventions", json={}).status_code == 501
    assert sim.call("GET", "SANTE", "v1/status").status_code == 200
    # v2 dossiers: not at AFDAS, CONSTRUCTYS, OPCO2I, OPCOEP, UNIFORMATION
    for opco in ("AFDAS", "CONSTRUCTYS", "OPCO2I", "OPCOEP", "UNIFORMATION"):
        r = sim.call("POST", opco, "v2/dossiers", json={"cerfa": new_dossier(opco).cerfa})
        assert r.status_code == 501, (opco, r.text)
    # certificats: AFDAS only
    for opco in ALL_OPCO:
        if opco == "AFDAS":
            continue
        r = sim.call("POST", opco, "v2/certificats", json={"numeroInterneDossier": "x"})
        assert r.status_code == 501, (opco, r.text)
    # no factures at UNIFORMATION (nor SANTE? it has them per 4.3: 10 OPCO)
    r = sim.call("POST", "UNIFORMATION", "v1/factures", json={"referenceFactureCFA": "x"})
    assert r.status_code == 501
    # facture etats: only the v2 OPCO
    for opco in ("AKTO", "ATLAS", "OPCOMMERCE", "OCAPIAT", "MOBILITES"):
        r = sim.call("GET", opco, "v2/factures/etats", params={"numeroPage": 1})
        assert r.status_code == 200, (opco, r.text)
        unwrap(opco, r.json())
    for opco in ("AFDAS", "CONSTRUCTYS", "OPCO2I", "OPCOEP", "SANTE", "UNIFORMATION"):
        r = sim.call("GET", opco, "v2/factures/etats", params={"numeroPage": 1})
        assert r.status_code == 501, (opco, r.text)
    # the 501 body says so
    assert "implément" in message(r).lower()
    # 404 is for missing resources, on a route the OPCO has
    r = sim.call("GET", "ATLAS", "v2/dossiers", params={"numeroInterne": "does-not-exist"})
    assert r.status_code == 404
    r = sim.call("GET", "ATLAS", "v2/nothing-here")
    assert r.status_code == 404


# ----------------------------------------------------------------------------------- dossiers


def test_dossiers_v1_v2_read_back_and_duplicates(sim: Sim) -> None:
    created: dict[str, dict[str, Any]] = {}
    for opco, version in (("ATLAS", "v2"), ("AKTO", "v2"), ("AFDAS", "v1"), ("OPCOEP", "v1")):
        d = new_dossier(opco)
        ids = post_dossier(sim, opco, d.cerfa, version)
        created[opco] = ids
        # read back through etats (AKTO: wrapped pages), by numeroInterne, and through liste
        etats_version = "v2" if opco in ("ATLAS", "AKTO") else "v1"
        e = etat_of(sim, opco, ids["numeroInterne"], etats_version)
        assert e["numeroExterne"] == ids["numeroExterne"] and e["etat"] == "TRANSMIS"
        assert "numeroDeca" in e
        for v in ("v1", "v2"):
            read = detail(sim, opco, ids["numeroInterne"], v)
            assert read["cerfa"]["numeroInterne"] == ids["numeroInterne"]
            assert read["cerfa"]["etat"] == "TRANSMIS"
            assert read["cerfa"]["apprenti"]["nom"] == d.cerfa["apprenti"]["nom"]
            assert read["cerfa"]["employeur"]["siret"] == d.cerfa["employeur"]["siret"]
        # the same dossier again: 409 with the existing ids, on both versions it has
        for v in ("v1", "v2") if opco in ("ATLAS", "AKTO") else ("v1",):
            again = dict(d.cerfa)
            again["apprenti"] = {**d.cerfa["apprenti"], "nom": d.cerfa["apprenti"]["nom"].upper()}
            r = sim.call("POST", opco, f"{v}/dossiers", json={"cerfa": again})
            assert r.status_code == 409, (opco, v, r.text)
            assert r.json()["numeroInterne"] == ids["numeroInterne"]
            assert r.json()["numeroExterne"] == ids["numeroExterne"]
    # the same cerfa at another OPCO is another dossier there
    # liste: comma list and repeated parameter; unknown ids left out
    a = post_dossier(sim, "ATLAS", new_dossier("ATLAS").cerfa)
    b = created["ATLAS"]
    for params in (
        {"numerosInternes": f"{a['numeroInterne']},{b['numeroInterne']},nope"},
        [("numerosInternes", a["numeroInterne"]), ("numerosInternes", b["numeroInterne"])],
    ):
        r = sim.call("GET", "ATLAS", "v1/dossiers/liste", params=params)
        assert r.status_code == 200, r.text
        got = {x["cerfa"]["numeroInterne"] for x in r.json()}
        assert got == {a["numeroInterne"], b["numeroInterne"]}
    # ids are unique
    assert a["numeroInterne"] != b["numeroInterne"]
    # another CFA cannot read this one's dossier (and does not see it in its etats)
    r = sim.call(
        "GET",
        "ATLAS",
        "v2/dossiers",
        params={"numeroInterne": b["numeroInterne"]},
        siret=CFA_B.siret,
    )
    assert r.status_code in (403, 404)
    r = sim.call("GET", "ATLAS", "v2/dossiers/etats", params={"numeroPage": 1}, siret=CFA_B.siret)
    assert b["numeroInterne"] not in r.text
    # a cerfa of another CFA under this key: refused
    r = sim.call(
        "POST", "ATLAS", "v2/dossiers", json={"cerfa": new_dossier("ATLAS", cfa=CFA_B).cerfa}
    )
    assert r.status_code == 403
    # malformed bodies
    assert sim.call("POST", "ATLAS", "v2/dossiers", content=b"{not json").status_code == 400
    assert sim.call("POST", "ATLAS", "v2/dossiers", json={"cerfa": {}}).status_code == 400
    bad = new_dossier("ATLAS").cerfa
    bad["apprenti"] = {**bad["apprenti"], "nir": "123"}
    r = sim.call("POST", "ATLAS", "v2/dossiers", json={"cerfa": bad})
    assert r.status_code in (400, 422)
    assert r.json()["description"]  # §0: ATLAS answers {"description": ...}
    # missing numeroPage / bad numeroPage
    r = sim.call("GET", "ATLAS", "v2/dossiers/etats", params={"numeroPage": 0})
    assert r.status_code == 400


def test_etats_pagination(sim: Sim) -> None:
    # more than one page (page size unknown to the client: keep reading until total)
    opco = "OCAPIAT"
    mine = {post_dossier(sim, opco, new_dossier(opco).cerfa)["numeroInterne"] for _ in range(3)}
    first = unwrap(
        opco, sim.call("GET", opco, "v2/dossiers/etats", params={"numeroPage": 1}).json()
    )
    assert first["total"] >= 3
    items = all_etats(sim, opco)
    numbers = [e["numeroInterne"] for e in items]
    assert len(numbers) == len(set(numbers)) == first["total"]
    assert mine <= set(numbers)
    past = sim.call("GET", opco, "v2/dossiers/etats", params={"numeroPage": 999})
    assert past.status_code == 200 and unwrap(opco, past.json())["count"] == 0
    # AKTO's quirk on every page, empty ones included
    r = sim.call("GET", "AKTO", "v2/dossiers/etats", params={"numeroPage": 999})
    assert unwrap("AKTO", r.json())["EtatDossierResult"] == []


# ----------------------------------------------------------------------------------- the lifecycle


def test_lifecycle_engagement_factures_rupture(sim: Sim) -> None:
    for opco in ("OCAPIAT", "AKTO"):  # JSON and multipart (§0); errors[] with codes at both
        _lifecycle(sim, opco)


def _lifecycle(sim: Sim, opco: str) -> None:
    d = new_dossier(opco, start_in_days=20, sim=sim)
    ids = post_dossier(sim, opco, d.cerfa)
    n = ids["numeroInterne"]
    # convention (frais annexes), then its duplicate
    conv = {**GEN.convention(d)["data"]["convention"], "numeroInterneDossier": n}
    r = post_followup(sim, opco, "v1/conventions", conv)
    assert r.status_code == 200, r.text
    id_conv = r.json()["idConvention"]
    r = post_followup(sim, opco, "v1/conventions", conv)
    assert r.status_code == 409 and r.json()["idConvention"] == id_conv
    r = post_followup(sim, opco, "v1/conventions", {**conv, "numeroInterneDossier": "nope"})
    assert r.status_code == 404
    # rupture before ENGAGE: refused
    rupture = {"numeroInterne": n, "dateRupture": "2027-01-15", "motif": "commun accord"}
    r = sim.call("POST", opco, "v2/dossiers/rupture/employeur", json=rupture)
    assert r.status_code == 422, r.text
    # the clock moves the dossier: TRANSMIS -> EN_COURS_INSTRUCTION -> ENGAGE
    seen = {etat_of(sim, opco, n)["etat"]}
    for _ in range(6):
        sim.advance(1)
        seen.add(etat_of(sim, opco, n)["etat"])
    assert {"TRANSMIS", "EN_COURS_INSTRUCTION", "ENGAGE"} <= seen, seen
    read = detail(sim, opco, n)
    assert read["cerfa"]["etat"] == "ENGAGE"
    assert read["cerfa"]["contrat"].get("noContrat")
    assert read["engagement"] > 0
    ech = read["echeances"]
    assert [e["numero"] for e in ech] == list(range(1, len(ech) + 1))
    assert len(ech) >= 4
    # 40/30/20/10 of the first year (contract from 2025-07-01): 2nd / 3rd = 30 / 20
    assert ech[1]["montantTotal"] / ech[2]["montantTotal"] == pytest.approx(1.5, rel=0.01)
    assert ech[2]["montantTotal"] / ech[3]["montantTotal"] == pytest.approx(2.0, rel=0.01)
    assert ech[0]["dateOuverture"][:10] == d.cerfa["contrat"]["dateDebutContrat"][:10]
    assert sum(e["montantTotal"] for e in ech) <= read["engagement"] + 0.01
    for e in ech:
        assert e["montantRegle"] == 0 and e["montantEnCoursInstruction"] == 0
    assert read["engagementsFraisAnnexe"], "the convention's frais annexes"
    natures = {f["natureFrais"] for f in read["engagementsFraisAnnexe"]}
    if opco == "AKTO":  # §4.4: title case at AKTO, IBAN in capitals
        assert all(x[0].isupper() and x[1:] == x[1:].lower() for x in natures), natures
        assert "IBAN" in read["detailsFacturation"]
    else:
        assert all(x == x.upper() for x in natures), natures
    # liste returns the same read model
    r = sim.call("GET", opco, "v1/dossiers/liste", params={"numerosInternes": n})
    assert r.json()[0]["cerfa"]["etat"] == "ENGAGE"

    def facture(ref: str, montant: float, numero: int = 1) -> dict[str, Any]:
        """§0's facture: the dossier by its numeroExterne, the line's nature and codification."""
        line = {
            "montant": montant,
            "natureLigne": "PEDAGOGIE",
            "quantite": 1,
            "numeroEcheance": numero,
            "codificationEcheance": numero,
            "numeroDossier": ids["numeroExterne"],
        }
        return {
            "montantTotal": montant,
            "numero": ref,
            "dateEmission": f"{sim.today().isoformat()}T00:00:00+00:00",
            "ibanEmetteur": CFA_A.iban,
            "siretEmetteur": CFA_A.siret,
            "estCertificatRealisation": numero > 1,
            "lignes": [line],
        }

    first = ech[0]["montantTotal"]
    # échéance 1 not open yet (contract starts in the future)
    assert date.fromisoformat(ech[0]["dateOuverture"][:10]) > sim.today()
    r = post_followup(sim, opco, "v1/factures", facture(f"F-{n}-early", first))
    assert r.status_code == 422 and "ECHEANCE_NON_OUVERTE" in codes(r), r.text
    # open it
    sim.advance((date.fromisoformat(ech[0]["dateOuverture"][:10]) - sim.today()).days)
    r = post_followup(sim, opco, "v1/factures", facture(f"F-{n}-big", first + 100))
    assert r.status_code == 422 and "MONTANT_SUPERIEUR_RESTANT" in codes(r), r.text
    r = post_followup(sim, opco, "v1/factures", facture(f"F-{n}-late", 10, numero=2))
    assert r.status_code == 422 and "ECHEANCE_NON_OUVERTE" in codes(r), r.text
    r = post_followup(sim, opco, "v1/factures", facture(f"F-{n}-9", 10, numero=9))
    assert r.status_code == 422, r.text
    ref = f"F-{n}-1"
    r = post_followup(sim, opco, "v1/factures", facture(ref, first))
    assert r.status_code == 200, r.text
    fid = r.json()["numeroInterneFacture"]
    assert r.json()["etatFacture"] == "TRANSMIS"
    # its duplicate (same referenceFactureCFA): 409 with the ids
    r = post_followup(sim, opco, "v1/factures", facture(ref, first))
    assert r.status_code == 409 and r.json()["numeroInterneFacture"] == fid
    # nothing left on échéance 1 now
    r = post_followup(sim, opco, "v1/factures", facture(f"F-{n}-again", 1))
    assert r.status_code == 422 and "MONTANT_SUPERIEUR_RESTANT" in codes(r), r.text

    def facture_etat() -> dict[str, Any]:
        found = [f for f in all_etats(sim, opco, "factures") if f["numeroInterneFacture"] == fid]
        assert len(found) == 1
        return found[0]

    assert facture_etat()["referenceFactureCFA"] == ref
    sim.advance(1)
    assert facture_etat()["etatFacture"] == "EN_COURS_INSTRUCTION"
    assert detail(sim, opco, n)["echeances"][0]["montantEnCoursInstruction"] == pytest.approx(first)
    for _ in range(4):
        if facture_etat()["etatFacture"] == "REGLE":
            break
        sim.advance(1)
    paid = facture_etat()
    assert paid["etatFacture"] == "REGLE" and paid["referenceVirement"] and paid["dateReglement"]
    assert paid["dossiers"][0]["numeroInterneDossier"] == n
    e1 = detail(sim, opco, n)["echeances"][0]
    assert e1["montantRegle"] == pytest.approx(first) and e1["montantEnCoursInstruction"] == 0
    # rupture: ENGAGE -> RUPTURE, dateRupture in the read model, a second one is a duplicate
    rupture["dateRupture"] = f"{(sim.today() + timedelta(days=10)).isoformat()}T00:00:00+00:00"
    r = sim.call("POST", opco, "v2/dossiers/rupture/employeur", json=rupture)
    assert r.status_code == 200, r.text
    assert r.json()["etat"] == "RUPTURE" and r.json()["numeroInterne"] == n
    r = sim.call("POST", opco, "v2/dossiers/rupture/employeur", json=rupture)
    assert r.status_code == 409 and r.json()["numeroInterne"] == n
    assert etat_of(sim, opco, n)["etat"] == "RUPTURE"
    after = detail(sim, opco, n)
    frais = sum(f["montantTotal"] for f in after["engagementsFraisAnnexe"])
    kept = sum(e["montantTotal"] for e in after["echeances"])
    assert after["engagement"] == pytest.approx(kept + frais, abs=0.011)
    assert after["engagement"] < read["engagement"]
    assert after["echeances"][0]["montantRegle"] == pytest.approx(first)  # paid stays paid
    assert all(e["montantTotal"] == 0 for e in after["echeances"][1:] if e["montantRegle"] == 0)
    assert (
        detail(sim, opco, n)["cerfa"]["contrat"]["dateRupture"][:10] == rupture["dateRupture"][:10]
    )
    r = sim.call(
        "POST", opco, "v2/dossiers/rupture/employeur", json={**rupture, "numeroInterne": "nope"}
    )
    assert r.status_code == 404


def test_refusal_and_certificats_and_documents(sim: Sim) -> None:
    # REFUSE with a reason (an apprentice whose name starts with REFUS is always refused)
    d = new_dossier("AFDAS", start_in_days=25)
    refused = dict(d.cerfa)
    refused["apprenti"] = {**d.cerfa["apprenti"], "nom": "REFUSÉ"}
    rid = post_dossier(sim, "AFDAS", refused, "v1")["numeroInterne"]
    ok = post_dossier(sim, "AFDAS", d.cerfa, "v1")["numeroInterne"]
    for _ in range(5):
        sim.advance(1)
    r_read = detail(sim, "AFDAS", rid, "v1")
    assert r_read["cerfa"]["etat"] == "REFUSE" and r_read["cerfa"]["commentaireEtat"]
    assert r_read.get("echeances") in (None, [])
    assert detail(sim, "AFDAS", ok, "v1")["cerfa"]["etat"] == "ENGAGE"
    # certificat (AFDAS only), one per échéance
    cert = {**GEN.certificat(d)["data"]["certificat"], "numeroInterneDossier": ok}
    r = sim.call("POST", "AFDAS", "v2/certificats", json=cert)
    assert r.status_code == 201, r.text
    cid = r.json()["idCertificat"]
    r = sim.call("POST", "AFDAS", "v2/certificats", json=cert)
    assert r.status_code == 409 and r.json()["idCertificat"] == cid
    other = {**cert, "echeance": {**cert["echeance"], "numero": 2}}
    assert sim.call("POST", "AFDAS", "v2/certificats", json=other).status_code == 201
    unknown = {**cert, "echeance": {**cert["echeance"], "numero": 42}}
    r = sim.call("POST", "AFDAS", "v2/certificats", json=unknown)
    assert r.status_code == 422 and "ECHEANCE_INCONNUE" in codes(r)
    r = sim.call("POST", "AFDAS", "v2/certificats", json={**cert, "numeroInterneDossier": "nope"})
    assert r.status_code == 404
    # documents: multipart at AFDAS (convergence-api.md 0: infosFichier + fichier)
    pdf = b"%PDF-1.4 independent test\n%%EOF"
    infos = {
        "typeFichier": "CONVENTION_FORMATION",
        "objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": ok}],
    }

    def document(info: dict[str, Any], content: bytes) -> httpx.Response:
        files = {
            "infosFichier": (None, json.dumps(info).encode(), "application/json"),
            "fichier": ("convention.pdf", content, "application/pdf"),
        }
        return sim.call("POST", "AFDAS", "v1/documents", files=files)

    r = document(infos, pdf)
    assert r.status_code == 200, r.text
    did = r.json()["numeroInterneDocument"]
    r = document(infos, pdf)
    assert r.status_code == 409 and r.json()["numeroInterneDocument"] == did
    assert document(infos, pdf + b" ").status_code == 200
    assert hashlib.sha256(pdf).hexdigest() not in r.text
    unknown = {**infos, "objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "nope"}]}
    assert document(unknown, pdf).status_code == 404
    r = document(infos, b"MZ\x90\x00 not a pdf")
    assert r.status_code == 400 and "FORMAT_FICHIER" in codes(r)


# ----------------------------------------------------------------------------------- faults


def test_faults_seen_from_the_client(sim: Sim) -> None:
    opco = "OPCO2I"
    path = "v1/status"

    def faults(**spec: Any) -> None:
        sim.admin("PUT", f"faults/{opco}", json=spec)

    def delays(of: str, skip: int) -> list[float]:
        """The injected latency (ms) the simulator recorded for ``of``'s requests after ``skip``."""
        found = sim.admin("GET", "records", params={"opco": of, "limit": 100_000}).json()
        return [r["delayMs"] for r in found["records"][skip:]]

    # The latency is read from the records (delayMs), not bounded with a stopwatch: on a loaded
    # machine a call takes longer than its injected latency, never shorter.
    try:
        seen, seen_atlas = len(delays(opco, 0)), len(delays("ATLAS", 0))
        faults(latency_ms=400)
        t0 = time.monotonic()
        assert sim.call("GET", opco, path).status_code == 200
        assert time.monotonic() - t0 >= 0.38
        # other OPCO are not slowed down
        assert sim.call("GET", "ATLAS", path).status_code == 200
        assert delays(opco, seen) == [400]
        assert delays("ATLAS", seen_atlas) == [0]

        faults(latency_ms=100, jitter_ms=300)
        spent = []
        for _ in range(6):
            t0 = time.monotonic()
            assert sim.call("GET", opco, path).status_code == 200
            spent.append(time.monotonic() - t0)
        jittered = delays(opco, seen + 1)
        assert len(jittered) == 6 and all(100 <= d <= 400 for d in jittered), jittered
        assert all(s >= d / 1000 - 0.001 for s, d in zip(spent, jittered, strict=True)), spent
        assert max(jittered) - min(jittered) > 20, jittered  # jitter: not a fixed delay

        faults(error_rate=1.0, error_statuses=[502])
        assert sim.call("GET", opco, path).status_code == 502
        faults(error_rate=1.0)
        assert {sim.call("GET", opco, path).status_code for _ in range(12)} <= {500, 502, 503}

        faults(throttle_rate=1.0, retry_after_s=7)
        r = sim.call("GET", opco, path)
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"

        faults(timeout_rate=1.0, hang_s=60)
        with pytest.raises(httpx.ReadTimeout):
            sim.call("GET", opco, path, timeout=httpx.Timeout(5, read=0.7))

        faults(drop_rate=1.0)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
            sim.call("GET", opco, path)

        faults(down=True)
        r = sim.call("GET", opco, path)
        assert r.status_code == 503

        # a bounded fault: two errors then normal service
        faults(error_rate=1.0, max_faults=2)
        got = [sim.call("GET", opco, path).status_code for _ in range(4)]
        assert got[2:] == [200, 200] and all(s >= 500 for s in got[:2]), got

        # a fault limited to one route
        faults(error_rate=1.0, routes=["POST /v1/dossiers"])
        assert sim.call("GET", opco, path).status_code == 200
        r = sim.call("POST", opco, "v1/dossiers", json={"cerfa": new_dossier(opco).cerfa})
        assert r.status_code >= 500
        bad = httpx.put(
            f"{sim.base}/_admin/faults/{opco}",
            json={"error_rate": 1.0, "routes": ["no/such/route"]},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert bad.status_code == 400

        # stored but the response lost: the dossier exists, a resend is a 409 with its ids
        faults(stored_lost_rate=1.0)
        d = new_dossier(opco)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ReadTimeout)):
            sim.call("POST", opco, "v1/dossiers", json={"cerfa": d.cerfa}, timeout=3)
    finally:
        sim.admin("DELETE", f"faults/{opco}")
    assert sim.call("GET", opco, path).status_code == 200
    r = sim.call("POST", opco, "v1/dossiers", json={"cerfa": d.cerfa})
    assert r.status_code == 409, r.text
    kept = etat_of(sim, opco, r.json()["numeroInterne"], "v1")
    assert kept["numeroExterne"] == r.json()["numeroExterne"]
    # faults set at once for every OPCO through "*"? not required; faults listed by the admin
    listing = sim.admin("GET", "faults").json()
    assert opco not in str(listing) or "latency" not in str(listing.get(opco, ""))


# ----------------------------------------------------------------------------------- the record


def test_record_of_every_request(sim: Sim) -> None:
    opco = "CONSTRUCTYS"
    after = sim.admin("GET", "records", params={"opco": opco, "limit": 1000}).json()
    before = len(after["records"])
    expected: list[tuple[str, str, int | None]] = []

    def send(method: str, path: str, want: int | None, **kw: Any) -> None:
        try:
            r = sim.call(method, opco, path, **kw)
            assert r.status_code == want, (path, r.text)
        except httpx.TransportError:
            assert want is None
        expected.append((method, f"/{opco}/ApiEchangeCFA/{path}", want))  # the older base path

    send("GET", "v1/status", 200)
    send("GET", "v1/status", 400, headers={"EDITEUR": ""})
    send("GET", "v1/status", 403, headers={"X-API-KEY": "wrong"})
    send("POST", "v2/dossiers", 501, json={})
    send("GET", "v1/dossiers", 404, params={"numeroInterne": "nope"})
    cerfa = new_dossier(opco).cerfa
    send("POST", "v1/dossiers", 200, json={"cerfa": cerfa})
    send("POST", "v1/dossiers", 409, json={"cerfa": cerfa})
    sim.admin("PUT", f"faults/{opco}", json={"throttle_rate": 1.0})
    send("GET", "v1/status", 429)
    sim.admin("PUT", f"faults/{opco}", json={"drop_rate": 1.0})
    send("GET", "v1/status", None)
    sim.admin("DELETE", f"faults/{opco}")
    records = sim.admin("GET", "records", params={"opco": opco, "limit": 1000}).json()["records"]
    mine = records[before:]
    assert [(x["method"], x["path"]) for x in mine] == [(m, p) for m, p, _ in expected]
    for rec, (_, _, want) in zip(mine, expected, strict=True):
        if want is not None:
            assert rec["status"] == want, rec
    seqs = [x["seq"] for x in mine]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # requests outside the convergence routes are recorded too: AKTO's token endpoint, a 404
    last = seqs[-1]
    sim.token(fresh=True)
    assert sim.call("GET", opco, "v2/no/such/route").status_code == 404
    later = sim.admin("GET", "records", params={"after": last}).json()["records"]
    got = [(x["method"], x["path"], x["status"]) for x in later]
    assert ("POST", "/AKTO/SorApiIdentityServer/connect/token", 200) in got, got
    assert ("GET", f"/{opco}/ApiEchangeCFA/v2/no/such/route", 404) in got, got
    # no personal data or credentials in the record
    text = str(records)
    for value in (
        cerfa["apprenti"]["nom"],
        cerfa["apprenti"]["nir"],
        "wrong",
        key(CFA_A.siret, opco),
    ):
        assert value not in text, value


def test_openapi_document_served_per_opco(sim: Sim) -> None:
    committed = json.loads(
        (Path(__file__).parents[2] / "schemas" / "convergence" / "openapi.json").read_text()
    )
    for opco in ("AKTO", "SANTE"):
        r = httpx.get(sim.url(opco, "openapi.json"), timeout=10)
        assert r.status_code == 200
        doc = r.json()
        assert str(doc["openapi"]).startswith("3.")
        assert doc["paths"] == committed["paths"]
        assert any(opco in server["url"] for server in doc["servers"])
        for path in ("/v1/dossiers", "/v2/dossiers/etats", "/v2/cfakeyinfo", "/v1/factures"):
            assert path in doc["paths"], path


def test_wire_date_forms_of_the_standard(sim: Sim) -> None:
    """§1.7: the spec's examples use ``YYYY-MM-DDT00:00:00+0000``; ``+00:00`` and ``Z`` are seen
    too. The same dossier in any of these forms is one dossier (409 on the resend)."""

    def dated(value: Any, suffix: str) -> Any:
        if isinstance(value, dict):
            return {k: dated(v, suffix) for k, v in value.items()}
        if isinstance(value, list):
            return [dated(v, suffix) for v in value]
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            return value + suffix
        return value

    d = new_dossier("MOBILITES", sim=sim)
    ids = post_dossier(sim, "MOBILITES", dated(d.cerfa, "T00:00:00+0000"))
    for suffix in ("T00:00:00+00:00", "T00:00:00Z", ""):
        r = sim.call("POST", "MOBILITES", "v2/dossiers", json={"cerfa": dated(d.cerfa, suffix)})
        assert r.status_code == 409 and r.json()["numeroInterne"] == ids["numeroInterne"]
