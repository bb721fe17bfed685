"""Credentials reloaded when their files change: a key rotated on disk (a Kubernetes Secret
updated in place) is used by the next OPCO call, without a restart."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from relais.adapters.credentials import CredentialStore
from relais.adapters.credentials_reload import ReloadingCredentialStore
from relais.adapters.opco.factory import build_gateway
from relais.config import Settings
from relais.domain.opco import OpcoCode
from tests.unit.opco.conftest import CFA, reply

OLD, NEW = "old-key-4b1d", "new-key-9c2e"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def mount_secret(root: Path, version: str, key: str) -> None:
    """What the kubelet does: files in a timestamped folder, ``..data`` swapped atomically."""
    data = root / f"..{version}"
    (data / "OCAPIAT").mkdir(parents=True)
    (data / "OCAPIAT" / CFA).write_text(key)
    (data / "OCAPIAT" / CFA).chmod(0o400)
    tmp = root / "..data_tmp"
    tmp.symlink_to(data.name)
    os.replace(tmp, root / "..data")
    if not (root / "OCAPIAT").exists():
        (root / "OCAPIAT").symlink_to("..data/OCAPIAT")


def store_for(root: Path, clock: Clock) -> ReloadingCredentialStore:
    return ReloadingCredentialStore(
        lambda: CredentialStore.load(secrets_dir=root), [root], check_every_s=2.0, clock=clock
    )


def key_of(store: CredentialStore) -> str:
    return store.api_key(CFA, OpcoCode.OCAPIAT).value.get_secret_value()


async def test_a_key_rotated_on_disk_is_used_by_the_next_call(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    root.mkdir()
    mount_secret(root, "2026_12_01", OLD)
    clock = Clock()
    store = store_for(root, clock)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(" ".join(request.headers.values()))
        return reply(200, {"cerfa": {}})

    gateway = build_gateway(Settings(), store, transport=httpx.MockTransport(handler))
    try:
        await gateway.get_dossier(CFA, OpcoCode.OCAPIAT, "N1")
        mount_secret(root, "2026_12_02", NEW)
        clock.now += 2.5
        assert not store.refresh()  # the change is seen; it must settle first
        clock.now += 2.5
        await gateway.get_dossier(CFA, OpcoCode.OCAPIAT, "N1")  # this call reloads
    finally:
        await gateway.aclose()
    assert OLD in sent[0] and NEW not in sent[0]
    assert NEW in sent[1] and OLD not in sent[1]
    assert store.reloads == 1 and store.problems == []


def test_files_are_looked_at_no_more_than_every_interval_and_reloaded_once_settled(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys.csv"
    keys.write_text(f"siret,opco,key,expiry\n{CFA},OCAPIAT,{OLD},\n")
    keys.chmod(0o600)
    clock = Clock()
    seen: list[int] = []
    store = ReloadingCredentialStore(
        lambda: CredentialStore.load(keys_csv=keys),
        [keys, None],
        clock=clock,
        on_reload=lambda fresh: seen.append(len(fresh.keys)),
    )
    keys.write_text(f"siret,opco,key,expiry\n{CFA},OCAPIAT,{NEW},\n")
    assert key_of(store) == OLD  # not looked at yet: within the interval
    clock.now = 2.0
    assert key_of(store) == OLD  # changed: waits for it to settle
    clock.now = 3.0
    assert key_of(store) == OLD  # within the interval again
    clock.now = 4.0
    assert key_of(store) == NEW
    assert seen == [1]
    clock.now = 10.0
    assert not store.refresh()  # nothing changed since
    assert store.reloads == 1


def test_a_file_still_being_written_is_not_loaded(tmp_path: Path) -> None:
    keys = tmp_path / "keys.csv"
    keys.write_text(f"siret,opco,key,expiry\n{CFA},OCAPIAT,{OLD},\n")
    keys.chmod(0o600)
    clock = Clock()
    store = ReloadingCredentialStore(
        lambda: CredentialStore.load(keys_csv=keys), [keys], clock=clock
    )
    keys.write_text("siret,opco,key,expiry\n")  # truncated mid-write
    clock.now = 2.0
    assert not store.refresh()
    keys.write_text(f"siret,opco,key,expiry\n{CFA},OCAPIAT,{NEW},\n")  # the write completes
    clock.now = 4.0
    assert not store.refresh()  # changed again since the last look: still settling
    clock.now = 6.0
    assert store.refresh() and key_of(store) == NEW
