"""Magic bytes, limits, and the streaming size/SHA-256 check."""

from __future__ import annotations

import pytest

from relais.domain.file_checks import FileCheck, FileLimits, check_reference, sniff
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from tests.local_files import reference

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


def ref_of(
    data: bytes, name: str = "convention.pdf", media: str = "application/pdf"
) -> FileReference:
    return reference("s3://bucket/cfa/x.pdf", data, name, media)


def run(ref: FileReference, data: bytes, chunk: int = 7) -> None:
    check = FileCheck(ref)
    for start in range(0, len(data), chunk):
        check.feed(data[start : start + chunk])
    check.finish()


def refusal(ref: FileReference, data: bytes, chunk: int = 7) -> str:
    with pytest.raises(FileRefusedError) as exc:
        run(ref, data, chunk)
    return exc.value.code


def test_sniff_reads_the_bytes_not_the_name() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(PNG) == "image/png"
    assert sniff(JPG) == "image/jpeg"
    assert sniff(ELF) is None and sniff(EXE) is None and sniff(b"") is None


@pytest.mark.parametrize("chunk", [1, 3, 7, 64 * 1024])
def test_the_referenced_file_passes_in_any_chunking(chunk: int) -> None:
    run(ref_of(PDF), PDF, chunk)
    run(ref_of(PNG, "scan.png", "image/png"), PNG, chunk)
    run(ref_of(JPG, "scan.JPEG", "image/jpeg"), JPG, chunk)


@pytest.mark.parametrize("executable", [ELF, EXE])
def test_an_executable_renamed_pdf_is_refused(executable: bytes) -> None:
    assert refusal(ref_of(executable), executable) == FileCode.TYPE_UNSUPPORTED


def test_bytes_of_another_allowed_type_are_refused() -> None:
    assert refusal(ref_of(PNG), PNG) == FileCode.TYPE_UNSUPPORTED  # a PNG declared as a PDF


def test_a_tiny_file_is_typed_at_the_end() -> None:
    assert refusal(ref_of(b"MZ"), b"MZ") == FileCode.TYPE_UNSUPPORTED
    run(ref_of(b"%PDF-"), b"%PDF-")


def test_a_changed_byte_a_longer_or_shorter_file_is_a_hash_mismatch() -> None:
    ref = ref_of(PDF)
    assert refusal(ref, PDF[:-1] + b"!") == FileCode.HASH_MISMATCH
    assert refusal(ref, PDF[:-1]) == FileCode.HASH_MISMATCH
    check = FileCheck(ref)
    with pytest.raises(FileRefusedError) as exc:  # refused as soon as it is too long
        check.feed(PDF + b"more")
    assert exc.value.code == FileCode.HASH_MISMATCH
    assert check.size == len(PDF) + 4


def test_reference_checks_before_any_io() -> None:
    limits = FileLimits(max_bytes=len(PDF))
    check_reference(ref_of(PDF), limits)
    with pytest.raises(FileRefusedError) as exc:
        check_reference(ref_of(PDF + b"x"), limits)
    assert exc.value.code == FileCode.TOO_LARGE
    for name, media in [
        ("a.exe", "application/pdf"),
        ("a.png", "application/pdf"),
        ("a", "image/png"),
    ]:
        with pytest.raises(FileRefusedError) as exc:
            check_reference(ref_of(PDF, name, media), limits)
        assert exc.value.code == FileCode.TYPE_UNSUPPORTED


def test_the_default_limit_is_the_states_ten_megabytes() -> None:
    assert FileLimits().max_bytes == 10 * 1024 * 1024
    with pytest.raises(ValueError):
        FileLimits(max_bytes=0)
