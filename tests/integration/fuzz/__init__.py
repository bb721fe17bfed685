"""Hostile input through the real broker into a running relais.

- ``test_limits_fuzz.py``: the property-based fuzz of the limits (ids, values, statuses around
  their bounds) and of tenant isolation (one CFA's ids used by another, forged sources), many
  examples against ONE running relais, with the shared status topic and with one per CFA.
  ``RELAIS_FUZZ_EXAMPLES`` (default 50 per test) and ``RELAIS_FUZZ_SEED`` set a long or another
  run: ``RELAIS_FUZZ_EXAMPLES=1000 .venv/bin/pytest tests/integration/fuzz/test_limits_fuzz.py``.
- ``test_broker_fuzz.py``: random and mutated records from the unit fuzz's strategies, a fresh
  relais per example (two examples).
- ``test_poison_records.py``, ``test_poison_bounds.py``: one test per poison record found.
"""
