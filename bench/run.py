"""One measurement ("cell"): one contender, one scenario, fresh topics, fresh ledger.

    warm-up   ``counts.warmup`` events, waited for (connections, group join, caches)
    burst     ``counts.burst`` events produced at once: the saturation rate (events/s between the
              10th and 90th percentile of completions), the per-OPCO rates, CPU and RSS
    paced     ``counts.paced_s`` seconds at half that rate: end-to-end latency per event
              (produced -> terminal status read), relais's overhead (minus the injected delay)

Each phase waits until every event has its terminal answer or ``timeout_s`` passed; what is missing,
duplicated or ended otherwise than ``submitted`` is counted, never hidden.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bench import contenders, profiling
from bench.collector import Collector
from bench.contenders import Contender
from bench.infra import Infra
from bench.plan import Counts, Scenario
from bench.sampler import Sampler
from bench.stats import overall_rate, steady_rate, summary_ms
from bench.workload import Event, Producer, generate


def _pids(infra: Infra, running: contenders.Running) -> dict[str, int]:
    pids = {"harness": os.getpid()}
    for index, child in enumerate(running.children):
        if child.pid is not None:
            pids["contender" if index == 0 else f"contender-{index + 1}"] = child.pid
    if infra.active == "kafka" and infra.kafka is not None and infra.kafka.nodes[0].pid:
        pids["broker"] = infra.kafka.nodes[0].pid  # the Apache Kafka JVM
    elif infra.broker is not None and infra.broker.pid is not None:
        pids["broker"] = infra.broker.pid
    if infra.simulator is not None and infra.simulator.pid is not None:
        pids["simulator"] = infra.simulator.pid
    return pids


def accounting(collector: Collector, events: Sequence[Event]) -> dict[str, Any]:
    ids = [e.id for e in events]
    statuses = Counter(collector.terminal[i].status for i in ids if i in collector.terminal)
    return {
        "events": len(ids),
        "answered": sum(statuses.values()),
        "missing": len(ids) - sum(statuses.values()),
        "by_status": dict(sorted(statuses.items())),
    }


def latency(
    collector: Collector, producer: Producer, events: Sequence[Event], scenario: Scenario
) -> dict[str, Any]:
    e2e: list[float] = []
    overhead: list[float] = []
    for e in events:
        seen = collector.terminal.get(e.id)
        sent = producer.sent_at.get(e.id)
        if seen is None or sent is None:
            continue
        ms = (seen.at - sent) * 1000
        e2e.append(ms)
        overhead.append(ms - scenario.injected_s(e.opco) * 1000)
    return {"e2e_ms": summary_ms(e2e), "overhead_ms": summary_ms(overhead)}


def _log_times(paths: Sequence[Any]) -> dict[str, dict[str, float]]:
    """``{"ingest.accepted": {event id: epoch s}, "dispatch.submitted": {...}}`` from relais's
    JSON log lines (their ``timestamp`` is UTC wall clock)."""
    wanted = ("ingest.accepted", "dispatch.submitted")
    out: dict[str, dict[str, float]] = {name: {} for name in wanted}
    for path in paths:
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if '"ingest.accepted"' not in line and '"dispatch.submitted"' not in line:
                    continue
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    doc = json.loads(line)
                    name = doc["event"]
                    if name in out and doc.get("event_id"):
                        ts = datetime.fromisoformat(doc["timestamp"].replace("Z", "+00:00"))
                        out[name].setdefault(doc["event_id"], ts.timestamp())
    return out


def stages(
    times: Mapping[str, Mapping[str, float]],
    collector: Collector,
    producer: Producer,
    events: Sequence[Event],
    scenario: Scenario,
) -> dict[str, Any]:
    """Where an event's time goes inside relais (from its log lines; wall clocks of one host):

    kafka_in     produced -> accepted by ingest (broker, consumer fetch, rules, ledger commit)
    dispatch     accepted -> submitted, minus the injected OPCO delay (claim wait, call, outcome)
    status_out   submitted -> status read by the harness (outbox, relay, broker, reader)
    """
    accepted, submitted = times["ingest.accepted"], times["dispatch.submitted"]
    kafka_in: list[float] = []
    dispatch: list[float] = []
    status_out: list[float] = []
    for e in events:
        sent, seen = producer.sent_wall.get(e.id), collector.terminal.get(e.id)
        a, d = accepted.get(e.id), submitted.get(e.id)
        if sent is None or seen is None or a is None or d is None:
            continue
        kafka_in.append((a - sent) * 1000)
        dispatch.append((d - a - scenario.injected_s(e.opco)) * 1000)
        status_out.append((seen.wall - d) * 1000)
    return {
        "kafka_in_ms": summary_ms(kafka_in),
        "dispatch_minus_injected_ms": summary_ms(dispatch),
        "status_out_ms": summary_ms(status_out),
    }


def rates(
    collector: Collector, producer: Producer, events: Sequence[Event]
) -> dict[str, float | None]:
    done = [collector.terminal[e.id].at for e in events if e.id in collector.terminal]
    first = min((producer.sent_at[e.id] for e in events if e.id in producer.sent_at), default=0.0)

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {
        "steady": r(steady_rate(done)),
        "overall": r(overall_rate(len(done), first, max(done, default=first))),
    }


async def measure(
    infra: Infra,
    contender: Contender,
    scenario: Scenario,
    counts: Counts,
    *,
    inflight: int,
    timeout_s: float,
    relais_env_extra: Mapping[str, str] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    label = f"{contender.name}-{scenario.name}"
    infra.active = contender.broker  # its broker: topics, bootstrap, settings
    await infra.reset_simulator()
    await infra.set_faults(scenario.faults(odd=False))  # the odd OPCO goes wrong after warm-up
    topics = await infra.topics(label)
    warm = generate(infra.generator, counts.warmup, infra.opcos)
    burst = generate(infra.generator, counts.burst, infra.opcos)
    result: dict[str, Any] = {
        "contender": contender.name,
        "kind": contender.kind,
        "ledger": contender.ledger,
        "scenario": scenario.name,
        "latency_ms": scenario.latency_ms,
        "jitter_ms": scenario.jitter_ms,
        "odd": scenario.odd,
        "odd_opco": scenario.odd_opco if scenario.odd else None,
        "baseline": scenario.baseline,
        "inflight_limit": inflight if contender.kind == "relais" else 1,
        "ok": False,
    }
    collector = Collector(infra.bootstrap, topics["status"], pipe=contender.kind == "pipe")
    await collector.start()
    running: contenders.Running | None = None
    paced_events: list[Event] = []
    phase_producers: dict[str, Producer] = {}
    try:
        t0 = time.monotonic()
        running = await contenders.start(
            infra,
            contender,
            topics,
            label,
            inflight=inflight,
            relais_env_extra=relais_env_extra,
        )
        result["startup_s"] = round(time.monotonic() - t0, 2)
        async with Producer(infra.bootstrap, burst=True) as producer:
            phase_producers["burst"] = producer
            await producer.burst(topics["input"], warm)
            warmed = await collector.wait_for({e.id for e in warm}, timeout_s)
            result["warmup"] = accounting(collector, warm)
            if not warmed:
                raise TimeoutError(f"{label}: warm-up events not answered in {timeout_s}s")
            log(f"  {label}: ready in {result['startup_s']}s, warm-up done; burst {len(burst)}")

            if scenario.odd:
                await infra.set_faults(scenario.faults())
            sampler = Sampler(_pids(infra, running))
            sampler.start()
            load_start = os.getloadavg()[0]
            t_burst = time.monotonic()
            await producer.burst(topics["input"], burst)
            result["burst"] = await _burst_phase(
                infra, collector, producer, burst, scenario, sampler, timeout_s
            )
            result["burst"]["wall_s"] = round(time.monotonic() - t_burst, 2)
            result["burst"]["cpu_ms_per_event"] = {
                name: round(p["cpu_s"] * 1000 / len(burst), 2)
                for name, p in result["burst"]["processes"].items()
            }
            result["loadavg_1m"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
        sat = result["burst"]["rate"]["steady"] or result["burst"]["rate"]["overall"]
        if counts.paced_s > 0 and counts.paced_max > 0 and sat and not scenario.odd:
            rate = sat / 2
            n = int(max(10, min(counts.paced_max, rate * counts.paced_s)))
            paced = paced_events = generate(infra.generator, n, infra.opcos)
            log(f"  {label}: saturation {sat:.1f}/s; paced {n} at {rate:.1f}/s")
            async with Producer(infra.bootstrap, burst=False) as producer:
                phase_producers["paced"] = producer
                sampler = Sampler(_pids(infra, running))
                sampler.start()
                achieved = await producer.paced(topics["input"], paced, rate)
                complete = await collector.wait_for({e.id for e in paced}, timeout_s)
                await sampler.stop()
                result["paced"] = {
                    "target_rate": round(rate, 1),
                    "achieved_rate": round(achieved, 1),
                    "complete": complete,
                    **accounting(collector, paced),
                    **latency(collector, producer, paced, scenario),
                    "processes": sampler.summary(),
                }
        result["duplicates"] = collector.duplicates
        result["notes"] = dict(collector.notes)
        missing = result["burst"]["missing"] + result.get("paced", {}).get("missing", 0)
        result["ok"] = missing == 0
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        log(f"  {label}: FAILED {result['error']}")
    finally:
        with contextlib.suppress(Exception):
            await collector.stop()
        if running is not None:
            await contenders.stop(infra, running)
    result["processes"] = _merge_processes(result)
    if running is not None and contender.kind == "relais":
        times = _log_times([child.log_path for child in running.children])
        for phase, events in (("burst", burst), ("paced", paced_events)):
            if phase in result and events and phase_producers.get(phase) is not None:
                result[phase]["stages"] = stages(
                    times, collector, phase_producers[phase], events, scenario
                )
    return result


async def _burst_phase(
    infra: Infra,
    collector: Collector,
    producer: Producer,
    burst: Sequence[Event],
    scenario: Scenario,
    sampler: Sampler,
    timeout_s: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if scenario.odd:
        others = [e for e in burst if e.opco != scenario.odd_opco]
        odd = [e for e in burst if e.opco == scenario.odd_opco]
        await collector.wait_for({e.id for e in others}, timeout_s)
        out["others"] = {
            **accounting(collector, others),
            "rate": rates(collector, producer, others),
        }
        if scenario.odd == "down":
            await infra.clear_fault(scenario.odd_opco)
            healed = time.monotonic()
            await collector.wait_for({e.id for e in odd}, timeout_s)
            done = [collector.terminal[e.id].at for e in odd if e.id in collector.terminal]
            out["odd_recovery_s"] = round(max(done) - healed, 2) if done else None
        else:
            await collector.wait_for({e.id for e in odd}, timeout_s)
        out["odd"] = {**accounting(collector, odd), "rate": rates(collector, producer, odd)}
    else:
        await collector.wait_for({e.id for e in burst}, timeout_s)
        # The same subset as in the odd scenarios, for a like-for-like comparison.
        others = [e for e in burst if e.opco != scenario.odd_opco]
        out["others"] = {
            **accounting(collector, others),
            "rate": rates(collector, producer, others),
        }
    await sampler.stop()
    out.update(accounting(collector, burst))
    out["rate"] = rates(collector, producer, burst)
    out.update(latency(collector, producer, burst, scenario))
    out["processes"] = sampler.summary(with_series=False)
    return out


def _merge_processes(result: Mapping[str, Any]) -> dict[str, Any]:
    """Peak RSS over both phases; CPU of the burst (saturation) phase."""
    burst = (result.get("burst") or {}).get("processes") or {}
    paced = (result.get("paced") or {}).get("processes") or {}
    out: dict[str, Any] = {}
    for name in set(burst) | set(paced):
        b, p = burst.get(name, {}), paced.get(name, {})
        out[name] = {
            "peak_rss_mb": max(b.get("peak_rss_mb", 0.0), p.get("peak_rss_mb", 0.0)),
            "cpu_pct_burst": b.get("cpu_pct"),
            "cpu_pct_paced": p.get("cpu_pct"),
        }
    return out


async def profile(
    infra: Infra,
    contender: Contender,
    scenario: Scenario,
    events: int,
    duration_s: float,
    *,
    inflight: int,
    timeout_s: float,
    relais_env_extra: Mapping[str, str] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """py-spy on ``contender`` while it drains a burst of ``events`` (not a timed cell: py-spy
    pauses the process at each sample)."""
    label = f"profile-{contender.name}-{scenario.name}"
    infra.active = contender.broker  # its broker: topics, bootstrap, settings
    await infra.reset_simulator()
    await infra.set_faults(scenario.faults())  # profiles use healthy scenarios
    topics = await infra.topics(label)
    warm = generate(infra.generator, 20, infra.opcos)
    burst = generate(infra.generator, events, infra.opcos)
    out: dict[str, Any] = {"contender": contender.name, "scenario": scenario.name}
    collector = Collector(infra.bootstrap, topics["status"])
    await collector.start()
    running: contenders.Running | None = None
    try:
        running = await contenders.start(
            infra, contender, topics, label, inflight=inflight, relais_env_extra=relais_env_extra
        )
        assert running.child.pid is not None
        async with Producer(infra.bootstrap, burst=True) as producer:
            await producer.burst(topics["input"], warm)
            await collector.wait_for({e.id for e in warm}, timeout_s)
            raw = infra.workdir / f"{label}.pyspy.txt"
            spy = asyncio.create_task(profiling.record(running.child.pid, duration_s, raw))
            await asyncio.sleep(1.0)  # py-spy attached
            await producer.burst(topics["input"], burst)
            path = await spy
            out["answered_during_profile"] = collector.done({e.id for e in burst})
            await collector.wait_for({e.id for e in burst}, timeout_s)
        out.update(accounting(collector, burst))
        if path is None:
            out["error"] = "py-spy could not record (not installed, or no ptrace permission)"
        else:
            out["raw_file"] = str(path)
            out["duration_s"] = duration_s
            out.update(profiling.fold(path))
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        log(f"  {label}: FAILED {out['error']}")
    finally:
        with contextlib.suppress(Exception):
            await collector.stop()
        if running is not None:
            await contenders.stop(infra, running)
    return out


async def backlog(
    infra: Infra,
    contender: Contender,
    scenario: Scenario,
    events: int,
    *,
    inflight: int,
    timeout_s: float,
    chunk: int = 5000,
    relais_env_extra: Mapping[str, str] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """``events`` produced BEFORE relais starts, then drained: time, rate and RSS over progress.

    Memory is flat when the peak RSS in the last 30 % of the drain is at most 1.15 x the peak
    between 10 % and 30 % (+ 10 MB of slack): a leak grows with the events handled.
    """
    label = f"backlog-{contender.name}-{scenario.name}"
    infra.active = contender.broker  # its broker: topics, bootstrap, settings
    await infra.reset_simulator()
    await infra.set_faults(scenario.faults())
    topics = await infra.topics(label)
    out: dict[str, Any] = {
        "contender": contender.name,
        "scenario": scenario.name,
        "events": events,
        "inflight_limit": inflight,
    }
    ids: set[str] = set()
    t0 = time.monotonic()
    async with Producer(infra.bootstrap, burst=True) as producer:
        for start in range(0, events, chunk):
            batch = generate(infra.generator, min(chunk, events - start), infra.opcos)
            await producer.burst(topics["input"], batch)
            ids.update(e.id for e in batch)
    out["produce_s"] = round(time.monotonic() - t0, 1)
    log(f"  {label}: {events} events in the input topic ({out['produce_s']} s); starting relais")
    collector = Collector(infra.bootstrap, topics["status"])
    await collector.start()
    running: contenders.Running | None = None
    progress: list[tuple[float, int, float]] = []  # (t, answered, relais RSS MB)
    try:
        running = await contenders.start(
            infra, contender, topics, label, inflight=inflight, relais_env_extra=relais_env_extra
        )
        sampler = Sampler(_pids(infra, running), interval_s=1.0)
        sampler.start()
        started = time.monotonic()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            running.child.check_alive()
            answered = collector.done(ids)
            rss = sampler.series["contender"].rss[-1][1] if sampler.series["contender"].rss else 0
            progress.append((round(time.monotonic() - started, 1), answered, rss))
            if answered == len(ids):
                break
            if len(progress) % 15 == 0:
                log(f"  {label}: {answered}/{len(ids)} answered, relais RSS {rss} MB")
        await sampler.stop()
        done = [collector.terminal[i].at for i in ids if i in collector.terminal]
        out["answered"] = len(done)
        out["missing"] = len(ids) - len(done)
        out["drain_s"] = round(max(done) - started, 1) if done else None
        out["rate"] = round(len(done) / (max(done) - started), 1) if done else None
        out["steady_rate"] = steady_rate(done)
        out["processes"] = sampler.summary()
        out["duplicates"] = collector.duplicates
        early = [r for t, a, r in progress if 0.1 * events < a <= 0.3 * events]
        late = [r for t, a, r in progress if a > 0.7 * events]
        out["rss_early_mb"] = max(early) if early else None
        out["rss_late_mb"] = max(late) if late else None
        out["peak_rss_mb"] = out["processes"].get("contender", {}).get("peak_rss_mb")
        if early and late:
            out["rss_growth_mb"] = round(max(late) - max(early), 1)
            out["flat_memory"] = max(late) <= max(early) * 1.15 + 10
        else:
            out["flat_memory"] = None
        out["progress"] = progress
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        log(f"  {label}: FAILED {out['error']}")
    finally:
        with contextlib.suppress(Exception):
            await collector.stop()
        if running is not None:
            await contenders.stop(infra, running)
    return out
