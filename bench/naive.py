"""The naive bridge: what a competent engineer writes in an afternoon.

One aiokafka consumer in a group; for each CFA event, in order: route the dossier to its OPCO
(``data.opco`` or the employer's IDCC through the referential CSV), POST it to that OPCO's
``/v1/dossiers`` with the CFA's key (and AKTO's OAuth2 token, fetched once and renewed on 401),
publish one status event with the outcome, commit. No retry: a non-2xx answer is a ``failed``
status (a 409 means the dossier is already there: ``submitted``). One event at a time, so the OPCO's
latency is paid once per event.

    python -m bench.naive --bootstrap HOST:PORT --input T --output T --group G \
        --keys keys.csv --oauth oauth.csv --profiles opco-profiles.json

Prints ``bench-naive ready`` on stdout once its consumer has its partitions.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from relais.adapters.opco.dpop import DpopSigner
from relais.domain.referentials import referential
from relais.services.clock import SystemClock

READY = "bench-naive ready"
SOFTWARE = {"EDITEUR": "bench", "LOGICIEL": "naive-bridge", "VERSION": "1.0"}


def load_keys(path: Path) -> dict[tuple[str, str], str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {(r["siret"], r["opco"]): r["key"] for r in csv.DictReader(fh)}


def load_idcc() -> dict[str, str]:
    with referential("idcc-opco.csv").open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.lstrip().startswith("#"))
        return {r["idcc"].strip().zfill(4): r["opco"].strip() for r in rows}


class Bridge:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.keys = load_keys(args.keys)
        with args.oauth.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        self.oauth = {r["opco"]: (r["client_id"], r["client_secret"]) for r in rows}
        profiles = json.loads(args.profiles.read_text(encoding="utf-8"))["opcos"]
        self.base = {
            code: body["base_url"].rstrip("/") + body.get("base_path", "")
            for code, body in profiles.items()
        }
        self.scope = {
            code: body["auth"]["oauth2"].get("scope")
            for code, body in profiles.items()
            if (body.get("auth") or {}).get("oauth2")
        }
        # DPoP (AFDAS): the proofs are signed by relais's signer (joserfc); the naive bridge only
        # borrows it, the rest of the protocol it does by hand like everything else here
        self.dpop = {
            r["opco"]: DpopSigner(
                (args.oauth.parent / r["dpop_key_file"]).read_text(), "RS256", SystemClock()
            )
            for r in rows
            if r.get("dpop_key_file")
        }
        self.token_url = {
            code: body["auth"]["oauth2"]["token_url"]
            for code, body in profiles.items()
            if (body.get("auth") or {}).get("oauth2")
        }
        self.idcc = load_idcc()
        self.tokens: dict[str, str] = {}
        self.http = httpx.AsyncClient(timeout=30.0)

    async def token(self, opco: str, *, renew: bool = False) -> str | None:
        if opco not in self.token_url:
            return None
        if renew or opco not in self.tokens:
            client_id, secret = self.oauth[opco]
            form = {"grant_type": "client_credentials", "client_id": client_id}
            form["client_secret"] = secret
            if self.scope.get(opco) is not None:
                form["scope"] = str(self.scope[opco])
            signer = self.dpop.get(opco)
            headers = {"DPoP": signer.proof("POST", self.token_url[opco])} if signer else {}
            resp = await self.http.post(self.token_url[opco], data=form, headers=headers)
            resp.raise_for_status()
            self.tokens[opco] = resp.json()["access_token"]
        return self.tokens[opco]

    async def post_dossier(self, opco: str, siret: str, cerfa: Any) -> httpx.Response:
        headers = {"X-API-KEY": self.keys[(siret, opco)], **SOFTWARE}
        for attempt in range(2):
            token = await self.token(opco, renew=attempt > 0)
            url = f"{self.base[opco]}/v1/dossiers"
            signer = self.dpop.get(opco)
            if token and signer:
                headers["Authorization"] = f"DPoP {token}"
                headers["DPoP"] = signer.proof("POST", url, access_token=token)
            elif token:
                headers["Authorization"] = f"Bearer {token}"
            resp = await self.http.post(url, json={"cerfa": cerfa}, headers=headers)
            if resp.status_code != 401:
                return resp
        return resp

    async def handle(self, headers: dict[str, str], value: bytes) -> dict[str, Any]:
        event_id = headers.get("ce_id", "")
        siret = headers.get("ce_source", "").rsplit(":", 1)[-1]
        body: dict[str, Any] = {"eventId": event_id, "dossierId": headers.get("ce_subject")}
        try:
            data = json.loads(value)
            cerfa = data["cerfa"]
            opco = data.get("opco") or self.idcc[str(cerfa["employeur"]["codeIdcc"]).zfill(4)]
            body["opco"] = opco
            resp = await self.post_dossier(opco, siret, cerfa)
        except (ValueError, KeyError, TypeError) as exc:
            return {**body, "status": "rejected", "error": type(exc).__name__}
        except httpx.HTTPError as exc:
            return {**body, "status": "failed", "error": type(exc).__name__}
        body["httpStatus"] = resp.status_code
        if resp.status_code in (200, 201, 409):
            answer = resp.json()
            body["numeroInterne"] = answer.get("numeroInterne")
            return {**body, "status": "submitted"}
        return {**body, "status": "failed"}

    async def run(self, stop: asyncio.Event) -> None:
        a = self.args
        consumer = AIOKafkaConsumer(
            a.input,
            bootstrap_servers=a.bootstrap,
            group_id=a.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # the embedded broker joins a group in ~1 s with these; Apache Kafka refuses them
            **(
                {"session_timeout_ms": 1000, "heartbeat_interval_ms": 333}
                if a.tansu_timings
                else {}
            ),
            fetch_max_wait_ms=a.fetch_wait_ms,
        )
        producer = AIOKafkaProducer(bootstrap_servers=a.bootstrap, acks="all")
        await consumer.start()
        await producer.start()
        try:
            deadline = time.monotonic() + 60
            while not consumer.assignment() and time.monotonic() < deadline:
                await consumer.getmany(timeout_ms=100)  # drives the group join
                if consumer.assignment():
                    break
            # getmany above may have fetched records: rewind to the committed/earliest position
            for tp in consumer.assignment():
                committed = await consumer.committed(tp)
                if committed is None:
                    await consumer.seek_to_beginning(tp)
                else:
                    consumer.seek(tp, committed)
            print(READY, flush=True)
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=1)
                for records in batch.values():
                    for msg in records:
                        headers = {k: (v or b"").decode() for k, v in msg.headers}
                        status = await self.handle(headers, msg.value)
                        await producer.send_and_wait(
                            a.output,
                            json.dumps(status).encode(),
                            key=msg.key,
                            headers=[
                                ("ce_id", str(uuid.uuid4()).encode()),
                                ("ce_type", f"fr.relais.status.{status['status']}.v1".encode()),
                                ("ce_correlationid", headers.get("ce_id", "").encode()),
                            ],
                        )
                        await consumer.commit()
        finally:
            await consumer.stop()
            await producer.stop()
            await self.http.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.naive")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--oauth", type=Path, required=True)
    parser.add_argument("--profiles", type=Path, required=True)
    parser.add_argument("--fetch-wait-ms", type=int, default=500, help="aiokafka's default: 500")
    parser.add_argument("--tansu-timings", action="store_true", help="group session 1000/333 ms")
    args = parser.parse_args(argv)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Bridge(args).run(stop)

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    sys.exit(main())
