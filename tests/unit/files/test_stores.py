"""The local directory store and inline files behind ``StoreFileOpener`` (files on disk, no
sockets): each refusal code, symbolic links out of the root, a file changed after its check."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from relais.adapters.files.opener import StoreFileOpener
from relais.domain.file_policy import policy_from
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.errors import ConfigurationError
from relais.services.files_port import FileSource
from tests.local_files import reference as ref

CFA_A = "19350000000011"
CFA_B = "35600000000048"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 2000  # 512 KB: several chunks


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "cfa-a", tmp_path / "cfa-b"
    a.mkdir()
    b.mkdir()
    return a, b


@pytest.fixture
def opener(roots: tuple[Path, Path]) -> StoreFileOpener:
    a, b = roots
    policy = policy_from(
        {
            "cfas": {
                CFA_A: {"local_root": str(a), "inline": True, "s3": [{"bucket": "docs-a"}]},
                CFA_B: {"local_root": str(b)},
            }
        }
    )
    return StoreFileOpener(policy)


async def read(source: FileSource) -> bytes:
    return b"".join([chunk async for chunk in source.chunks()])


async def code_of(opener: StoreFileOpener, cfa: str, file: FileReference) -> str:
    with pytest.raises(FileRefusedError) as exc:
        source = await opener.open(cfa, file)
        await read(source)
    return exc.value.code


async def test_a_local_file_under_the_root_streams_whole(
    opener: StoreFileOpener, roots: tuple[Path, Path]
) -> None:
    path = roots[0] / "2026" / "convention.pdf"
    path.parent.mkdir()
    path.write_bytes(PDF)
    source = await opener.open(CFA_A, ref(f"file://{path}", PDF))
    assert (source.name, source.media_type, source.size) == (
        "convention.pdf",
        "application/pdf",
        len(PDF),
    )
    chunks = [chunk async for chunk in source.chunks()]
    assert len(chunks) > 1 and b"".join(chunks) == PDF
    assert await read(source) == PDF  # each call starts again from the first byte


async def test_an_inline_file(opener: StoreFileOpener) -> None:
    small = PDF[:10_000]
    text = "data:application/pdf;base64," + base64.b64encode(small).decode()
    assert await read(await opener.open(CFA_A, ref(text, small))) == small
    png_label = "data:image/png;base64," + base64.b64encode(small).decode()
    assert await code_of(opener, CFA_A, ref(png_label, small)) == FileCode.TYPE_UNSUPPORTED


async def test_each_refusal_has_its_code(opener: StoreFileOpener, roots: tuple[Path, Path]) -> None:
    a, b = roots
    (a / "ok.pdf").write_bytes(PDF)
    (b / "theirs.pdf").write_bytes(PDF)
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 1000
    (a / "tool.pdf").write_bytes(elf)
    assert await code_of(opener, CFA_A, ref(f"{a}/missing.pdf", PDF)) == FileCode.NOT_FOUND
    assert await code_of(opener, CFA_A, ref(f"{b}/theirs.pdf", PDF)) == FileCode.LOCATION_FORBIDDEN
    assert await code_of(opener, CFA_A, ref(f"{a}/tool.pdf", elf)) == FileCode.TYPE_UNSUPPORTED
    assert await code_of(opener, CFA_A, ref(f"{a}/ok.pdf", PDF[:-1] + b"!")) == (
        FileCode.HASH_MISMATCH
    )
    assert await code_of(opener, CFA_A, ref("http://127.0.0.1:1/x.pdf", PDF)) == (
        FileCode.LOCATION_FORBIDDEN
    )
    assert await code_of(opener, CFA_A, ref(f"{a}/../cfa-b/theirs.pdf", PDF)) == (
        FileCode.LOCATION_INVALID
    )


async def test_a_symbolic_link_out_of_the_root_is_forbidden(
    opener: StoreFileOpener, roots: tuple[Path, Path]
) -> None:
    a, b = roots
    (b / "theirs.pdf").write_bytes(PDF)
    (a / "link.pdf").symlink_to(b / "theirs.pdf")
    assert await code_of(opener, CFA_A, ref(f"{a}/link.pdf", PDF)) == FileCode.LOCATION_FORBIDDEN


async def test_a_file_changed_after_its_check_never_completes_a_body(
    opener: StoreFileOpener, roots: tuple[Path, Path]
) -> None:
    path = roots[0] / "ok.pdf"
    path.write_bytes(PDF)
    source = await opener.open(CFA_A, ref(str(path), PDF))
    path.write_bytes(PDF[:-1] + b"!")
    sent: list[bytes] = []
    with pytest.raises(FileRefusedError) as exc:
        async for chunk in source.chunks():
            sent.append(chunk)
    assert exc.value.code == FileCode.HASH_MISMATCH
    assert sum(map(len, sent)) < len(PDF)  # the last chunk was held back


async def test_an_s3_grant_without_s3_configured_is_a_configuration_error(
    opener: StoreFileOpener,
) -> None:
    with pytest.raises(ConfigurationError):
        await opener.open(CFA_A, ref("s3://docs-a/x.pdf", PDF))


def test_store_errors_are_translated_without_their_text() -> None:
    from obstore.exceptions import GenericError, NotFoundError, PermissionDeniedError

    from relais.adapters.files.s3 import _translated
    from relais.domain.file_locations import S3Location
    from relais.services.files_port import FileStoreUnavailableError

    location = S3Location("docs-a", "cfa-a/x.pdf")
    file = ref("s3://docs-a/cfa-a/x.pdf", PDF)
    leaked = "Authorization: AWS4-HMAC-SHA256 Credential=relais-key"
    missing = _translated(NotFoundError(leaked), location, file)
    assert isinstance(missing, FileRefusedError) and missing.code == FileCode.NOT_FOUND
    denied = _translated(PermissionDeniedError(leaked), location, file)
    assert isinstance(denied, ConfigurationError) and "docs-a" in str(denied)
    down = _translated(GenericError(leaked), location, file)
    assert isinstance(down, FileStoreUnavailableError)
    assert all("relais-key" not in str(error) for error in (missing, denied, down))
