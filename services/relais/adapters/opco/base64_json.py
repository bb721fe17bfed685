"""A JSON body whose last field is a file in base64, streamed: the documents route where the
OPCO's profile takes JSON (``transport.documents.kind = "json"``: the older notes' body,
convergence-api.md 1.6, B): ``{"typeFichier", "objets", "nomFichier", "fichier": <base64>}``.

Memory stays bounded whatever the file's size: the file is read from its ``FileSource`` in chunks
and encoded as it goes (a remainder of at most two bytes carried between chunks), never held whole;
the length is known upfront (``Content-Length``, 4 characters per 3 bytes, padded). Each
``stream()`` starts again from the first byte, like ``MultipartBody``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass

from relais.domain import wire
from relais.domain.json_types import Json
from relais.services.files_port import FileSource

FILE_KEY = "fichier"
NAME_KEY = "nomFichier"


@dataclass
class Base64JsonBody:
    infos: Json
    file: FileSource

    content_type = "application/json"

    def _head(self) -> bytes:
        """The JSON up to the opening quote of the file's value (``wire.encode``'s bytes)."""
        whole = wire.encode({**self.infos, NAME_KEY: self.file.name, FILE_KEY: ""})
        tail = b'""}'
        assert whole.endswith(tail)
        return whole[: -len(tail)] + b'"'

    @property
    def length(self) -> int:
        return len(self._head()) + 4 * -(-self.file.size // 3) + len(b'"}')

    async def stream(self) -> AsyncIterator[bytes]:
        yield self._head()
        carry = b""
        async for chunk in self.file.chunks():
            data = carry + chunk
            cut = len(data) - len(data) % 3
            carry = data[cut:]
            if cut:
                yield base64.b64encode(data[:cut])
        yield base64.b64encode(carry) + b'"}'
