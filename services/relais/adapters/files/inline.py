"""A small file carried inline in its reference (``data:...;base64,``, bounded by the policy's
``max_inline_bytes``): already in memory, checked once like any other file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from relais.adapters.files.verified import verify
from relais.domain.file_locations import InlineLocation
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference

CHUNK = 64 * 1024


@dataclass(frozen=True)
class InlineFileSource:
    name: str
    media_type: str
    size: int
    data: bytes = field(repr=False)

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), CHUNK):
            yield self.data[start : start + CHUNK]


async def open_inline(location: InlineLocation, ref: FileReference) -> InlineFileSource:
    """The inline file, checked against its reference (size, SHA-256, type)."""
    if location.media_type != ref.mediaType:
        raise FileRefusedError(
            FileCode.TYPE_UNSUPPORTED,
            f"{ref.fileName} : data:{location.media_type} ne correspond pas à {ref.mediaType}",
        )
    source = InlineFileSource(ref.fileName, ref.mediaType, len(location.data), location.data)
    await verify(source.chunks(), ref)
    return source
