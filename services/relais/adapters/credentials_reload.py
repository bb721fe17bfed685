"""CFA keys reloaded when their files change: a rotated key is used by the next OPCO call.

``relais run`` builds its credential store with ``reloading_credentials``: the same store as
``load_credentials`` (``credentials.py``), stat-ed at call time and loaded again once a change of
its files has settled. Problems are logged at each load, naming files and rows, never values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from relais.adapters.credentials import (
    ApiKey,
    CredentialStore,
    KeyEntry,
    OAuthClient,
    load_credentials,
)
from relais.config import Settings, loose_secret_files
from relais.domain.opco import OpcoCode
from relais.logging import get_logger

log = get_logger("relais.credentials")

Fingerprint = tuple[tuple[str, int, int, int], ...]


class ReloadingCredentialStore(CredentialStore):
    """A store that reloads itself when one of its files changes, checked at call time.

    A mounted Kubernetes Secret is updated in place (an atomic swap of its ``..data`` link) when
    the Secret changes: the next OPCO call after a key is rotated on disk uses the new key, with
    no restart. At most every ``check_every_s`` the files are stat-ed (path, mtime, size, inode;
    never read); a change is reloaded once it has settled (the same on two checks in a row), so a
    CSV caught half-written is not loaded. ``on_reload`` receives the new store (to log its
    problems, refresh the key-expiry gauge).
    """

    def __init__(
        self,
        load: Callable[[], CredentialStore],
        watched: Iterable[Path | None],
        *,
        check_every_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        on_reload: Callable[[CredentialStore], None] | None = None,
    ) -> None:
        first = load()
        super().__init__(keys=first.keys, oauth=first.oauth, problems=first.problems)
        self._load = load
        self._watched = [p for p in watched if p is not None]
        self._every = check_every_s
        self._clock = clock
        self._on_reload = on_reload
        self._stamp = _fingerprint(self._watched)
        self._pending: Fingerprint | None = None
        self._checked = clock()
        self.reloads = 0

    def refresh(self) -> bool:
        """Reload if the files changed and settled since the last load; whether it did."""
        now = self._clock()
        if now - self._checked < self._every:
            return False
        self._checked = now
        stamp = _fingerprint(self._watched)
        if stamp == self._stamp:
            self._pending = None
            return False
        if stamp != self._pending:
            self._pending = stamp  # changed since the last look: wait until it settles
            return False
        fresh = self._load()
        self.keys, self.oauth, self.problems = fresh.keys, fresh.oauth, fresh.problems
        self.cfa_oauth = fresh.cfa_oauth
        self._stamp, self._pending = stamp, None
        self.reloads += 1
        if self._on_reload is not None:
            self._on_reload(fresh)
        return True

    def api_key(self, cfa: str, opco: OpcoCode) -> ApiKey:
        self.refresh()
        return super().api_key(cfa, opco)

    def oauth_client(self, opco: OpcoCode, cfa: str = "*") -> OAuthClient:
        self.refresh()
        return super().oauth_client(opco, cfa)

    def has_key(self, cfa: str, opco: OpcoCode) -> bool:
        self.refresh()
        return super().has_key(cfa, opco)

    def has_oauth(self, cfa: str, opco: OpcoCode, *, dpop: bool = False) -> bool:
        self.refresh()
        return super().has_oauth(cfa, opco, dpop=dpop)

    def entries(self) -> list[KeyEntry]:
        self.refresh()
        return super().entries()


def _fingerprint(paths: Iterable[Path]) -> Fingerprint:
    """Path, mtime, size and inode of every file under ``paths`` (symbolic links followed)."""
    out: list[tuple[str, int, int, int]] = []
    for root in paths:
        files = sorted(p for p in root.rglob("*") if not p.is_dir()) if root.is_dir() else [root]
        for path in files:
            try:
                st = path.stat()
            except OSError:
                out.append((str(path), -1, -1, -1))
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def reloading_credentials(
    settings: Settings, *, on_load: Callable[[CredentialStore], None]
) -> ReloadingCredentialStore:
    """``load_credentials``, loaded again when one of its files changes (``relais run``). At the
    first load and each reload, every problem the store found (a loose file mode, an empty key, a
    bad row: files and rows named, never values) is logged, then ``on_load`` sees the store (the
    key-expiry gauges)."""
    creds = settings.credentials

    def loaded(store: CredentialStore) -> None:
        for problem in [*store.problems, *loose_secret_files()]:
            log.warning("credentials.problem", problem=problem)
        on_load(store)

    def reloaded(store: CredentialStore) -> None:
        log.info("credentials.reloaded", keys=len(store.keys), problems=len(store.problems))
        loaded(store)

    store = ReloadingCredentialStore(
        lambda: load_credentials(settings),
        [creds.keys_file, creds.keys_dir, creds.oauth_clients_file],
        on_reload=reloaded,
    )
    loaded(store)
    return store
