"""A ``multipart/form-data`` body streamed to the OPCO: the JSON part (the exact bytes of
``wire.encode``, never re-encoded) and the file part (``fichier``), read from a ``FileSource`` in
chunks (convergence-api.md 0: conventions and factures are multipart).

The length is known before the first byte leaves (JSON + file size + the framing), so the request
carries a ``Content-Length`` and no chunked encoding (some gateways refuse chunked uploads). Each
``stream()`` starts again from the first byte: a retried request (401, token refreshed) resends all.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from relais.services.files_port import FileSource

CRLF = b"\r\n"


def _quoted(value: str) -> str:
    """A header parameter value: quotes and line breaks cannot leave it (RFC 7578 4.2)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class MultipartBody:
    json_part: str
    json_bytes: bytes
    file_part: str
    file: FileSource
    boundary: str = field(default_factory=lambda: f"relais-{secrets.token_hex(16)}")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quoted(self.json_part)}"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()

    def _file_head(self) -> bytes:
        return (
            f"\r\n--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quoted(self.file_part)}"; '
            f'filename="{_quoted(self.file.name)}"\r\n'
            f"Content-Type: {self.file.media_type}\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def length(self) -> int:
        framing = len(self._head()) + len(self._file_head()) + len(self._tail())
        return framing + len(self.json_bytes) + self.file.size

    async def stream(self) -> AsyncIterator[bytes]:
        yield self._head() + self.json_bytes + self._file_head()
        async for chunk in self.file.chunks():
            yield chunk
        yield self._tail()
