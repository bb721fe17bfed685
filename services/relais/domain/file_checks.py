"""What a file must be to be sent: its limits, its type by magic bytes, and the streaming check
of its size and SHA-256 against the reference (``FileCheck``).

The type is read from the bytes, not the name: a PDF starts ``%PDF-``, a PNG with its 8-byte
signature, a JPEG ``FF D8 FF``. An executable renamed ``.pdf`` (``MZ``, ``\\x7fELF``...) is refused
as ``FILE_TYPE_UNSUPPORTED``; so is a file whose bytes, declared media type and name extension do
not all agree. ``FileCheck`` is fed the chunks as they are read (never the whole file) and holds
only the running digest, the count and the first bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from relais.domain.file_locations import DEFAULT_INLINE_BYTES, MAX_INLINE_BYTES
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import MAX_FILE_BYTES, FileReference

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # the state's model: ~10 MB per file
SNIFF_BYTES = 8
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}
EXTENSIONS[".jpeg"] = "image/jpeg"


class FileLimits(BaseModel):
    """The configurable limits (a settings group when wired: ``RELAIS_FILES__MAX_BYTES``...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, le=MAX_FILE_BYTES)
    max_inline_bytes: int = Field(default=DEFAULT_INLINE_BYTES, ge=0, le=MAX_INLINE_BYTES)


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file show, or None (not pdf, png nor jpg)."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    return None


def check_reference(ref: FileReference, limits: FileLimits) -> None:
    """What can be refused from the reference alone, before any I/O: its size against the limit,
    its name's extension against its media type."""
    if ref.size > limits.max_bytes:
        raise FileRefusedError(
            FileCode.TOO_LARGE,
            f"{ref.fileName} : {ref.size} octets, la limite est {limits.max_bytes}",
        )
    extension = PurePosixPath(ref.fileName).suffix.lower()
    if EXTENSIONS.get(extension) != ref.mediaType:
        raise FileRefusedError(
            FileCode.TYPE_UNSUPPORTED,
            f"{ref.fileName} : l'extension ne correspond pas au type {ref.mediaType} "
            "(pdf, png ou jpg)",
        )


class FileCheck:
    """The size, SHA-256 and type of a file checked as its chunks go by."""

    def __init__(self, ref: FileReference) -> None:
        self._ref = ref
        self._sha = hashlib.sha256()
        self._head = b""
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        """Count and hash ``chunk``; refuses as soon as the file is longer than announced or its
        first bytes are not of its declared type."""
        self.size += len(chunk)
        if self.size > self._ref.size:
            raise self._mismatch()
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._check_type()
        self._sha.update(chunk)

    def finish(self) -> None:
        """The whole file has been fed: refuses unless it is exactly the referenced one."""
        if len(self._head) < SNIFF_BYTES:
            self._check_type()
        if self.size != self._ref.size or self._sha.hexdigest() != self._ref.sha256:
            raise self._mismatch()

    def _check_type(self) -> None:
        found = sniff(self._head)
        if found != self._ref.mediaType:
            shown = found or "ni pdf, ni png, ni jpg"
            raise FileRefusedError(
                FileCode.TYPE_UNSUPPORTED,
                f"{self._ref.fileName} : son contenu est {shown}, "
                f"la référence annonce {self._ref.mediaType}",
            )

    def _mismatch(self) -> FileRefusedError:
        return FileRefusedError(
            FileCode.HASH_MISMATCH,
            f"{self._ref.fileName} : le fichier diffère de sa référence "
            f"(taille ou SHA-256 ; {self._ref.size} octets annoncés)",
        )
