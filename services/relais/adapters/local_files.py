"""Files on a local path (``FileRef.location`` a path or ``file://``): the tests' and the demo's
``FileOpener``; issue 18 adds object stores behind the same port (``services/files_port.py``).

A file is read in chunks, never whole: once to check its size and SHA-256 against the reference
(``open``), then once per request that sends it (``chunks``)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from relais.domain.files import FileRef
from relais.services.files_port import FileUnavailableError

CHUNK = 64 * 1024


@dataclass(frozen=True)
class LocalFileSource:
    """One local file as a ``FileSource``."""

    path: Path
    name: str
    media_type: str
    size: int

    async def chunks(self) -> AsyncIterator[bytes]:
        with self.path.open("rb") as handle:
            sent = 0
            while True:
                chunk = await asyncio.to_thread(handle.read, CHUNK)
                if not chunk:
                    break
                sent += len(chunk)
                if sent > self.size:
                    raise FileUnavailableError(
                        f"{self.name} : le fichier a grossi pendant son envoi"
                    )
                yield chunk
        if sent != self.size:
            raise FileUnavailableError(f"{self.name} : le fichier a changé pendant son envoi")


class LocalFileOpener:
    """``FileOpener`` for local paths, optionally confined under ``root`` (a path outside it is
    refused, even through a symbolic link)."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root.resolve() if root is not None else None

    async def open(self, ref: FileRef) -> LocalFileSource:
        path = Path(ref.path)
        if self._root is not None:
            resolved = await asyncio.to_thread(path.resolve)
            if not resolved.is_relative_to(self._root):
                raise FileUnavailableError(
                    f"{ref.fileName} : hors du répertoire de fichiers autorisé"
                )
        digest, size = await asyncio.to_thread(_digest, path, ref)
        if size != ref.size:
            raise FileUnavailableError(
                f"{ref.fileName} : {size} octets, la référence en annonce {ref.size}"
            )
        if digest != ref.sha256:
            raise FileUnavailableError(f"{ref.fileName} : le SHA-256 diffère de la référence")
        return LocalFileSource(path, ref.fileName, ref.mediaType, size)


def _digest(path: Path, ref: FileRef) -> tuple[str, int]:
    try:
        if not path.is_file():
            raise FileUnavailableError(f"{ref.fileName} : fichier introuvable")
        sha = hashlib.sha256()
        size = 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                size += len(chunk)
                if size > ref.size:  # never hash more than the reference announces
                    return "", size
                sha.update(chunk)
        return sha.hexdigest(), size
    except OSError as exc:
        raise FileUnavailableError(
            f"{ref.fileName} : illisible ({os.strerror(exc.errno or 0) or type(exc).__name__})"
        ) from None


def file_ref(
    path: Path, *, media_type: str = "application/pdf", name: str | None = None
) -> FileRef:
    """The reference of an existing local file (tests, the demo's sample PDFs)."""
    data = path.read_bytes()
    return FileRef.model_validate(
        {
            "location": f"file://{path.resolve()}",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "mediaType": media_type,
            "fileName": name or path.name,
        }
    )
