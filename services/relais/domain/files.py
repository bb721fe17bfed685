"""``FileReference``: the file an event names (a signed convention, an invoice PDF, a document),
as relais sends it: ``{location, sha256, size, mediaType, fileName}`` (issue 18, a claim check).

The ``location`` is any of issue 18's grammar (``s3://bucket/key``, a local path or ``file://``
URL under the CFA's root, an inline ``data:`` file; ``file_locations.py``); which ones a CFA may
read is its file policy's (``file_policy.py``). relais checks the file's size, SHA-256 and type
against the reference before it sends anything (``services/files_port.CfaFileOpener``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_FILE_BYTES = 20 * 1024 * 1024  # the largest file relais sends (a signed PDF is far smaller)
MAX_ANY_LOCATION = 700_000  # an inline data: file of at most 512 KiB, base64, with its header
MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


class FileReference(BaseModel):
    """A file reference whose location may be any of issue 18's grammar (``s3://``, a local
    path or ``file://``, an inline ``data:`` file): its length is bounded here, its form by
    ``file_locations.parse_location`` and the CFA's right to read it by ``file_policy``. What the
    stores of ``adapters/files`` open, what the convention, facture and document events carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: str = Field(
        min_length=1,
        max_length=MAX_ANY_LOCATION,
        description="s3://bucket/key, a local absolute path or file:// URL, or data:...;base64,",
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, lower hex")
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="Size in bytes")
    mediaType: MediaType = Field(default="application/pdf", description="pdf, jpg or png")
    fileName: str = Field(
        description="The name sent to the OPCO (letters, digits, . _ - and spaces)",
        pattern=_FILE_NAME.pattern,
    )
