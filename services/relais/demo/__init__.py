"""``relais demo``: everything on one machine (embedded broker, SQLite ledger, simulator, relais),
a realistic stream of CFA events, a live view, and with ``--exit`` one JSON summary with the
invariant checks."""
