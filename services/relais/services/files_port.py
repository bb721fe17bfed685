"""The files relais sends to an OPCO (a signed convention, an invoice PDF), as ports.

``FileSource`` is one file, read as a stream of chunks (never whole in memory): what the OPCO
client puts in a multipart body's ``fichier`` part. ``FileOpener`` turns the ``FileRef`` an event
carries into a ``FileSource`` after checking the file is the one the reference names (size and
SHA-256). The local-path implementation is ``adapters/local_files.py`` (tests, demo).

Issue 18's stores (``adapters/files/``: S3, a local directory store, inline files) open a file for
one CFA: ``CfaFileOpener`` checks the CFA's grants (``domain/file_policy.py``) before any I/O, and
refuses with a ``FileRefusedError`` whose ``code`` says why (``domain/file_refusals.py``). A store
that cannot be reached raises ``FileStoreUnavailableError``: retry later, never a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileRef, FileReference
from relais.errors import UnavailableError


class FileSource(Protocol):
    """One file to send: its name, media type, size, and its bytes as chunks (each call to
    ``chunks`` starts again from the first byte: a retried request streams it again)."""

    @property
    def name(self) -> str: ...

    @property
    def media_type(self) -> str: ...

    @property
    def size(self) -> int: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


class FileOpener(Protocol):
    async def open(self, ref: FileRef) -> FileSource:
        """The file ``ref`` names, checked (size, SHA-256); raises ``FileUnavailableError``."""
        ...


class CfaFileOpener(Protocol):
    async def open(self, cfa: str, ref: FileReference) -> FileSource:
        """The file ``ref`` names if ``cfa`` may read it, checked (size, SHA-256, type by its
        bytes); raises ``FileRefusedError`` (permanent) or ``FileStoreUnavailableError``."""
        ...


class FileUnavailableError(FileRefusedError):
    """The file a reference names cannot be read, or differs from it (size or SHA-256).

    The message names the problem, never the file's content; the location may be a path the CFA
    chose: bounded by ``FileRef``'s own limits."""

    def __init__(self, message: str) -> None:
        super().__init__(FileCode.UNAVAILABLE, message)


class FileStoreUnavailableError(UnavailableError):
    """The store holding a file cannot be reached now (connection, 5xx, throttling): retry later.
    The message names the store's scheme and the failure's kind, never a credential."""

    code = "FILE_STORE_UNAVAILABLE"
