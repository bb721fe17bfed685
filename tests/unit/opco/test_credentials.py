"""Credentials: CSV keys file, secret-mount directory, OAuth clients; secrets never shown."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from relais.adapters.credentials import CredentialStore
from relais.domain.opco import OpcoCode
from relais.errors import MissingCredentialsError

SIRET = "12345678900011"
SECRET = "s3cr3t-key-value-42"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_keys_csv(tmp_path: Path) -> None:
    keys = write(
        tmp_path / "keys.csv",
        "siret,opco,key,expiry\n"
        f"{SIRET},AFDAS,{SECRET},2027-06-30\n"
        f"{SIRET},akto,other-key,\n"
        "# a comment line,,,\n"
        "\n",
    )
    store = CredentialStore.load(keys_csv=keys)
    assert store.problems == []
    assert store.api_key(SIRET, OpcoCode.AFDAS).value.get_secret_value() == SECRET
    assert store.api_key(SIRET, OpcoCode.AFDAS).expiry == date(2027, 6, 30)
    assert store.api_key(SIRET, OpcoCode.AKTO).expiry is None
    assert store.has_key(SIRET, OpcoCode.AKTO)
    assert not store.has_key(SIRET, OpcoCode.ATLAS)
    assert [(e.siret, e.opco) for e in store.entries()] == [
        (SIRET, OpcoCode.AFDAS),
        (SIRET, OpcoCode.AKTO),
    ]


def test_keys_csv_problems_skip_bad_rows(tmp_path: Path) -> None:
    keys = write(
        tmp_path / "keys.csv",
        "siret,opco,key,expiry\n"
        f"123,AFDAS,{SECRET},\n"
        f"{SIRET},NOPE,{SECRET},\n"
        f"{SIRET},ATLAS,,\n"
        f"{SIRET},OCAPIAT,{SECRET},31/12/2027\n"
        f"{SIRET},SANTE,{SECRET},2027-01-01\n",
        mode=0o644,
    )
    store = CredentialStore.load(keys_csv=keys)
    assert list(store.keys) == [(SIRET, OpcoCode.OCAPIAT), (SIRET, OpcoCode.SANTE)]
    text = "\n".join(store.problems)
    assert "readable by group or others (mode 644)" in text
    assert ":2: not a SIRET" in text
    assert ":3: unknown OPCO" in text and "NOPE" not in text  # a value there may be a key
    assert ":4: empty key" in text
    assert ":5: expiry is not a date" in text
    assert SECRET not in text


def test_keys_csv_bad_header(tmp_path: Path) -> None:
    keys = write(tmp_path / "keys.csv", "cfa,opco,secret\n1,2,3\n")
    store = CredentialStore.load(keys_csv=keys)
    assert store.keys == {}
    assert store.problems == [f"{keys}: header lacks siret, key"]


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    store = CredentialStore.load(keys_csv=tmp_path / "nope.csv", secrets_dir=tmp_path / "nodir")
    assert len(store.problems) == 3  # stat, read, not a directory
    assert store.keys == {}


def test_directory_layout(tmp_path: Path) -> None:
    root = tmp_path / "secrets"
    write(root / "AFDAS" / SIRET, SECRET + "\n")
    write(root / "AFDAS" / f"{SIRET}.expiry", "2027-03-31\n")
    write(root / "ATLAS" / SIRET, "atlas-key", mode=0o640)
    write(root / "ATLAS" / "not-a-siret", "x")
    write(root / "AFDAS" / ".hidden", "ignored")
    write(root / "oauth" / "AKTO" / "client_id", "relais-client")
    write(root / "oauth" / "AKTO" / "client_secret", "oauth-secret-value")
    write(root / "oauth" / "ATLAS" / "client_id", "only-id")
    write(root / "WHAT" / SIRET, "x")
    (root / "..data").mkdir()  # Kubernetes secret mounts carry hidden bookkeeping dirs
    store = CredentialStore.load(secrets_dir=root)
    assert store.api_key(SIRET, OpcoCode.AFDAS).value.get_secret_value() == SECRET
    assert store.api_key(SIRET, OpcoCode.AFDAS).expiry == date(2027, 3, 31)
    assert store.api_key(SIRET, OpcoCode.ATLAS).expiry is None
    client = store.oauth_client(OpcoCode.AKTO)
    assert client.client_id == "relais-client"
    assert client.client_secret.get_secret_value() == "oauth-secret-value"
    problems = "\n".join(store.problems)
    assert "ATLAS/12345678900011: readable by group or others (mode 640)" in problems
    assert "not-a-siret: not a SIRET" in problems
    assert "oauth/ATLAS: needs both client_id and client_secret" in problems
    assert "unknown OPCO 'WHAT'" in problems
    assert "..data" not in problems
    assert "oauth-secret-value" not in problems


def test_oauth_csv_and_later_sources_override(tmp_path: Path) -> None:
    oauth = write(
        tmp_path / "oauth.csv",
        "opco,client_id,client_secret\nAKTO,csv-id,csv-secret\nATLAS,,\n",
    )
    keys = write(tmp_path / "keys.csv", f"siret,opco,key,expiry\n{SIRET},AFDAS,from-csv,\n")
    root = tmp_path / "dir"
    write(root / "AFDAS" / SIRET, "from-dir")
    store = CredentialStore.load(keys_csv=keys, oauth_csv=oauth, secrets_dir=root)
    assert store.api_key(SIRET, OpcoCode.AFDAS).value.get_secret_value() == "from-dir"
    assert store.oauth_client(OpcoCode.AKTO).client_id == "csv-id"
    assert store.problems == [f"{oauth}:3: empty client_id or client_secret"]


def test_missing_credentials_error() -> None:
    store = CredentialStore()
    with pytest.raises(MissingCredentialsError) as exc:
        store.api_key(SIRET, OpcoCode.AFDAS)
    assert exc.value.cfa == SIRET
    assert "AFDAS" in str(exc.value)
    with pytest.raises(MissingCredentialsError, match="OAuth2 client"):
        store.oauth_client(OpcoCode.AKTO, SIRET)


def test_no_secret_in_reprs() -> None:
    store = CredentialStore()
    store.add_key(SIRET, OpcoCode.AFDAS, SECRET, date(2027, 1, 1))
    store.add_oauth(OpcoCode.AKTO, "id", "oauth-secret-value")
    shown = " ".join(
        [
            repr(store),
            str(store),
            repr(store.api_key(SIRET, OpcoCode.AFDAS)),
            repr(store.oauth_client(OpcoCode.AKTO)),
            repr(store.entries()),
        ]
    )
    assert SECRET not in shown
    assert "oauth-secret-value" not in shown
    assert "keys=1" in repr(store)


def test_key_expiry() -> None:
    store = CredentialStore()
    store.add_key(SIRET, OpcoCode.AFDAS, SECRET, date(2026, 11, 26))
    key = store.api_key(SIRET, OpcoCode.AFDAS)
    assert key.expired(date(2026, 11, 27))
    assert not key.expired(date(2026, 11, 26))


def test_a_row_missing_its_opco_column_never_shows_the_key(tmp_path: Path) -> None:
    """``siret,key`` under a ``siret,opco,key`` header: the key lands in the OPCO column."""
    keys = write(tmp_path / "keys.csv", f"siret,opco,key,expiry\n{SIRET},{SECRET}\n")
    store = CredentialStore.load(keys_csv=keys)
    assert store.keys == {}
    text = "\n".join(store.problems)
    assert ":2: unknown OPCO" in text
    assert SECRET[:4] not in text  # not even its first characters


def test_short_and_long_rows_are_problems_not_crashes(tmp_path: Path) -> None:
    keys = write(
        tmp_path / "keys.csv",
        f"siret,opco,key,expiry\n{SIRET}\n{SIRET},AFDAS\n{SIRET},AKTO,{SECRET},,extra\n",
    )
    oauth = write(tmp_path / "oauth.csv", "opco,client_id,client_secret\nAKTO\n")
    store = CredentialStore.load(keys_csv=keys, oauth_csv=oauth)
    text = "\n".join(store.problems)
    assert ":2: unknown OPCO" in text and ":3: empty key" in text
    assert ":2: empty client_id or client_secret" in text
    assert list(store.keys) == [(SIRET, OpcoCode.AKTO)]
    assert SECRET not in text


def test_config_check_reports_a_short_row(tmp_path: Path) -> None:
    from relais.config import CredentialsSettings, Settings
    from relais.operator.config_check import check

    keys = write(tmp_path / "keys.csv", f"siret,opco,key,expiry\n{SIRET}\n")
    report = check(
        Settings(credentials=CredentialsSettings(keys_file=keys)), today=date(2026, 11, 27)
    )
    assert any(":2: unknown OPCO" in f.message for f in report.findings if f.level == "error")


def _fs_group_file(path: Path, monkeypatch: pytest.MonkeyPatch, mode: int) -> None:
    """``path`` owned by a group this process is taken to be in (a pod's fsGroup), ``mode``."""
    gid = os.getegid() or 10001  # root may give the file any group
    os.chown(path, -1, gid)
    path.chmod(mode)
    monkeypatch.setattr("relais.secret_files.process_groups", lambda: frozenset({gid}))


def test_a_kubernetes_secret_at_0440_with_the_fs_group_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Secret mounted 0400 becomes 0440, group = the pod's fsGroup: not a problem."""
    root = tmp_path / "keys"
    write(root / "AFDAS" / SIRET, SECRET)
    _fs_group_file(root / "AFDAS" / SIRET, monkeypatch, 0o440)
    store = CredentialStore.load(secrets_dir=root)
    assert store.problems == []
    assert store.api_key(SIRET, OpcoCode.AFDAS).value.get_secret_value() == SECRET
    for loose in (0o460, 0o444, 0o450):  # group write/exec, or others: still reported
        (root / "AFDAS" / SIRET).chmod(loose)
        assert len(CredentialStore.load(secrets_dir=root).problems) == 1, oct(loose)


def test_group_read_by_a_group_this_process_is_not_in_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "keys"
    write(root / "AFDAS" / SIRET, SECRET)
    _fs_group_file(root / "AFDAS" / SIRET, monkeypatch, 0o440)
    monkeypatch.setattr("relais.secret_files.process_groups", lambda: frozenset({4242}))
    (problem,) = CredentialStore.load(secrets_dir=root).problems
    assert "readable by group or others (mode 440)" in problem and SECRET not in problem
