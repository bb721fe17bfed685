"""Shared fixtures live in ``tests/fixtures`` as plugins, one per real part.

``tests.fixtures.no_skip`` makes a run with a skipped test fail (``RELAIS_TEST_ALLOW_SKIP=1`` opts
out): a test that needs a tool fails with a clear message when it is missing.
"""

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.no_skip",
    "tests.fixtures.postgres",
    "tests.fixtures.simulator",
]
