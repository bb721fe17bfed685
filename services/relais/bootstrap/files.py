"""The file stores dispatch reads from, built from the ``files`` settings group (issue 18): the
per-CFA policy (checked before any read) over the local directories, inline files and, when a CFA
is granted a bucket, the S3-compatible store (``adapters/files/s3.py``, obstore)."""

from __future__ import annotations

from relais.adapters.files.opener import StoreFileOpener
from relais.adapters.files.s3 import S3Files, s3_connection
from relais.config_files import FilesSettings


def file_opener(files: FilesSettings) -> StoreFileOpener:
    """Every CFA's files, as its grants allow (no S3 client unless a bucket is granted)."""
    s3 = S3Files(s3_connection(files)) if files.uses_s3 else None
    return StoreFileOpener(files.policy(), s3)
