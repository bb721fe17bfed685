"""Ledger micro-benchmark: commands/s of ingest's writes, one by one versus one batch per poll.

    python -m bench.ledger_micro [--postgres URL] [--events 1000] [--rounds 3] [--batches 1,10,...]

Each mode writes ``--events`` accepted commands (a ~1.5 KB payload and one ~0.5 KB ``received``
status each, a quarter as many dossiers so that FIFO blocking is exercised), on a fresh SQLite file
(synchronous=FULL, the default) and on a scratch PostgreSQL database created on the server of
``--postgres`` and dropped at the end. Modes run interleaved, ``--rounds`` times; the table gives
the median rate and the spread (min-max) of the rounds.

Modes:
- ``accept`` one call per command (a batch of one: the single-accept statement);
- ``accept, default pool reset`` (PostgreSQL): the same with asyncpg's default reset on release
  (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), as before the no-op
  reset;
- ``ingest_batch B``: one call per B commands (one transaction; one statement on PostgreSQL);
- ``pipelined accepts B`` (PostgreSQL): the alternative to the unnest statement, the single accept
  statement once per command through ``fetchmany`` in one transaction (one pipelined round trip);
- ``claim + complete``: dispatch's writes for the same commands (claims of 64, one complete each,
  with a status), one after the other or ``x64`` together (the dispatcher's in-flight tasks; the
  pool has 10 connections), PostgreSQL with and without the pool reset;
- ``ping``: round trips per second of ``SELECT 1`` through the pool, with and without the reset.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from relais.adapters.ledger import postgres as pg
from relais.adapters.ledger.common import encode_payload
from relais.adapters.ledger.postgres import PostgresLedger
from relais.adapters.ledger.queries import queries
from relais.adapters.ledger.sqlite import SqliteLedger
from relais.services.command_payload import CommandPayload, parse
from relais.services.ledger_port import (
    Accept,
    Command,
    CommandKind,
    CommandState,
    Completion,
    Ledger,
    NewCommand,
    OutboxMessage,
)

CFA = "19750000000011"

Mode = Callable[[Ledger, list[Accept]], Awaitable[None]]


def payload(n: int) -> CommandPayload:
    """About the size of a dossier command's payload (a cerfa and its routing)."""
    return parse(
        {
            "type": "fr.cfa.dossier.submitted.v1",
            "time": "2026-11-27T04:00:00+00:00",
            "data": {"cerfa": _cerfa(n), "opco": "AKTO"},
        }
    )


def _cerfa(n: int) -> dict[str, Any]:
    return {
        "notes": "x" * 600,
        "cerfa": {
            "apprenti": {
                "nom": f"Nom{n}",
                "prenom": "Prénom",
                "dateNaissance": "2007-03-14",
                "adresse": {"numero": "12", "voie": "rue des Lilas", "codePostal": "75011"},
                "nir": "1070375123456",
            },
            "employeur": {"siret": "12345678900011", "denomination": "Boulangerie", "idcc": "843"},
            "contrat": {
                "dateDebut": "2026-09-01",
                "dateFin": "2028-08-31",
                "remuneration": [{"annee": a, "pourcentage": 43 + 10 * a} for a in range(1, 4)],
            },
            "formation": {"rncp": "RNCP12345", "heures": 800, "intitule": "CAP Boulanger" * 4},
            "maitres": [{"nom": "Maitre", "prenom": "Un", "dateNaissance": "1980-01-01"}] * 2,
        },
    }


