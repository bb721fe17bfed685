"""relais benchmark: relais against a naive bridge and the broker's limit, on one machine.

    python -m bench --quick          # a few minutes, small event counts
    python -m bench                  # the full run (bigger counts, every scenario)
    python -m bench --backlog 100000 # only the backlog drain (flat memory)

Everything runs on 127.0.0.1 and is started and stopped by the run itself: the embedded Tansu
broker (memory engine), the OPCO simulator, a fresh PostgreSQL database per relais run (dropped at
the end) or a SQLite file, and each contender as a child process. Results go to
``bench/results/<timestamp>.{json,md,png}`` (gitignored).
"""
