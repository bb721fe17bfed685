"""Local files for the tests, opened the way dispatch opens them: through ``StoreFileOpener`` with
a local-root grant for the CFAs that may read them (``domain/file_policy.py``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from relais.adapters.files.opener import StoreFileOpener
from relais.domain.file_policy import policy_from
from relais.domain.files import FileReference


def local_opener(root: Path, cfa: str) -> StoreFileOpener:
    """An opener that lets ``cfa`` read the files under ``root`` (and nothing else)."""
    return StoreFileOpener(policy_from({"cfas": {cfa: {"local_root": str(root.resolve())}}}))


def file_reference(
    path: Path, *, media_type: str = "application/pdf", name: str | None = None
) -> FileReference:
    """The reference of an existing local file."""
    data = path.read_bytes()
    return FileReference.model_validate(
        {
            "location": f"file://{path.resolve()}",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "mediaType": media_type,
            "fileName": name or path.name,
        }
    )
