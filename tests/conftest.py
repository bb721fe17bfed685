"""Shared fixtures live in ``tests/fixtures`` as plugins, one per real part.

``tests.fixtures.no_skip`` makes a run with a skipped test fail (``RELAIS_TEST_ALLOW_SKIP=1`` opts
out): a test that needs a tool fails with a clear message when it is missing.
"""

from __future__ import annotations

import os

from tests.today import TODAY

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.kafka",
    "tests.fixtures.no_skip",
    "tests.fixtures.postgres",
    "tests.fixtures.registry",
    "tests.fixtures.s3",
    "tests.fixtures.simulator",
]


def pytest_report_header() -> str:
    """Which day the tests run on (``FAKETIME`` is set by ``python -m tests.timeshift``)."""
    faked = os.environ.get("FAKETIME")
    return f"relais tests' today (Europe/Paris): {TODAY.isoformat()}" + (
        f" (FAKETIME={faked!r})" if faked else ""
    )
