"""``python -m bench``: the whole benchmark in one command.

    python -m bench --quick                 a few minutes: every contender, small counts
    python -m bench                         the full run: bigger counts, the down-OPCO scenario,
                                            a 100,000-event backlog, a py-spy profile
    python -m bench --backlog 100000 --only backlog
    python -m bench --events 50 --scenarios lat0 --contenders naive,relais-sqlite \\
        --no-backlog --no-profile           (the smoke test's tiny run)

Order: the bare pipe, then per scenario the naive bridge and relais (PostgreSQL, then SQLite),
then the backlog drain, then the profile. Ctrl-C (or SIGTERM) stops the run: children are
stopped and the databases dropped before it exits (code 130/143).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import dataclasses
import os
import platform
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench import contenders, report, run, targets
from bench.infra import Infra
from bench.plan import FULL, QUICK, SCENARIOS, Counts, Plan

REPO = Path(__file__).resolve().parent.parent
NOTE = (
    "The harness (load generator + status reader), the Tansu broker, the OPCO simulator, "
    "PostgreSQL and the contender all share this machine's cores: figures are for the whole "
    "system on one box, not for relais alone. ev/s is the steady end-to-end rate (10th to 90th "
    "percentile of completions) of a burst produced at once; latencies come from a second phase "
    "paced at half that rate. Overhead = end to end minus the MEAN injected OPCO delay "
    "(jitter is uniform, so at p99 it overstates relais's overhead by up to half the jitter). "
    "Every consumer (contenders and the harness) fetches with fetch_max_wait_ms=20 unless "
    "--fetch-wait-ms says otherwise: Tansu holds each fetch that long."
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small counts (a few minutes)")
    p.add_argument("--events", type=int, help="override every burst size (tiny runs, tests)")
    p.add_argument("--paced-s", type=float, help="override the paced phase length (0 = none)")
    p.add_argument("--scenarios", help=f"comma list among {','.join(SCENARIOS)}")
    p.add_argument(
        "--contenders",
        default="pipe,naive,relais-pg,relais-sqlite,relais-pg-split,pipe-kafka,relais-pg-kafka",
        help="comma list among pipe,naive,relais-pg,relais-sqlite,relais-pg-split (two "
        "processes: ingest+relay, dispatch+poll), pipe-kafka, relais-pg-kafka (on Apache Kafka, "
        "started for the run; Java 17+ and Maven needed)",
    )
    p.add_argument("--inflight", type=int, help="relais's in-flight limit C (>= 64 by default)")
    p.add_argument("--backlog", type=int, help="backlog size (default: 5,000 quick, 100,000 full)")
    p.add_argument("--no-backlog", action="store_true")
    p.add_argument("--only", choices=["backlog", "profile"], help="run only this part")
    p.add_argument("--profile", dest="profile", action="store_true", default=None)
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p.add_argument(
        "--relais-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra RELAIS_* variable for every relais run (e.g. a tuning to compare)",
    )
    p.add_argument(
        "--ledger-sync",
        choices=["full", "relaxed"],
        default="full",
        help="relaxed = PostgreSQL synchronous_commit=off / SQLite synchronous=normal: a "
        "DIAGNOSTIC showing what the disk flush per commit costs (relais must not run so)",
    )
    p.add_argument(
        "--fetch-wait-ms",
        type=int,
        default=20,
        help="every contender's consumer fetch_max_wait_ms (default 20). Tansu holds each fetch "
        "this long even when records are there (real Kafka does not), so it adds up to this much "
        "latency per Kafka hop; relais gets it as RELAIS_KAFKA__FETCH_MAX_WAIT_MS",
    )
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--workdir", type=Path, help="logs and files (default: <out>/<stamp>-work)")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    changes: dict[str, Any] = {}
    if args.inflight:
        changes["inflight"] = args.inflight
    if args.backlog:
        changes["backlog"] = args.backlog
    if args.events or args.paced_s is not None:

        def adjust(c: Counts) -> Counts:
            return dataclasses.replace(
                c,
                burst=args.events or c.burst,
                paced_s=c.paced_s if args.paced_s is None else args.paced_s,
                warmup=min(c.warmup, args.events or c.warmup),
            )

        changes["relais"] = adjust(plan.relais)
        changes["pipe"] = adjust(plan.pipe)
        changes["naive"] = {k: adjust(v) for k, v in plan.naive.items()}
    if args.scenarios:
        chosen = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
        unknown = [s for s in chosen if s not in SCENARIOS]
        if unknown:
            raise SystemExit(f"unknown scenario(s) {unknown}; choose among {list(SCENARIOS)}")
        changes["relais_scenarios"] = chosen
        changes["sqlite_scenarios"] = chosen
        changes["split_scenarios"] = chosen
        changes["kafka_scenarios"] = chosen
        changes["naive_scenarios"] = chosen
    return dataclasses.replace(plan, **changes)


def _meta(plan: Plan, args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    cores = os.cpu_count()
    load = os.getloadavg()
    return {
        "plan": plan.name,
        "started": stamp,
        "git_commit": commit or None,
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": (
            f"{platform.system()} {platform.machine()}, {cores} cores, "
            f"{psutil.virtual_memory().total // 2**30} GiB RAM, "
            f"Python {platform.python_version()}, "
            f"load average at start {load[0]:.2f}"
        ),
        "cores": cores,
        "inflight_limit": plan.inflight,
        "relais_env": args.relais_env,
        "ledger_sync": args.ledger_sync,
        "fetch_wait_ms": args.fetch_wait_ms,
        "relais_fetch_wait_settable": contenders.relais_can_set_fetch_wait(),
        "note": NOTE,
        "plan_detail": dataclasses.asdict(plan),
    }


async def amain(args: argparse.Namespace) -> int:
    plan = _plan(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = args.workdir or args.out / f"{stamp}-work"
    extra = dict(kv.split("=", 1) for kv in args.relais_env)
    chosen = [c.strip() for c in args.contenders.split(",") if c.strip()]
    known = {c.name: c for c in contenders.ALL}
    if any(c not in known for c in chosen):
        raise SystemExit(f"unknown contender in {chosen}; choose among {list(known)}")
    do_profile = args.profile if args.profile is not None else plan.name == "full"
    do_backlog = not args.no_backlog
    if args.only == "backlog":
        chosen, do_profile, do_backlog = [], False, True
    elif args.only == "profile":
        chosen, do_profile, do_backlog = [], True, False

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result: dict[str, Any] = {"meta": _meta(plan, args, stamp), "cells": []}
    log(f"bench: plan {plan.name}, C={plan.inflight}, work directory {workdir}")
    on_kafka = any(known[c].broker == "kafka" for c in chosen)
    infra = await Infra.start(workdir, args.seed, kafka=on_kafka)
    infra.relaxed_ledger = args.ledger_sync == "relaxed"
    infra.fetch_wait_ms = args.fetch_wait_ms
    atexit.register(_kill_leftovers, infra)
    started = time.monotonic()
    try:
        log(f"bench: broker {infra.bootstrap}, simulator {infra.simulator_url}")
        if infra.kafka is not None:
            log(f"bench: apache kafka {infra.kafka.bootstrap}")
        common: dict[str, Any] = {
            "inflight": plan.inflight,
            "timeout_s": plan.timeout_s,
            "log": log,
        }
        if "pipe" in chosen:
            log("bench: bare pipe")
            result["cells"].append(
                await run.measure(infra, contenders.PIPE, SCENARIOS["lat0"], plan.pipe, **common)
            )
        if "pipe-kafka" in chosen:
            log("bench: bare pipe on Apache Kafka")
            result["cells"].append(
                await run.measure(
                    infra, contenders.PIPE_KAFKA, SCENARIOS["lat0"], plan.pipe, **common
                )
            )
        scenarios = list(
            dict.fromkeys(plan.relais_scenarios + plan.naive_scenarios + plan.kafka_scenarios)
        )
        for name in scenarios:
            scenario = SCENARIOS[name]
            log(f"bench: scenario {name}")
            if "naive" in chosen and name in plan.naive_scenarios:
                counts = plan.naive.get(name, plan.naive["lat0"])
                result["cells"].append(
                    await run.measure(infra, contenders.NAIVE, scenario, counts, **common)
                )
            for contender, wanted in (
                (contenders.RELAIS_PG, plan.relais_scenarios),
                (contenders.RELAIS_SQLITE, plan.sqlite_scenarios),
                (contenders.RELAIS_PG_SPLIT, plan.split_scenarios),
                (contenders.RELAIS_PG_KAFKA, plan.kafka_scenarios),
            ):
                if contender.name in chosen and name in wanted:
                    result["cells"].append(
                        await run.measure(
                            infra,
                            contender,
                            scenario,
                            plan.relais,
                            relais_env_extra=extra,
                            **common,
                        )
                    )
        if do_backlog:
            log(f"bench: backlog of {plan.backlog} events (relais-pg, lat0)")
            result["backlog"] = await run.backlog(
                infra,
                contenders.RELAIS_PG,
                SCENARIOS["lat0"],
                plan.backlog,
                inflight=plan.inflight,
                timeout_s=max(plan.timeout_s, plan.backlog / 20),
                relais_env_extra=extra,
                log=log,
            )
        if do_profile:
            result["profiles"] = []
            for name in ("lat0", "lat200"):
                log(f"bench: py-spy profile of relais-pg, {name} ({plan.profile_s:.0f} s)")
                result["profiles"].append(
                    await run.profile(
                        infra,
                        contenders.RELAIS_PG,
                        SCENARIOS[name],
                        plan.relais.burst * 2,
                        plan.profile_s,
                        inflight=plan.inflight,
                        timeout_s=plan.timeout_s,
                        relais_env_extra=extra,
                        log=log,
                    )
                )
    finally:
        result["meta"]["duration_s"] = round(time.monotonic() - started, 1)
        await infra.stop()
        result["targets"] = targets.check(result)
        paths = report.write(result, args.out, stamp)
        print(report.table(result))
        print(report.stages_table(result))
        print(report.targets_table(result["targets"]))
        for prof in result.get("profiles", []):
            print(report.profile_section(prof))
        log("bench: wrote " + ", ".join(str(p) for p in paths.values()))
    failed = [c for c in result["cells"] if not c.get("ok")]
    if result.get("backlog", {}).get("error"):
        failed.append(result["backlog"])
    return 1 if failed else 0


def _kill_leftovers(infra: Infra) -> None:
    """Last resort at interpreter exit: nothing started by this run survives it."""
    with contextlib.suppress(Exception):
        asyncio.run(infra.stop())


async def _until_signal(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    caught: list[int] = []

    def stop(signum: int) -> None:
        caught.append(signum)
        main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await amain(args)
    except asyncio.CancelledError:
        if not caught:
            raise
        print("bench: interrupted; everything stopped and cleaned up", file=sys.stderr)
        return 128 + caught[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(_until_signal(args))
