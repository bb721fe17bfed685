"""ERP integration sample (Python, aiokafka): publish one CFA event to relais and read its statuses.

    python erp_client.py --bootstrap localhost:9092 --event dossier.json \
        [--secret HMAC_SECRET] [--input-topic cfa.events.v1] [--status-topic relais.status.v1]

The event file is a CloudEvents structured JSON event (see schemas/examples/). It is published in
binary content mode: key = subject (the CFA's dossier id), headers ce_* + content-type, value =
the JSON of ``data``. The statuses of this event (header ce_correlationid = its id) are printed as
JSON lines until a terminal one; exit code 0 when it is ``submitted``, 1 for another terminal
status, 2 on timeout. Run by tests/e2e/test_erp_samples.py against a real broker and relais.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import uuid
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

SIGNED_ATTRIBUTES = ("id", "type", "source", "subject", "time")
TERMINAL = {"submitted", "rejected", "failed", "dead_lettered"}
STATUS_PREFIX = "fr.relais.status."


def sign(secret: str, headers: Mapping[str, str], value: bytes) -> str:
    """ce_signature: hex HMAC-SHA256 over ce_id, ce_type, ce_source, ce_subject and ce_time as
    sent, each followed by a newline, then the record value bytes."""
    lines = "".join(headers.get(f"ce_{name}", "") + "\n" for name in SIGNED_ATTRIBUTES)
    return hmac.new(secret.encode(), lines.encode() + value, hashlib.sha256).hexdigest()


def to_record(
    event: Mapping[str, object], secret: str | None
) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
    """(key, headers, value) of the event in CloudEvents binary content mode."""
    value = json.dumps(event["data"], ensure_ascii=False, separators=(",", ":")).encode()
    headers = {f"ce_{k}": str(v) for k, v in event.items() if k != "data" and v is not None}
    headers["ce_specversion"] = "1.0"
    headers["content-type"] = "application/json"
    if secret is not None:
        headers["ce_signature"] = sign(secret, headers, value)
    key = str(event["subject"]).encode()
    return key, [(k, v.encode()) for k, v in headers.items()], value


async def publish_and_follow(args: argparse.Namespace, event: Mapping[str, object]) -> int:
    key, headers, value = to_record(event, args.secret)
    # Subscribe first (from the end of the log is enough for a new event id; the sample reads from
    # the start so that a re-run also sees the statuses of a resent id).
    consumer = AIOKafkaConsumer(
        args.status_topic,
        bootstrap_servers=args.bootstrap,
        group_id=f"erp-sample-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    # acks=all: the record is on every in-sync replica before we wait for its statuses. relais
    # de-duplicates by ce_id, so a producer retry is harmless (aiokafka's idempotent producer
    # also works on Apache Kafka; the embedded test broker lacks it).
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        await producer.send_and_wait(args.input_topic, value=value, key=key, headers=headers)
        return await asyncio.wait_for(follow(consumer, str(event["id"])), args.timeout)
    except TimeoutError:
        print(json.dumps({"timeout": True}), flush=True)
        return 2
    finally:
        await producer.stop()
        await consumer.stop()


async def follow(consumer: AIOKafkaConsumer, event_id: str) -> int:
    seen: set[str] = set()
    async for record in consumer:
        headers = {k: v.decode() for k, v in record.headers}
        if headers.get("ce_correlationid") != event_id or headers["ce_id"] in seen:
            continue  # another event's status, or a redelivery (same ce_id): skip
        seen.add(headers["ce_id"])
        status = headers["ce_type"].removeprefix(STATUS_PREFIX).rsplit(".", 1)[0]
        body = json.loads(record.value or b"{}")
        print(json.dumps({"status": status, "ce_id": headers["ce_id"], "body": body}), flush=True)
        if status in TERMINAL:
            return 0 if status == "submitted" else 1
    return 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--event", required=True, help="CloudEvents structured JSON file")
    parser.add_argument("--secret", help="the CFA's HMAC secret, if relais requires signatures")
    parser.add_argument("--input-topic", default="cfa.events.v1")
    parser.add_argument("--status-topic", default="relais.status.v1")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds")
    args = parser.parse_args()
    with open(args.event, encoding="utf-8") as f:
        event = json.load(f)
    sys.exit(asyncio.run(publish_and_follow(args, event)))


if __name__ == "__main__":
    main()
