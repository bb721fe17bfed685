"""Shared fixtures live in ``tests/fixtures`` as plugins, one per real part."""

pytest_plugins = [
    "tests.fixtures.broker",
    "tests.fixtures.postgres",
    "tests.fixtures.simulator",
]
