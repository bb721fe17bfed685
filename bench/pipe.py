"""The bare pipe: consume -> produce of the same records, nothing else (the broker's limit here).

One aiokafka consumer in a group, fetches of up to 5,000 records, each batch produced to the output
topic (same key, headers and value; linger 5 ms, 1 MiB batches, acks=all) and committed once the
broker acknowledged it.

    python -m bench.pipe --bootstrap HOST:PORT --input T --output T --group G

Prints ``bench-pipe ready`` on stdout once its consumer has its partitions.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

READY = "bench-pipe ready"


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        args.input,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Tansu joins a group in ~1 s with these; Apache Kafka refuses them (client defaults)
        **(
            {"session_timeout_ms": 1000, "heartbeat_interval_ms": 333} if args.tansu_timings else {}
        ),
        max_partition_fetch_bytes=8_388_608,
        fetch_max_bytes=33_554_432,
        fetch_max_wait_ms=args.fetch_wait_ms,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=1_048_576,
        max_request_size=4_194_304,
    )
    await consumer.start()
    await producer.start()
    try:
        deadline = time.monotonic() + 60
        while not consumer.assignment() and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=100)
        for tp in consumer.assignment():
            committed = await consumer.committed(tp)
            if committed is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        print(READY, flush=True)
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100, max_records=5000)
            futures = []
            for records in batch.values():
                for msg in records:
                    futures.append(
                        await producer.send(
                            args.output, msg.value, key=msg.key, headers=list(msg.headers)
                        )
                    )
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.pipe")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--fetch-wait-ms", type=int, default=500, help="aiokafka's default: 500")
    parser.add_argument("--tansu-timings", action="store_true", help="group session 1000/333 ms")
    args = parser.parse_args(argv)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(args, stop)

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
