"""The one ``CfaFileOpener`` of issue 18: the CFA's grants checked first (``FilePolicy.authorize``,
no I/O: a forbidden location is refused before any request), then the store the location names."""

from __future__ import annotations

from relais.adapters.files.inline import open_inline
from relais.adapters.files.local_store import open_local
from relais.adapters.files.s3 import S3Files
from relais.domain.file_locations import InlineLocation, LocalLocation
from relais.domain.file_policy import FilePolicy
from relais.domain.files import FileReference
from relais.errors import ConfigurationError
from relais.services.files_port import FileSource


class StoreFileOpener:
    """Opens a file for one CFA from S3, its local root, or inline, as its policy grants."""

    def __init__(self, policy: FilePolicy, s3: S3Files | None = None) -> None:
        self._policy = policy
        self._s3 = s3

    async def open(self, cfa: str, ref: FileReference) -> FileSource:
        location = self._policy.authorize(cfa, ref)
        if isinstance(location, InlineLocation):
            return await open_inline(location, ref)
        if isinstance(location, LocalLocation):
            root = self._policy.root_of(cfa)
            assert root is not None  # authorize granted it under the root
            return await open_local(location, root, ref)
        if self._s3 is None:
            raise ConfigurationError("files policy grants an s3:// bucket but no S3 is configured")
        return await self._s3.open(location, ref)
