"""The file stores dispatch reads from, built from the ``files`` settings group (issue 18): the
per-CFA policy (checked before any read) over the local directories, inline files and, when a CFA
is granted a bucket, the S3-compatible store (``adapters/files/s3.py``, obstore)."""

from __future__ import annotations

from relais.adapters.files.opener import StoreFileOpener
from relais.adapters.files.s3 import S3Connection, S3Files
from relais.config_files import FilesSettings


def s3_connection(files: FilesSettings) -> S3Connection:
    s3 = files.s3
    return S3Connection(
        endpoint=s3.endpoint_url,
        region=s3.region,
        access_key_id=s3.access_key_id.get_secret_value() if s3.access_key_id else None,
        secret_access_key=(
            s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
        ),
        allow_http=s3.allow_http,
        timeout_s=s3.timeout_s,
        max_retries=s3.max_retries,
    )


def file_opener(files: FilesSettings) -> StoreFileOpener:
    """Every CFA's files, as its grants allow (no S3 client unless a bucket is granted)."""
    s3 = S3Files(s3_connection(files)) if files.uses_s3 else None
    return StoreFileOpener(files.policy(), s3)
