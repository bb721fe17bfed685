"""A 9 MB PDF from S3 (moto on loopback) opened and streamed with flat memory: measured in a fresh
process by ``bench/files_memory.py``, against the same object read whole (which shows the
measurement sees a whole file when one is held)."""

from __future__ import annotations

import uuid

import pytest
from bench.files_memory import SIZE, pdf_of, run_measure, upload

from tests.fixtures.s3 import S3Server

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


async def test_a_nine_megabyte_file_streams_with_flat_memory(s3_server: S3Server) -> None:
    bucket = s3_server.bucket(f"memory-{uuid.uuid4().hex[:8]}")
    data = pdf_of(SIZE)
    await upload(s3_server.endpoint, bucket, "nine.pdf", data)
    streamed = run_measure(s3_server.endpoint, bucket, "nine.pdf", data, whole=False)
    whole = run_measure(s3_server.endpoint, bucket, "nine.pdf", data, whole=True)
    assert streamed["bytes"] == whole["bytes"] == SIZE
    assert isinstance(streamed["largest_chunk"], int) and streamed["largest_chunk"] < MIB
    assert isinstance(streamed["tracemalloc_peak"], int) and streamed["tracemalloc_peak"] < 3 * MIB
    assert isinstance(streamed["rss_growth"], int) and streamed["rss_growth"] < 6 * MIB
    assert isinstance(whole["tracemalloc_peak"], int) and whole["tracemalloc_peak"] > SIZE
