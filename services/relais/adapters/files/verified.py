"""A file's chunks checked as they stream (``domain/file_checks.FileCheck``), with the last chunk
held back until the whole file has matched its reference: a body whose bytes differ from the
reference (changed in the store since it was checked) never completes a request, so the OPCO never
receives a whole wrong file. Memory: one chunk in hand beside the one being read."""

from __future__ import annotations

from collections.abc import AsyncIterator

from relais.domain.file_checks import FileCheck
from relais.domain.files import FileReference


class ReferencedSource:
    """A ``FileSource`` described by its reference (name, media type, size), whose bytes come
    from the store's ``_stream`` and are checked on the fly every time they are read."""

    ref: FileReference

    @property
    def name(self) -> str:
        return self.ref.fileName

    @property
    def media_type(self) -> str:
        return self.ref.mediaType

    @property
    def size(self) -> int:
        return self.ref.size

    def chunks(self) -> AsyncIterator[bytes]:
        return verified(self._stream(), self.ref)

    def _stream(self) -> AsyncIterator[bytes]:
        raise NotImplementedError


async def verified(chunks: AsyncIterator[bytes], ref: FileReference) -> AsyncIterator[bytes]:
    """``chunks`` as they come, refused (``FileRefusedError``) before the last one if the file is
    not the referenced one."""
    check = FileCheck(ref)
    held: bytes | None = None
    async for chunk in chunks:
        if not chunk:
            continue
        check.feed(chunk)
        if held is not None:
            yield held
        held = chunk
    check.finish()
    if held is not None:
        yield held


async def verify(chunks: AsyncIterator[bytes], ref: FileReference) -> None:
    """Read ``chunks`` to the end, refusing a file that is not the referenced one."""
    async for _ in verified(chunks, ref):
        pass
