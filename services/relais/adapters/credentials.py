"""Credentials per (CFA SIRET, OPCO) and OAuth2 clients per OPCO, loaded from files.

Sources (any combination; a later source overrides an earlier one for the same pair):

* a CSV keys file, header ``siret,opco,key,expiry`` (the simulator's ``--keys`` format; expiry
  ``YYYY-MM-DD`` or empty);
* a directory, e.g. a Kubernetes secret mount: ``<dir>/<OPCO>/<SIRET>`` holds the key,
  ``<dir>/<OPCO>/<SIRET>.expiry`` its optional expiry date; ``<dir>/oauth/<OPCO>/client_id`` and
  ``client_secret`` the OAuth2 client of the software for that OPCO (``dpop_key.pem`` beside them:
  the private key DPoP proofs are signed with), ``<dir>/oauth/<OPCO>/<SIRET>/`` the same files for
  one CFA's own client (convergence-api.md 0: the CFA's client credentials);
* a CSV OAuth file, header ``opco,client_id,client_secret`` and optional columns ``siret`` (one
  CFA's client; empty: the software's) and ``dpop_key_file`` (a PEM file);
* the environment (``RELAIS_CREDENTIALS__KEYS__<OPCO>__<SIRET>``,
  ``RELAIS_CREDENTIALS__OAUTH_CLIENTS__<OPCO>__CLIENT_ID``/``__CLIENT_SECRET``), read by
  ``relais.config`` and added by ``load_credentials(settings)`` (they win).

Secrets are held as ``SecretStr``: they never show in a repr, a log line or an exception. Problems
found while loading (unreadable or group/other-readable files, bad SIRET, unknown OPCO, bad
dates) are collected in ``CredentialStore.problems`` for ``relais config check``; a file that cannot
be used is skipped, the rest still loads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from relais.config import Settings
from relais.domain.opco import OpcoCode
from relais.errors import MissingCredentialsError
from relais.secret_files import too_open, too_open_message

OAUTH_DIR = "oauth"


@dataclass(frozen=True)
class ApiKey:
    value: SecretStr
    expiry: date | None = None

    def expired(self, today: date) -> bool:
        return self.expiry is not None and self.expiry < today


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: SecretStr
    dpop_key: SecretStr | None = None
    """The PEM private key DPoP proofs are signed with (OPCOs whose profile has ``auth.dpop``)."""


@dataclass(frozen=True)
class KeyEntry:
    """What may be shown about a key: whose it is and when it expires, never its value."""

    siret: str
    opco: OpcoCode
    expiry: date | None


@dataclass
class CredentialStore:
    keys: dict[tuple[str, OpcoCode], ApiKey] = field(default_factory=dict)
    oauth: dict[OpcoCode, OAuthClient] = field(default_factory=dict)
    cfa_oauth: dict[tuple[str, OpcoCode], OAuthClient] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"CredentialStore(keys={len(self.keys)}, oauth={sorted(self.oauth)}, "
            f"cfa_oauth={len(self.cfa_oauth)}, problems={len(self.problems)})"
        )

    @classmethod
    def load(
        cls,
        *,
        keys_csv: Path | None = None,
        secrets_dir: Path | None = None,
        oauth_csv: Path | None = None,
    ) -> CredentialStore:
        store = cls()
        if keys_csv is not None:
            store.load_keys_csv(keys_csv)
        if oauth_csv is not None:
            store.load_oauth_csv(oauth_csv)
        if secrets_dir is not None:
            store.load_dir(secrets_dir)
        return store

    # ---- lookups -------------------------------------------------------------------------

    def api_key(self, cfa: str, opco: OpcoCode) -> ApiKey:
        key = self.keys.get((cfa, OpcoCode(opco)))
        if key is None:
            raise MissingCredentialsError(cfa, str(opco))
        return key

    def oauth_client(self, opco: OpcoCode, cfa: str = "*") -> OAuthClient:
        """The CFA's own client at ``opco`` if it has one, else the software's."""
        client = self.cfa_oauth.get((cfa, OpcoCode(opco))) or self.oauth.get(OpcoCode(opco))
        if client is None:
            raise MissingCredentialsError(cfa, f"{opco} (OAuth2 client)")
        return client

    def has_oauth(self, cfa: str, opco: OpcoCode, *, dpop: bool = False) -> bool:
        client = self.cfa_oauth.get((cfa, OpcoCode(opco))) or self.oauth.get(OpcoCode(opco))
        return client is not None and (not dpop or client.dpop_key is not None)

    def has_key(self, cfa: str, opco: OpcoCode) -> bool:
        return (cfa, OpcoCode(opco)) in self.keys

    def entries(self) -> list[KeyEntry]:
        return [
            KeyEntry(siret, opco, key.expiry) for (siret, opco), key in sorted(self.keys.items())
        ]

    def add_key(self, siret: str, opco: OpcoCode, key: str, expiry: date | None = None) -> None:
        self.keys[(siret, OpcoCode(opco))] = ApiKey(SecretStr(key), expiry)

    def add_oauth(
        self,
        opco: OpcoCode,
        client_id: str,
        client_secret: str,
        *,
        cfa: str | None = None,
        dpop_key: str | None = None,
    ) -> None:
        """The software's client at ``opco``, or the CFA ``cfa``'s own one."""
        key = SecretStr(dpop_key) if dpop_key else None
        client = OAuthClient(client_id, SecretStr(client_secret), key)
        if cfa is None:
            self.oauth[OpcoCode(opco)] = client
        else:
            self.cfa_oauth[(cfa, OpcoCode(opco))] = client

    # ---- loaders -------------------------------------------------------------------------

    def load_keys_csv(self, path: Path) -> None:
        rows = self._csv_rows(path, ("siret", "opco", "key"))
        for line, row in rows:
            where = f"{path}:{line}"
            # A short row lacks its last columns: .get, never [] (a problem, not a crash).
            siret = self._siret(row.get("siret", ""), where)
            opco = self._opco(row.get("opco", ""), where)
            key = (row.get("key") or "").strip()
            expiry = self._date(row.get("expiry") or "", where)
            if siret is None or opco is None:
                continue
            if not key:
                self.problems.append(f"{where}: empty key")
                continue
            self.add_key(siret, opco, key, expiry)

    def load_oauth_csv(self, path: Path) -> None:
        for line, row in self._csv_rows(path, ("opco", "client_id", "client_secret")):
            where = f"{path}:{line}"
            opco = self._opco(row.get("opco", ""), where)
            client_id = (row.get("client_id") or "").strip()
            secret = (row.get("client_secret") or "").strip()
            if opco is None:
                continue
            if not client_id or not secret:
                self.problems.append(f"{where}: empty client_id or client_secret")
                continue
            cfa = None
            if (row.get("siret") or "").strip():
                cfa = self._siret(row["siret"], where)
                if cfa is None:
                    continue
            dpop_key = None
            if (row.get("dpop_key_file") or "").strip():
                dpop_key = self._read_secret(path.parent / row["dpop_key_file"].strip())
                if dpop_key is None:
                    continue
            self.add_oauth(opco, client_id, secret, cfa=cfa, dpop_key=dpop_key)

    def load_dir(self, root: Path) -> None:
        if not root.is_dir():
            self.problems.append(f"{root}: not a directory")
            return
        for opco_dir in _visible_dirs(root):
            if opco_dir.name == OAUTH_DIR:
                self._load_oauth_dir(opco_dir)
                continue
            opco = self._opco(opco_dir.name, str(opco_dir), show=True)
            if opco is None:
                continue
            for entry in sorted(opco_dir.iterdir()):
                if entry.name.startswith(".") or entry.name.endswith(".expiry"):
                    continue
                if not entry.is_file():
                    continue
                siret = self._siret(entry.name, str(entry))
                key = self._read_secret(entry)
                if siret is None or key is None:
                    continue
                expiry_file = entry.with_name(f"{entry.name}.expiry")
                expiry = None
                if expiry_file.is_file():
                    expiry = self._date(expiry_file.read_text(encoding="utf-8"), str(expiry_file))
                self.add_key(siret, opco, key, expiry)

    def _load_oauth_dir(self, oauth_root: Path) -> None:
        for opco_dir in _visible_dirs(oauth_root):
            opco = self._opco(opco_dir.name, str(opco_dir), show=True)
            if opco is None:
                continue
            self._load_oauth_client(opco_dir, opco, None)
            for cfa_dir in _visible_dirs(opco_dir):
                siret = self._siret(cfa_dir.name, str(cfa_dir))
                if siret is not None:
                    self._load_oauth_client(cfa_dir, opco, siret)

    def _load_oauth_client(self, folder: Path, opco: OpcoCode, cfa: str | None) -> None:
        id_file, secret_file = folder / "client_id", folder / "client_secret"
        if not id_file.is_file() and not secret_file.is_file() and cfa is None:
            return  # only per-CFA clients under this OPCO
        if not id_file.is_file() or not secret_file.is_file():
            self.problems.append(f"{folder}: needs both client_id and client_secret files")
            return
        client_id = self._read_secret(id_file)
        secret = self._read_secret(secret_file)
        dpop_file = folder / "dpop_key.pem"
        dpop_key = self._read_secret(dpop_file) if dpop_file.is_file() else None
        if client_id is not None and secret is not None:
            self.add_oauth(opco, client_id, secret, cfa=cfa, dpop_key=dpop_key)

    # ---- helpers -------------------------------------------------------------------------

    def _check_mode(self, path: Path) -> None:
        try:
            st = path.stat()
        except OSError as exc:
            self.problems.append(f"{path}: cannot stat ({exc.strerror})")
            return
        if too_open(st):
            self.problems.append(too_open_message(path, st))

    def _read_secret(self, path: Path) -> str | None:
        self._check_mode(path)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{path}: unreadable ({type(exc).__name__})")
            return None
        if not value:
            self.problems.append(f"{path}: empty")
            return None
        return value

    def _csv_rows(self, path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
        self._check_mode(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(f"{path}: unreadable ({type(exc).__name__})")
            return []
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [name for name in required if name not in header]
        if missing:
            self.problems.append(f"{path}: header lacks {', '.join(missing)}")
            return []
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            if (row.get(header[0]) or "").lstrip().startswith("#"):
                continue
            clean = {k: (v or "").strip() for k, v in row.items() if isinstance(v, str)}
            rows.append((reader.line_num, clean))
        return rows

    def _siret(self, raw: str, where: str) -> str | None:
        siret = raw.strip().replace(" ", "")
        if len(siret) == 14 and siret.isascii() and siret.isdigit():
            return siret
        self.problems.append(f"{where}: not a SIRET (14 digits)")
        return None

    def _opco(self, raw: str, where: str, *, show: bool = False) -> OpcoCode | None:
        """``show``: the value may be echoed (a folder name). A CSV cell never is: in a row
        missing its OPCO column, the key sits there."""
        try:
            return OpcoCode(raw.strip().upper())
        except ValueError:
            shown = f" {raw.strip()[:20]!r}" if show else " (value not shown)"
            self.problems.append(f"{where}: unknown OPCO{shown}")
            return None

    def _date(self, raw: str, where: str) -> date | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            self.problems.append(f"{where}: expiry is not a date (YYYY-MM-DD)")
            return None


def _visible_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_credentials(settings: Settings) -> CredentialStore:
    """The credential store the settings describe (keys file, keys directory, OAuth clients,
    keys from the environment: these last win)."""
    creds = settings.credentials
    store = CredentialStore.load(
        keys_csv=creds.keys_file, secrets_dir=creds.keys_dir, oauth_csv=creds.oauth_clients_file
    )
    for opco, client in creds.oauth_clients.items():
        dpop_key = client.dpop_key.get_secret_value() if client.dpop_key is not None else None
        if client.dpop_key_file is not None:
            dpop_key = store._read_secret(client.dpop_key_file)
        store.add_oauth(
            opco, client.client_id, client.client_secret.get_secret_value(), dpop_key=dpop_key
        )
    for opco, by_siret in creds.keys.items():
        for raw_siret, key in by_siret.items():
            siret = raw_siret.strip().replace(" ", "")
            value = key.get_secret_value().strip()
            if not (len(siret) == 14 and siret.isascii() and siret.isdigit()):
                store.problems.append(f"credentials.keys.{opco}: not a SIRET (14 digits)")
            elif not value:
                store.problems.append(f"credentials.keys.{opco}.{siret}: empty key")
            else:
                store.add_key(siret, opco, value)
    return store
