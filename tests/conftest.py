"""Shared fixtures live in ``tests/fixtures`` as plugins, one per real part.

``tests.fixtures.no_skip`` makes a run with a skipped test fail (``RELAIS_TEST_ALLOW_SKIP=1`` opts
out): a test that needs a tool fails with a clear message when it is missing.

The tests' file store: relais reads only the files a CFA is granted (``RELAIS_FILES__*``). A test
process's sample generator writes its PDFs under ``default_files_dir()``, one subdirectory per CFA
SIRET, so that directory is the ``files.local_base`` of every relais the tests build or start
(``demo.processes.relais_env`` passes it to child processes). A test of the grants themselves sets
its own.
"""

from __future__ import annotations

import os

from relais.sampledata.pdfs import default_files_dir
from tests.today import TODAY

os.environ.setdefault("RELAIS_FILES__LOCAL_BASE", str(default_files_dir().resolve()))

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
