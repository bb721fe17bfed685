"""``FileRef``: the file an event names (a signed convention, an invoice PDF), as relais sends it.

Issue 18 defines the full reference and the object stores behind it; this is its shape now:
``{location, sha256, size, mediaType, fileName}``. The ``location`` is, for now, limited to a local
path or a ``file://`` URL (the demo, the tests, a volume shared with the CFA's ERP); issue 18 adds
object-store locations. relais checks the file's size and SHA-256 against the reference before it
sends anything (``services/files_port.py``).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_FILE_BYTES = 20 * 1024 * 1024  # the largest file relais sends (a signed PDF is far smaller)
MAX_LOCATION = 1024
MAX_ANY_LOCATION = 700_000  # an inline data: file of at most 512 KiB, base64, with its header
MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


class FileReference(BaseModel):
    """A file reference whose location may be any of issue 18's grammar (``s3://``, a local
    path or ``file://``, an inline ``data:`` file): its length is bounded here, its form by
    ``file_locations.parse_location`` and the CFA's right to read it by ``file_policy``. What the
    stores of ``adapters/files`` open. Events still carry ``FileRef`` (local only) until the
    stores are wired (issue 18)."""

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


class FileRef(FileReference):
    """Where a file is and what it must be: relais refuses to send one that differs."""

    location: str = Field(
        min_length=1,
        max_length=MAX_LOCATION,
        description="A local absolute path or a file:// URL (object stores come with issue 18)",
    )

    @field_validator("location")
    @classmethod
    def _local(cls, value: str) -> str:
        path = value.removeprefix("file://")
        if "\x00" in path or not PurePosixPath(path).is_absolute():
            raise ValueError("location must be an absolute local path or a file:// URL, for now")
        if ".." in PurePosixPath(path).parts:
            raise ValueError("location must not contain '..'")
        return value

    @property
    def path(self) -> str:
        """The local path of the file."""
        return self.location.removeprefix("file://")
