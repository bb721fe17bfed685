"""Profile ``relais run`` under load with py-spy (sampling, from outside the process).

    py-spy record --pid PID --duration D --rate 100 --format raw --idle -o profile.txt

``--idle`` keeps the samples where the event loop waits in ``select``: their share is the time
relais spends waiting on I/O (broker, ledger, OPCO) rather than computing. The raw (collapsed)
stacks are folded here into the hot spots: self time per function and inclusive time per
function, relais's own code and its libraries apart.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


async def record(pid: int, duration_s: float, out: Path, rate: int = 100) -> Path | None:
    """Sample ``pid`` for ``duration_s``; the raw collapsed-stack file, or None if py-spy is
    missing or cannot attach (no ptrace permission)."""
    exe = py_spy()
    if exe is None:
        return None
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(duration_s)),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--idle",
        "-o",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), duration_s + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    if proc.returncode != 0 or not out.exists():  # noqa: ASYNC240 - after the subprocess
        out.with_suffix(".err").write_bytes(err or b"")
        return None
    return out


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif path.startswith(("relais/", "relais_simulator/")):
        pass
    elif "/relais/" in path or "/relais_simulator/" in path:
        path = path[path.find("relais") :]
    elif "lib/python3.11/" in path:
        path = path.split("lib/python3.11/", 1)[1]
    return f"{m.group('func')} ({path})"


def _module(frame: str) -> str:
    short = _short(frame)
    inside = short[short.rfind("(") + 1 : -1]
    parts = inside.split("/")
    if parts[0] == "relais" and len(parts) > 2:
        return "/".join(parts[:3]).removesuffix(".py")
    return parts[0].removesuffix(".py")


def _is_loop_thread(frames: list[str]) -> bool:
    return any("run_forever (asyncio" in f or "Runner.run (asyncio" in f for f in frames)


def _is_idle(frames: list[str]) -> bool:
    leaf = _short(frames[-1])
    return leaf.startswith(("EpollSelector.select", "select (", "poll (")) and "selectors" in leaf


def fold(raw: Path, top: int = 20) -> dict[str, Any]:
    """Hot spots of the event-loop thread from a raw py-spy file (``frame;frame;... count``
    lines). Percentages are of the loop thread's samples; ``idle_pct`` is the loop waiting in
    ``select`` (I/O), the rest is the loop busy (Python code and system calls)."""
    total = idle = other_threads = 0
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    modules_self: Counter[str] = Counter()
    stacks: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        if not _is_loop_thread(frames):
            other_threads += count
            continue
        total += count
        if _is_idle(frames):
            idle += count
            continue
        self_time[_short(frames[-1])] += count
        modules_self[_module(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            inclusive[name] += count
        relais_frames = [_short(f) for f in frames if "relais/" in f]
        anchor = relais_frames[-1] if relais_frames else _short(frames[0])
        stacks[f"{anchor} -> {_short(frames[-1])}"] += count

    def pct(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    skip = ("<module>", "_run_module", "_run_code", "main (", "handle (relais/entrypoints", "run (")
    return {
        "loop_samples": total,
        "other_thread_samples": other_threads,
        "idle_pct": pct(idle),
        "busy_pct": pct(total - idle),
        "self_top": [{"frame": k, "pct": pct(v)} for k, v in self_time.most_common(top)],
        "inclusive_top": [
            {"frame": k, "pct": pct(v)}
            for k, v in inclusive.most_common(top * 4)
            if not k.startswith(skip) and "asyncio/" not in k
        ][:top],
        "modules_self": [{"module": k, "pct": pct(v)} for k, v in modules_self.most_common(top)],
        "relais_anchor_to_leaf": [{"stack": k, "pct": pct(v)} for k, v in stacks.most_common(top)],
    }
