"""psutil sampling of every process of a measurement: RSS and CPU, peak and average.

A process is sampled with its children (``relais run`` is one process; the simulator too), every
``interval_s``. ``cpu_pct`` is CPU time over wall time in the window (100 = one full core).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import psutil  # type: ignore[import-untyped]

MB = 1024 * 1024


@dataclass
class Series:
    pid: int
    proc: psutil.Process
    cpu_start: float
    rss: list[tuple[float, float]] = field(default_factory=list)  # (t, MB)
    peak_rss_mb: float = 0.0
    cpu_end: float | None = None


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


class Sampler:
    def __init__(self, pids: dict[str, int], interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.series: dict[str, Series] = {}
        for name, pid in pids.items():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                self.series[name] = Series(pid, proc, _cpu(proc))
        self.started = time.monotonic()
        self.ended: float | None = None
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        now = time.monotonic() - self.started
        for s in self.series.values():
            with contextlib.suppress(psutil.Error):
                mb = s.proc.memory_info().rss / MB
                s.rss.append((round(now, 3), round(mb, 1)))
                s.peak_rss_mb = max(s.peak_rss_mb, mb)
                s.cpu_end = _cpu(s.proc)

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self.started = time.monotonic()
        for s in self.series.values():
            with contextlib.suppress(psutil.Error):
                s.cpu_start = _cpu(s.proc)
        self._task = asyncio.create_task(self._run(), name="sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample()
        self.ended = time.monotonic()

    def summary(self, *, with_series: bool = False) -> dict[str, Any]:
        wall = (self.ended or time.monotonic()) - self.started
        out: dict[str, Any] = {}
        for name, s in self.series.items():
            cpu_s = (s.cpu_end or s.cpu_start) - s.cpu_start
            entry: dict[str, Any] = {
                "pid": s.pid,
                "peak_rss_mb": round(s.peak_rss_mb, 1),
                "cpu_s": round(cpu_s, 2),
                "cpu_pct": round(100 * cpu_s / wall, 1) if wall > 0 else 0.0,
            }
            if with_series:
                entry["rss_series"] = s.rss
            out[name] = entry
        return out
