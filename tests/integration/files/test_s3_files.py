"""Files in S3 through obstore against a real S3-compatible server on loopback (moto's server
mode, ``tests/fixtures/s3.py``): a granted object streams whole and checked; each refusal has its
code; a forbidden location is refused before any request; an unreachable store is retryable."""

from __future__ import annotations

import uuid

import obstore
import pytest

from relais.adapters.embedded_broker import free_port
from relais.adapters.files.opener import StoreFileOpener
from relais.adapters.files.s3 import S3Files
from relais.domain.file_policy import FilePolicy, policy_from
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.services.files_port import FileSource, FileStoreUnavailableError
from tests.fixtures.s3 import S3Server
from tests.local_files import reference as ref

pytestmark = pytest.mark.integration

CFA_A = "19350000000011"
CFA_B = "35600000000048"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4096  # 1 MiB: several chunks
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 5000


def policy(bucket_a: str, bucket_b: str) -> FilePolicy:
    return policy_from(
        {
            "cfas": {
                CFA_A: {"s3": [{"bucket": bucket_a, "prefix": "cfa-a/"}]},
                CFA_B: {"s3": [{"bucket": bucket_b, "prefix": ""}]},
            }
        }
    )


@pytest.fixture
def buckets(s3_server: S3Server) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return s3_server.bucket(f"network-{suffix}"), s3_server.bucket(f"cfa-b-{suffix}")


@pytest.fixture
def s3(s3_server: S3Server) -> S3Files:
    return S3Files(s3_server.connection(chunk_bytes=64 * 1024))


async def put(s3: S3Files, bucket: str, key: str, data: bytes) -> str:
    await obstore.put_async(s3.store(bucket), key, data)
    return f"s3://{bucket}/{key}"


async def read(source: FileSource) -> bytes:
    return b"".join([chunk async for chunk in source.chunks()])


async def code_of(opener: StoreFileOpener, cfa: str, file: FileReference) -> str:
    with pytest.raises(FileRefusedError) as exc:
        await read(await opener.open(cfa, file))
    return exc.value.code


async def test_a_granted_object_streams_whole_in_chunks(
    s3: S3Files, buckets: tuple[str, str]
) -> None:
    opener = StoreFileOpener(policy(*buckets), s3)
    location = await put(s3, buckets[0], "cfa-a/2026/convention.pdf", PDF)
    source = await opener.open(CFA_A, ref(location, PDF))
    chunks = [chunk async for chunk in source.chunks()]
    assert len(chunks) > 4 and max(map(len, chunks)) < 512 * 1024
    assert b"".join(chunks) == PDF
    assert await read(source) == PDF  # a retried request streams it again
    png = await put(s3, buckets[0], "cfa-a/scan.png", PNG)
    assert await read(await opener.open(CFA_A, ref(png, PNG, "scan.png", "image/png"))) == PNG


async def test_each_refusal_has_its_code(s3: S3Files, buckets: tuple[str, str]) -> None:
    opener = StoreFileOpener(policy(*buckets), s3)
    a, b = buckets
    ok = await put(s3, a, "cfa-a/ok.pdf", PDF)
    theirs = await put(s3, b, "theirs.pdf", PDF)
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 4000
    renamed = await put(s3, a, "cfa-a/setup.pdf", elf)
    assert await code_of(opener, CFA_A, ref(f"s3://{a}/cfa-a/none.pdf", PDF)) == FileCode.NOT_FOUND
    assert await code_of(opener, CFA_A, ref(ok, PDF[:-1] + b"!")) == FileCode.HASH_MISMATCH
    assert await code_of(opener, CFA_A, ref(ok, PDF + b"!")) == FileCode.HASH_MISMATCH  # size
    assert await code_of(opener, CFA_A, ref(renamed, elf)) == FileCode.TYPE_UNSUPPORTED
    assert await code_of(opener, CFA_A, ref(theirs, PDF)) == FileCode.LOCATION_FORBIDDEN
    assert await code_of(opener, CFA_B, ref(ok, PDF)) == FileCode.LOCATION_FORBIDDEN
    assert await code_of(opener, CFA_A, ref(f"s3://{a}/cfa-b/x.pdf", PDF)) == (
        FileCode.LOCATION_FORBIDDEN
    )
    assert await code_of(opener, CFA_A, ref(f"http://127.0.0.1/{a}/cfa-a/ok.pdf", PDF)) == (
        FileCode.LOCATION_FORBIDDEN
    )
    assert await read(await opener.open(CFA_B, ref(theirs, PDF))) == PDF  # B reads its own


async def test_an_object_replaced_after_its_check_is_refused_not_sent(
    s3: S3Files, buckets: tuple[str, str]
) -> None:
    opener = StoreFileOpener(policy(*buckets), s3)
    location = await put(s3, buckets[0], "cfa-a/replaced.pdf", PDF)
    source = await opener.open(CFA_A, ref(location, PDF))
    await put(s3, buckets[0], "cfa-a/replaced.pdf", PDF[:-1] + b"!")  # same size, new ETag
    sent: list[bytes] = []
    with pytest.raises(FileRefusedError) as exc:
        async for chunk in source.chunks():
            sent.append(chunk)
    assert exc.value.code == FileCode.HASH_MISMATCH
    assert sent == []  # pinned to the checked ETag (If-Match): not one byte of the new object


async def test_forbidden_locations_are_refused_before_any_request(
    s3_server: S3Server, buckets: tuple[str, str]
) -> None:
    dead = S3Files(s3_server.connection(endpoint=f"http://127.0.0.1:{free_port()}"))
    opener = StoreFileOpener(policy(*buckets), dead)
    a, b = buckets
    assert await code_of(opener, CFA_A, ref(f"s3://{b}/theirs.pdf", PDF)) == (
        FileCode.LOCATION_FORBIDDEN
    )
    with pytest.raises(FileStoreUnavailableError) as exc:  # a granted one does reach the store
        await opener.open(CFA_A, ref(f"s3://{a}/cfa-a/ok.pdf", PDF))
    assert "secret" not in str(exc.value) and "relais-tests" not in str(exc.value)
