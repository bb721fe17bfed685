"""The files relais sends to an OPCO (a signed convention, an invoice PDF, a document), as ports.

``FileSource`` is one file, read as a stream of chunks (never whole in memory): what the OPCO
client puts in a multipart body's ``fichier`` part. ``CfaFileOpener`` turns the ``FileReference``
an event carries into a ``FileSource`` for one CFA: it checks the CFA's grants
(``domain/file_policy.py``) before any I/O, then the file against its reference (size, SHA-256,
type by its bytes), and refuses with a ``FileRefusedError`` whose ``code`` says why
(``domain/file_refusals.py``). Its implementation is ``adapters/files/opener.StoreFileOpener`` (S3,
a CFA's local root, inline files). A store that cannot be reached raises
``FileStoreUnavailableError``: retry later, never a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from relais.domain.files import FileReference
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


class CfaFileOpener(Protocol):
    async def open(self, cfa: str, ref: FileReference) -> FileSource:
        """The file ``ref`` names if ``cfa`` may read it, checked (size, SHA-256, type by its
        bytes); raises ``FileRefusedError`` (permanent) or ``FileStoreUnavailableError``."""
        ...


class FileStoreUnavailableError(UnavailableError):
    """The store holding a file cannot be reached now (connection, 5xx, throttling): retry later.
    The message names the store's scheme and the failure's kind, never a credential."""

    code = "FILE_STORE_UNAVAILABLE"
