"""The local directory store: files under a CFA's configured root (the embedded default, the
demo, a volume the CFA's ERP writes to). The policy has already checked the path lexically under
the root; here the real path is resolved too, so a symbolic link out of the root is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from relais.adapters.files.verified import ReferencedSource, verify
from relais.domain.file_locations import LocalLocation
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.services.files_port import FileStoreUnavailableError

CHUNK = 256 * 1024


@dataclass(frozen=True)
class LocalStoreSource(ReferencedSource):
    path: Path
    ref: FileReference

    def _stream(self) -> AsyncIterator[bytes]:
        return _read(self.path, self.ref)


async def open_local(
    location: LocalLocation, root: PurePosixPath, ref: FileReference
) -> LocalStoreSource:
    """The file at ``location`` under ``root``, checked (size, SHA-256, type)."""
    path = await asyncio.to_thread(_resolved, location, root, ref)
    source = LocalStoreSource(path, ref)
    await verify(source.chunks(), ref)
    return source


def _resolved(location: LocalLocation, root: PurePosixPath, ref: FileReference) -> Path:
    real_root = Path(root).resolve()
    path = Path(location.path).resolve()
    if not path.is_relative_to(real_root):
        raise FileRefusedError(
            FileCode.LOCATION_FORBIDDEN, f"{ref.fileName} : hors du répertoire autorisé"
        )
    if not path.is_file():
        raise FileRefusedError(FileCode.NOT_FOUND, f"{ref.fileName} : fichier introuvable")
    return path


async def _read(path: Path, ref: FileReference) -> AsyncIterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
    except FileNotFoundError:
        raise FileRefusedError(
            FileCode.NOT_FOUND, f"{ref.fileName} : fichier introuvable"
        ) from None
    except OSError as exc:
        raise FileStoreUnavailableError(
            f"file: lecture impossible ({type(exc).__name__})"
        ) from None
