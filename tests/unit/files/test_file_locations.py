"""The location grammar: what parses, and what each hostile form is refused with."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath

import pytest

from relais.domain.file_locations import (
    MAX_KEY_BYTES,
    InlineLocation,
    LocalLocation,
    S3Location,
    parse_location,
)
from relais.domain.file_refusals import FileCode, FileRefusedError

PDF = b"%PDF-1.7\n" + b"x" * 100


def code_of(text: str, **kwargs: int) -> str:
    with pytest.raises(FileRefusedError) as exc:
        parse_location(text, **kwargs)
    return exc.value.code


def test_the_three_forms_parse() -> None:
    assert parse_location("s3://cfa-a-docs/cfa-a/2026/conv.pdf") == S3Location(
        "cfa-a-docs", "cfa-a/2026/conv.pdf"
    )
    assert parse_location("file:///srv/files/a.pdf") == LocalLocation(
        PurePosixPath("/srv/files/a.pdf")
    )
    assert parse_location("/srv/files/a.pdf") == LocalLocation(PurePosixPath("/srv/files/a.pdf"))
    inline = parse_location("data:application/pdf;base64," + base64.b64encode(PDF).decode())
    assert inline == InlineLocation("application/pdf", PDF)
    assert "%PDF" not in repr(inline)  # the bytes never reach a log line


@pytest.mark.parametrize(
    "text",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://evil.example/a.pdf",
        "ftp://host/a.pdf",
        "gs://bucket/a.pdf",
        "S3:/bucket/key",
        "file://remote-host/etc/passwd",
        "C:\\files\\a.pdf",
        "relative/a.pdf",
    ],
)
def test_other_schemes_and_remote_files_are_forbidden(text: str) -> None:
    assert code_of(text) == FileCode.LOCATION_FORBIDDEN


@pytest.mark.parametrize(
    "text",
    [
        "s3://bucket/../other-cfa/a.pdf",
        "s3://bucket/cfa/./a.pdf",
        "s3://bucket/cfa//a.pdf",
        "s3://bucket/",
        "s3://bucket",
        "s3://Bucket_Upper/a.pdf",
        "s3://192.168.1.10/a.pdf",
        "s3://user@bucket/a.pdf",
        "s3://bucket/a%2F..%2Fb.pdf",
        "s3://bucket/a.pdf?versionId=1",
        "s3://bucket/a.pdf#x",
        "s3://bucket/a\x00.pdf",
        "s3://bucket/a\\b.pdf",
        "/srv/files/../../etc/passwd",
        "file:///srv/./a.pdf",
        "",
        "s3://bucket/" + "k" * (MAX_KEY_BYTES + 1),
        "/" + "a" * 2000,
    ],
)
def test_malformed_locations_are_invalid(text: str) -> None:
    assert code_of(text) == FileCode.LOCATION_INVALID


def test_a_key_of_multibyte_characters_is_bounded_in_bytes() -> None:
    key = "é" * (MAX_KEY_BYTES // 2)  # 1024 bytes: accepted
    assert parse_location(f"s3://bucket/{key}") == S3Location("bucket", key)
    assert code_of(f"s3://bucket/{key}é") == FileCode.LOCATION_INVALID


def test_inline_files_are_bounded_before_decoding() -> None:
    data = b"%PDF-" + b"a" * 995
    text = "data:application/pdf;base64," + base64.b64encode(data).decode()
    assert parse_location(text, max_inline_bytes=1000) == InlineLocation("application/pdf", data)
    assert code_of(text, max_inline_bytes=999) == FileCode.TOO_LARGE
    huge = "data:application/pdf;base64," + "A" * 5_000_000  # refused by length, not decoded
    assert code_of(huge) == FileCode.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    [
        "data:application/pdf;base64,not base64!",
        "data:application/x-msdownload;base64,TVqQ",
        "data:application/pdf,%PDF-raw",
        "data:application/pdf;base64,",
    ],
)
def test_bad_inline_files_are_invalid(text: str) -> None:
    assert code_of(text) == FileCode.LOCATION_INVALID
