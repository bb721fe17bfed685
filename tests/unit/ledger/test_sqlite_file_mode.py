"""The SQLite ledger holds NIRs and IBANs (command payloads): its file and its -wal/-shm companions
are readable by their owner only (0600), whatever the umask, and a loose existing file is
tightened."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from relais.adapters.ledger.sqlite import SqliteLedger


@pytest.fixture()
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what makes a default file 0644
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
@pytest.mark.parametrize("existing", [False, True])
async def test_ledger_files_are_private(tmp_path: Path, existing: bool) -> None:
    db = tmp_path / "state" / "ledger.db"
    if existing:
        db.parent.mkdir()
        db.touch(mode=0o644)
        db.chmod(0o644)
    ledger = SqliteLedger(str(db))
    try:
        await ledger.migrate()
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(p.exists() for p in files), "WAL mode: the companions exist while open"
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await ledger.close()
