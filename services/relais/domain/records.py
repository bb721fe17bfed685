"""``Record``: a Kafka record as consumed, the one type for ingest, the operator tools and tests.

Plain data (no Kafka client here): the adapters build it from what their client returns. Headers
are the raw (name, bytes) pairs, duplicates kept and in order: what is done with a repeated or
non-UTF-8 header is the reader's decision (ingest refuses them, the operator tools show them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = ()
    timestamp_ms: int | None = None

    @property
    def position(self) -> str:
        """How relais names a record whose source is not established."""
        return f"kafka:{self.topic}:{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        """The first header ``name``, decoded leniently (for display, never for a decision)."""
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None

    @property
    def key_text(self) -> str | None:
        return self.key.decode("utf-8", errors="replace") if self.key is not None else None
