"""``python -m tests.timeshift``: the shifted days, the libfaketime environment, the exit code."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.timeshift import faketime_env, first_leap_day_from, main, shifted_days


@pytest.mark.parametrize(
    ("today", "plus_seven_months", "leap_day"),
    [
        (date(2026, 12, 3), date(2027, 7, 3), date(2032, 2, 29)),
        (date(2025, 2, 28), date(2025, 9, 28), date(2028, 2, 29)),  # 3 years on: 2028-02-28
        (date(2028, 2, 29), date(2028, 9, 29), date(2032, 2, 29)),
        (date(2027, 7, 31), date(2028, 2, 29), date(2032, 2, 29)),  # 31 -> the month's last day
        (date(2096, 6, 1), date(2097, 1, 1), date(2104, 2, 29)),  # 2100 is no leap year
    ],
)
def test_the_two_days_are_computed_from_today(
    today: date, plus_seven_months: date, leap_day: date
) -> None:
    assert [day for _, day in shifted_days(today)] == [plus_seven_months, leap_day]


def test_a_leap_day_is_its_own_first_leap_day() -> None:
    assert first_leap_day_from(date(2028, 2, 29)) == date(2028, 2, 29)
    assert first_leap_day_from(date(2028, 3, 1)) == date(2032, 2, 29)


def test_the_faked_day_reaches_a_child_process() -> None:
    env = faketime_env(date(2032, 2, 29))
    assert env["FAKETIME"] == "@2032-02-29 10:00:00"
    assert (Path(env["LD_LIBRARY_PATH"]) / "libfaketime.so.1").is_file()  # shipped by the wheel
    code = "import datetime, subprocess, sys; print(datetime.date.today()); sys.stdout.flush(); "
    code += "subprocess.run([sys.executable, '-c', 'import time; print(time.strftime(\"%F\"))'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["2032-02-29", "2032-02-29"], out.stderr


def test_a_run_that_fails_on_a_shifted_day_fails_the_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "test_bomb.py"
    bomb.write_text(
        "import datetime\n\n\ndef test_bomb():\n"
        "    assert datetime.date.today() < datetime.date(2030, 1, 1)\n",
        encoding="utf-8",
    )
    code = main(["--today", "2026-12-03", "--suite", str(bomb), "-q", f"--rootdir={tmp_path}"])
    out = capsys.readouterr().out
    assert "timeshift: today + 7 months (2027-07-03): exit 0" in out
    assert "timeshift: first 29 February >= 3 years ahead (2032-02-29): exit 1" in out
    assert code == 1