def make_events(tag: str, count: int) -> list[Accept]:
    dossiers = max(1, count // 4)
    events = []
    for n in range(count):
        dossier = f"{tag}-D{n % dossiers}"
        event_id = f"{tag}-e{n}"
        value = json.dumps(
            {"eventId": f"{event_id}-received", "dossierId": dossier, "status": "received"}
            | {"detail": "y" * 400}
        ).encode()
        headers = {
            "ce_id": f"{event_id}-received",
            "ce_type": "fr.relais.status.v1",
            "ce_source": "relais",
            "ce_subject": dossier,
            "ce_specversion": "1.0",
            "ce_time": "2026-11-27T04:00:00Z",
        }
        command = NewCommand(
            event_id=event_id,
            cfa=CFA,
            dossier_id=dossier,
            opco="AKTO",
            kind=CommandKind.DOSSIER,
            payload=payload(n),
        )
        status = OutboxMessage(f"{event_id}-received", dossier, headers, value)
        events.append(Accept(command, [status]))
    return events


async def one_by_one(ledger: Ledger, events: list[Accept]) -> None:
    for event in events:
        await ledger.ingest_batch([event])  # a batch of one: the single-accept statement


def batched(size: int) -> Mode:
    async def run(ledger: Ledger, events: list[Accept]) -> None:
        for start in range(0, len(events), size):
            await ledger.ingest_batch(events[start : start + size])

    return run


def pipelined(size: int) -> Mode:
    """The single-accept statement per command, pipelined in one transaction (asyncpg fetchmany)."""

    async def run(ledger: Ledger, events: list[Accept]) -> None:
        assert isinstance(ledger, PostgresLedger)
        pool = await ledger._get_pool()
        for start in range(0, len(events), size):
            args = [
                (
                    e.command.event_id,
                    ledger._now(),
                    e.command.cfa,
                    e.command.dossier_id,
                    e.command.opco,
                    e.command.kind.value,
                    encode_payload(e.command.payload),
                    list(e.command.depends_on),
                    *pg._status_arrays(e.statuses),
                )
                for e in events[start : start + size]
            ]
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetchmany(queries("postgres")["accept"], args)

    return run


async def claim_and_complete(ledger: Ledger, events: list[Accept], concurrent: bool) -> float:
    """Accept ``events`` (untimed), then claim and complete them all: commands/s of the latter.
    ``concurrent``: the completes of a claim run together, as the dispatcher's in-flight tasks."""
    for start in range(0, len(events), 500):
        await ledger.ingest_batch(events[start : start + 500])

    async def complete(command: Command) -> None:
        status = OutboxMessage(f"{command.event_id}-submitted", command.dossier_id, {}, b"{}")
        outcome = Completion(
            CommandState.DONE, [status], dossier_ids={"numeroInterne": str(command.id)}
        )
        if not await ledger.complete(command.id, "bench", outcome):
            raise RuntimeError("lost a lease during the benchmark")

    done = 0
    started = time.perf_counter()
    while done < len(events):
        claimed = await ledger.claim("bench", 64, datetime.now(UTC), timedelta(seconds=60))
        if not claimed:
            raise RuntimeError("claim found nothing to do before every command was completed")
        if concurrent:
            await asyncio.gather(*(complete(command) for command in claimed))
        else:
            for command in claimed:
                await complete(command)
        done += len(claimed)
    return done / (time.perf_counter() - started)


async def default_reset_pool(ledger: PostgresLedger) -> None:
    """Swap the ledger's pool for one with asyncpg's default reset (the state before)."""
    await ledger.close()
    ledger._closed = False
    ledger._pool = await asyncpg.create_pool(ledger.url, min_size=1, max_size=10)


async def pings(ledger: Ledger, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await ledger.ping()
    return count / (time.perf_counter() - started)


async def bench_engine(
    name: str, make_ledger: Callable[[], Ledger], args: argparse.Namespace
) -> list[dict[str, Any]]:
    is_pg = name == "postgres"
    modes: dict[str, tuple[Mode, bool]] = {"accept (one call per command)": (one_by_one, False)}
    if is_pg:
        modes["accept, default pool reset (before)"] = (one_by_one, True)
    for size in args.batches:
        modes[f"ingest_batch {size}"] = (batched(size), False)
    if is_pg:
        for size in args.batches:
            if size > 1:
                modes[f"pipelined accepts {size} (alternative)"] = (pipelined(size), False)
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    ping_rates: dict[str, list[float]] = {"claim + complete": [], "claim + complete x64": []}
    if is_pg:
        ping_rates |= {
            "claim + complete, default pool reset (before)": [],
            "claim + complete x64, default pool reset (before)": [],
            "ping": [],
            "ping, default pool reset (before)": [],
        }
    setup = make_ledger()
    await setup.migrate()
    await setup.close()
    for round_no in range(args.rounds):
        for mode, (run, old_reset) in modes.items():
            ledger = make_ledger()
            try:
                if old_reset:
                    assert isinstance(ledger, PostgresLedger)
                    await default_reset_pool(ledger)
                await ledger.ping()  # connect outside the timing
                tag = f"r{round_no}-{secrets.token_hex(3)}"
                events = make_events(tag, args.events)
                started = time.perf_counter()
                await run(ledger, events)
                rates[mode].append(args.events / (time.perf_counter() - started))
            finally:
                await ledger.close()
        for label in ping_rates:
            ledger = make_ledger()
            try:
                if label.endswith("(before)"):
                    assert isinstance(ledger, PostgresLedger)
                    await default_reset_pool(ledger)
                await ledger.ping()
                if label.startswith("ping"):
                    ping_rates[label].append(await pings(ledger, args.events))
                else:
                    events = make_events(f"r{round_no}-{secrets.token_hex(3)}", args.events)
                    concurrent = label.startswith("claim + complete x64")
                    rate = await claim_and_complete(ledger, events, concurrent)
                    ping_rates[label].append(rate)
            finally:
                await ledger.close()
    rows = [
        {"engine": name, "mode": mode, "rates": values, "unit": "commands/s"}
        for mode, values in rates.items()
    ]
    rows += [
        {
            "engine": name,
            "mode": label,
            "rates": values,
            "unit": "calls/s" if label.startswith("ping") else "commands/s",
        }
        for label, values in ping_rates.items()
    ]
    return rows


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ledger-micro-") as tmp:
        path = str(Path(tmp) / "ledger.db")
        rows += await bench_engine("sqlite", lambda: SqliteLedger(path), args)
    if args.postgres:
        name = f"relais_micro_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(args.postgres)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            parts = urlsplit(args.postgres)
            url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
            rows += await bench_engine("postgres", lambda: PostgresLedger(url), args)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    return rows


def table(rows: list[dict[str, Any]], baseline: dict[str, float]) -> str:
    lines = [
        "| engine | mode | median | min-max | vs accept |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        median = statistics.median(row["rates"])
        ingest = not row["mode"].startswith(("claim", "ping"))
        base = baseline.get(row["engine"]) if ingest else None
        ratio = f"{median / base:.1f}x" if base else ""
        lines.append(
            f"| {row['engine']} | {row['mode']} | {median:,.0f} {row['unit']} |"
            f" {min(row['rates']):,.0f}-{max(row['rates']):,.0f} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="server URL (a scratch db is made)")
    parser.add_argument("--events", type=int, default=1000, help="commands per mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batches", type=lambda text: [int(n) for n in text.split(",")], default=[1, 10, 100, 500]
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures here")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args))
    baseline = {
        row["engine"]: statistics.median(row["rates"])
        for row in rows
        if row["mode"].startswith("accept (")
    }
    print(table(rows, baseline))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
