"""Local files for the tests, opened the way dispatch opens them: through ``StoreFileOpener`` with
a local-root grant for the CFAs that may read them (``domain/file_policy.py``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from relais.adapters.files.opener import StoreFileOpener
from relais.domain.file_policy import policy_from
from relais.domain.files import FileReference
from relais.domain.json_types import Json


def local_opener(root: Path, cfa: str) -> StoreFileOpener:
    """An opener that lets ``cfa`` read the files under ``root`` (and nothing else)."""
    return StoreFileOpener(policy_from({"cfas": {cfa: {"local_root": str(root.resolve())}}}))


def reference_json(
    location: str, data: bytes, name: str = "convention.pdf", media_type: str = "application/pdf"
) -> Json:
    """The reference of ``data`` at ``location``, as an event carries it (JSON)."""
    return {
        "location": location,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "mediaType": media_type,
        "fileName": name,
    }


def reference(
    location: str, data: bytes, name: str = "convention.pdf", media_type: str = "application/pdf"
) -> FileReference:
    """The reference of ``data`` at ``location``, as the stores open it."""
    return FileReference.model_validate(reference_json(location, data, name, media_type))


def file_reference(
    path: Path, *, media_type: str = "application/pdf", name: str | None = None
) -> FileReference:
    """The reference of an existing local file."""
    return reference(f"file://{path.resolve()}", path.read_bytes(), name or path.name, media_type)
