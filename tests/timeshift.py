"""Run the date-sensitive suites at other dates, under libfaketime: ``python -m tests.timeshift``.

No test may read the wall-clock date except through an injected "today" or the simulator's clock,
so the suites must pass on any day. This runs them on two days computed from the real one
(Europe/Paris): about seven months ahead, and the first 29 February at least three years ahead.

``FAKETIME="@YYYY-MM-DD HH:MM:SS"`` starts each process's clock at that instant and lets it tick;
``LD_PRELOAD`` and ``FAKETIME`` are inherited, so the simulator subprocesses share the shifted day.
The monotonic clock is left real (asyncio timers, timeouts, hypothesis deadlines).
Only the pytest processes run under it. The exit code is the first failing run's (0 when all pass).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime

from relais.domain.dates import add_months, add_years, paris_today

# The suites whose outcome depends on the day: the control rules, sample data, simulator, OPCO
# client, ingest per CFA (tenancy) and key expiry (operator). tests/examples holds data, no tests
# (tests/unit/domain runs it). The rest (ledger, broker, pipeline, dispatch, e2e, faults) take their
# day from the same tests.today / simulator clock and are left out to keep `make test` short.
SUITES = (
    "tests/unit",
    "tests/integration/simulator",
    "tests/integration/opco",
    "tests/integration/tenancy",
    "tests/integration/operator",
)
START_TIME = "10:00:00"  # local time of day each process starts at: far from midnight in Paris


def first_leap_day_from(day: date) -> date:
    """The first 29 February on or after ``day``."""
    year = day.year if (day.month, day.day) <= (2, 29) else day.year + 1
    while True:
        try:
            return date(year, 2, 29)
        except ValueError:
            year += 1


def shifted_days(today: date) -> list[tuple[str, date]]:
    """The days to run on: about seven months ahead, and a 29 February at least 3 years ahead."""
    return [
        ("today + 7 months", add_months(today, 7)),
        ("first 29 February >= 3 years ahead", first_leap_day_from(add_years(today, 3))),
    ]


def faketime_env(day: date) -> dict[str, str]:
    """The environment that makes a process (and its children) start on ``day``."""
    import libfaketime  # the wheel ships libfaketime.so.1 and the variables it needs

    _, additions = libfaketime.get_reload_information()
    # FAKETIME_DONT_RESET: a child process (the simulator, relais) continues its parent's
    # shifted clock instead of starting again at ``day`` (the DPoP ``iat`` window compares the
    # clocks of two processes).
    return {
        **additions,
        "FAKETIME": f"@{day.isoformat()} {START_TIME}",
        "FAKETIME_DONT_RESET": "1",
    }


def run(day: date, label: str, suites: list[str], pytest_args: list[str]) -> int:
    env = {**os.environ, **faketime_env(day)}
    # The broker matrix's Tansu leg only: the day is the subject here (the Apache Kafka leg ran
    # in the main pass), and a JVM under libfaketime is not what operators run.
    env["RELAIS_TEST_BROKERS"] = "tansu"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "not slow"]
    command += [*pytest_args, *suites]
    print(f"\n=== timeshift: {label}: FAKETIME={env['FAKETIME']!r} ({' '.join(suites)})")
    sys.stdout.flush()
    started = time.monotonic()
    code = subprocess.call(command, env=env)
    took = time.monotonic() - started
    print(f"=== timeshift: {label} ({day.isoformat()}): exit {code} in {took:.0f}s")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.timeshift", description=__doc__)
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        help="the real day the shifts start from (default: today in Europe/Paris)",
    )
    parser.add_argument("--suite", action="append", help=f"a test path (default: {SUITES})")
    args, pytest_args = parser.parse_known_args(argv)
    today: date = args.today or paris_today(datetime.now(UTC))
    suites = args.suite or list(SUITES)
    days = shifted_days(today)
    print("timeshift from " + today.isoformat() + ": " + ", ".join(d.isoformat() for _, d in days))
    codes = [run(day, label, suites, pytest_args) for label, day in days]
    return next((c for c in codes if c != 0), 0)


if __name__ == "__main__":
    sys.exit(main())
