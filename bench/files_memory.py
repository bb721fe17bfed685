"""Memory of one S3 file read by relais's store (issue 18): a 9 MB PDF opened (checked) and
streamed through ``adapters/files/s3.py``, against the same object read whole, as a contrast.

    python -m bench.files_memory                 # starts moto's server on loopback, prints figures
    python -m bench.files_memory measure --endpoint URL --bucket B --key K --sha256 H --size N \
        [--whole]                                # one measurement in this process, one JSON line

Each measurement runs in a fresh process (the figures are that process's): after a warm-up read
of a small object (the client, its runtime and pools allocated), it records the resident set's
high-water mark (``ru_maxrss``), samples the current RSS every 2 ms while it reads, and traces
Python allocations (``tracemalloc``: the chunks handed to Python; obstore's Rust buffers are in
the RSS figures only). ``rss_growth`` is the peak sampled RSS minus the RSS before the read.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import httpx
import obstore

from relais.adapters.embedded_broker import free_port
from relais.adapters.files.s3 import S3Connection, S3Files
from relais.domain.file_locations import S3Location
from relais.domain.files import FileReference

MIB = 1024 * 1024
SIZE = 9 * MIB
WARM = b"%PDF-1.7\n" + b"w" * 64 * 1024


def connection(endpoint: str) -> S3Connection:
    return S3Connection(
        endpoint=endpoint,
        access_key_id="bench",
        secret_access_key="bench-secret",
        allow_http=True,
        max_retries=0,
    )


def reference(key: str, sha256: str, size: int) -> FileReference:
    return FileReference(location=f"s3://x/{key}", sha256=sha256, size=size, fileName="bench.pdf")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.002):
            self.peak = max(self.peak, rss())


async def measure(args: argparse.Namespace) -> dict[str, object]:
    files = S3Files(connection(args.endpoint))
    warm = S3Location(args.bucket, "warm.pdf")
    await obstore.put_async(files.store(args.bucket), warm.key, WARM)
    warm_ref = reference(warm.key, hashlib.sha256(WARM).hexdigest(), len(WARM))
    async for _ in (await files.open(warm, warm_ref)).chunks():
        pass
    ref = reference(args.key, args.sha256, args.size)
    before, hwm_before = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler = Sampler()
    sampler.start()
    tracemalloc.start()
    started = time.perf_counter()
    chunks = largest = sent = 0
    if args.whole:
        result = await obstore.get_async(files.store(args.bucket), args.key)
        data = bytes(await result.bytes_async())
        assert hashlib.sha256(data).hexdigest() == args.sha256
        sent, chunks, largest = len(data), 1, len(data)
        del data
    else:
        source = await files.open(S3Location(args.bucket, args.key), ref)
        async for chunk in source.chunks():
            chunks, sent, largest = chunks + 1, sent + len(chunk), max(largest, len(chunk))
    elapsed = time.perf_counter() - started
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    sampler.stop.set()
    sampler.join()
    hwm_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "mode": "whole" if args.whole else "streamed",
        "bytes": sent,
        "chunks": chunks,
        "largest_chunk": largest,
        "seconds": round(elapsed, 3),
        "tracemalloc_peak": traced_peak,
        "rss_growth": sampler.peak - before,
        "maxrss_growth": hwm_after - hwm_before,
    }


def run_measure(
    endpoint: str, bucket: str, key: str, data: bytes, whole: bool
) -> dict[str, object]:
    """One measurement in a fresh process (what the test and the summary call)."""
    command = [
        sys.executable, "-m", "bench.files_memory", "measure",
        "--endpoint", endpoint, "--bucket", bucket, "--key", key,
        "--sha256", hashlib.sha256(data).hexdigest(), "--size", str(len(data)),
    ]  # fmt: skip
    if whole:
        command.append("--whole")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=root, timeout=120)
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


async def upload(endpoint: str, bucket: str, key: str, data: bytes) -> None:
    await obstore.put_async(S3Files(connection(endpoint)).store(bucket), key, data)


def pdf_of(size: int) -> bytes:
    """A deterministic incompressible-looking PDF-headed body of ``size`` bytes."""
    head = b"%PDF-1.7\n"
    block = hashlib.sha512(b"relais").digest() * 2048  # 128 KiB
    body = (block * (size // len(block) + 1))[: size - len(head)]
    return head + body


def summary() -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.put(f"{endpoint}/bench", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("moto's server did not start") from None
                time.sleep(0.2)
        data = pdf_of(SIZE)
        asyncio.run(upload(endpoint, "bench", "nine.pdf", data))
        for whole in (False, True):
            print(json.dumps(run_measure(endpoint, "bench", "nine.pdf", data, whole)))
    finally:
        moto.terminate()
        moto.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.files_memory")
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("measure")
    for name in ("endpoint", "bucket", "key", "sha256"):
        one.add_argument(f"--{name}", required=True)
    one.add_argument("--size", type=int, required=True)
    one.add_argument("--whole", action="store_true")
    args = parser.parse_args()
    if args.command == "measure":
        print(json.dumps(asyncio.run(measure(args))))
    else:
        summary()


if __name__ == "__main__":
    main()
