"""Files in S3-compatible object storage (the network's MinIO, Ceph, a cloud bucket), read through
``obstore``.

Why obstore rather than aiobotocore: obstore is the Python binding of the Rust ``object_store``
crate (Apache Arrow), natively async, and streams a GET as chunks of a size we choose
(``GetResult.stream(min_chunk_size=...)``) without a Python HTTP stack in the loop: its throughput
is that of reqwest/hyper, and the bytes of a chunk are handed over once. aiobotocore adds aiohttp
and botocore's large, data-driven client (Python-level signing and parsing for every request), pins
botocore to a narrow range (which fights moto's and any boto3 the environment has), and ships no
types of its own. obstore ships its stubs (``py.typed``), retries with backoff inside the client,
and speaks path-style requests to a custom endpoint with ``allow_http`` for loopback (tests).

A file is read twice, never whole: once when opened (HEAD: the size against the reference before
any byte is read, and the ETag; then a streamed pass checking size, SHA-256 and magic bytes), then
once per request that sends it, pinned to the same ETag (``If-Match``: an object replaced since it
was checked is refused, not sent) and checked again on the fly (``verified.py``). Memory: one chunk
of ``chunk_bytes`` (256 KiB) in hand, one being read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from relais.adapters.files.verified import ReferencedSource, verify
from relais.config_files import FilesSettings
from relais.domain.file_locations import S3Location
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.errors import ConfigurationError
from relais.services.files_port import FileStoreUnavailableError

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class S3Connection:
    """How relais reaches the S3-compatible store (a settings group when wired)."""

    endpoint: str | None = None  # None: AWS; else e.g. https://minio.example:9000 (path style)
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    allow_http: bool = False  # loopback tests only
    timeout_s: float = 30.0
    max_retries: int = 3
    chunk_bytes: int = CHUNK_BYTES


def s3_connection(files: FilesSettings) -> S3Connection:
    """The connection the ``files`` settings describe (its secrets unwrapped here only)."""
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


class S3Files:
    """Opens objects of the buckets the policy grants; one ``S3Store`` per bucket, kept."""

    def __init__(self, connection: S3Connection) -> None:
        self._connection = connection
        self._stores: dict[str, S3Store] = {}

    def store(self, bucket: str) -> S3Store:
        store = self._stores.get(bucket)
        if store is None:
            store = self._stores[bucket] = _new_store(self._connection, bucket)
        return store

    async def open(self, location: S3Location, ref: FileReference) -> S3FileSource:
        """The object at ``location``, checked (size, SHA-256, type) by a streamed read."""
        store = self.store(location.bucket)
        try:
            meta = await obstore.head_async(store, location.key)
        except (BaseError, OSError) as exc:  # obstore raises FileNotFoundError for a 404
            raise _translated(exc, location, ref) from None
        if meta["size"] != ref.size:
            raise FileRefusedError(
                FileCode.HASH_MISMATCH,
                f"{ref.fileName} : {meta['size']} octets, la référence en annonce {ref.size}",
            )
        source = S3FileSource(store, location, ref, meta["e_tag"], self._connection.chunk_bytes)
        await verify(source.chunks(), ref)
        return source


@dataclass(frozen=True)
class S3FileSource(ReferencedSource):
    store: S3Store = field(repr=False)
    location: S3Location
    ref: FileReference
    e_tag: str | None
    chunk_bytes: int = CHUNK_BYTES

    async def _stream(self) -> AsyncIterator[bytes]:
        options: obstore.GetOptions = {"if_match": self.e_tag} if self.e_tag else {}
        try:
            result = await obstore.get_async(self.store, self.location.key, options=options)
            async for chunk in result.stream(min_chunk_size=self.chunk_bytes):
                yield bytes(chunk)
        except (BaseError, OSError) as exc:  # obstore raises FileNotFoundError for a 404
            raise _translated(exc, self.location, self.ref) from None


def _new_store(connection: S3Connection, bucket: str) -> S3Store:
    config: dict[str, object] = {"region": connection.region}
    if connection.endpoint:
        config["endpoint"] = connection.endpoint
        config["virtual_hosted_style_request"] = False
    if connection.access_key_id and connection.secret_access_key:
        config["access_key_id"] = connection.access_key_id
        config["secret_access_key"] = connection.secret_access_key
    timeout = timedelta(seconds=connection.timeout_s)
    return S3Store(
        bucket,
        client_options={"allow_http": connection.allow_http, "timeout": timeout},
        retry_config={"max_retries": connection.max_retries, "retry_timeout": timeout},
        **config,  # type: ignore[arg-type]
    )


def _translated(exc: BaseError | OSError, location: S3Location, ref: FileReference) -> Exception:
    """obstore's error as relais's: the object's absence or change is the CFA's to fix, a denial
    is relais's configuration, anything else is the store being unavailable (retry). The
    exception's own text is not carried (it may quote the request)."""
    if isinstance(exc, NotFoundError | FileNotFoundError):
        return FileRefusedError(FileCode.NOT_FOUND, f"{ref.fileName} : objet introuvable")
    if isinstance(exc, PreconditionError):
        return FileRefusedError(
            FileCode.HASH_MISMATCH, f"{ref.fileName} : l'objet a changé depuis sa vérification"
        )
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
        return ConfigurationError(
            f"s3: access to bucket {location.bucket} denied to relais ({type(exc).__name__})"
        )
    return FileStoreUnavailableError(f"s3: store unavailable ({type(exc).__name__})")
