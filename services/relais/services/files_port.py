"""The files relais sends to an OPCO (a signed convention, an invoice PDF), as ports.

``FileSource`` is one file, read as a stream of chunks (never whole in memory): what the OPCO
client puts in a multipart body's ``fichier`` part. ``FileOpener`` turns the ``FileRef`` an event
carries into a ``FileSource`` after checking the file is the one the reference names (size and
SHA-256). The local-path implementation is ``adapters/local_files.py`` (tests, demo); issue 18 adds
the object stores behind the same ports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from relais.domain.files import FileRef
from relais.errors import InputError


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


class FileUnavailableError(InputError):
    """The file a reference names cannot be read, or differs from it (size or SHA-256).

    The message names the problem, never the file's content; the location may be a path the CFA
    chose: bounded by ``FileRef``'s own limits."""

    code = "FILE_UNAVAILABLE"
