"""``relais watch``: follow status events, optionally only one CFA, dossier or OPCO.

Status records are read leniently (a field relais does not know yet is shown, not refused): the
operator must see what is on the topic even across contract versions.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from relais.config import KafkaSettings
from relais.domain.records import Record
from relais.operator.kafka_io import read_topic


@dataclass(frozen=True)
class StatusLine:
    """One status record as the operator sees it."""

    id: str | None
    dossier: str | None
    body: dict[str, Any]
    partition: int
    offset: int

    @property
    def status(self) -> str:
        return str(self.body.get("status", "?"))

    @property
    def cfa(self) -> str | None:
        value = self.body.get("cfa")
        return str(value) if value is not None else None

    @property
    def opco(self) -> str | None:
        value = self.body.get("opco")
        return str(value) if value is not None else None

    @property
    def event_id(self) -> str | None:
        value = self.body.get("eventId")
        return str(value) if value is not None else None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.dossier, **self.body}

    def text(self) -> str:
        b = self.body
        when = str(b.get("occurredAt", ""))[:19]
        parts = [when, f"{self.status:<13}", f"{self.opco or '-':<12}", self.cfa or "-"]
        parts.append(f"dossier={self.dossier}")
        if b.get("kind"):
            parts.append(f"kind={b['kind']}")
        if self.event_id:
            parts.append(f"event={self.event_id}")
        for name in (
            "numeroInterne",
            "numeroInterneFacture",
            "referenceFactureCFA",
            "numeroInterneDocument",
        ):
            if b.get(name):
                parts.append(f"{name}={b[name]}")
        if b.get("etat"):
            prev = b.get("previousEtat")
            parts.append(f"etat={prev}->{b['etat']}" if prev else f"etat={b['etat']}")
        if b.get("attempts") is not None:
            parts.append(f"attempts={b['attempts']}")
        if b.get("reason"):
            parts.append(f"reason={b['reason']}")
        errors = b.get("errors") or []
        if errors:
            codes = ",".join(str(e.get("code")) for e in errors if isinstance(e, dict))
            parts.append(f"errors={codes}")
        opco_errors = [e for e in b.get("opcoErrors") or [] if isinstance(e, dict)]
        if opco_errors:
            parts.append("opco_errors=" + ",".join(_opco_error(e) for e in opco_errors))
        if b.get("motif"):
            parts.append(f"motif={b['motif']}")
        if b.get("opcoMessages"):
            parts.append("opco_says=" + " | ".join(str(m) for m in b["opcoMessages"]))
        return "  ".join(parts)


def _opco_error(error: dict[str, Any]) -> str:
    """``code@field`` of one of the OPCO's errors (either may be absent)."""
    code, field = error.get("code"), error.get("field")
    return f"{code or '?'}@{field}" if field else str(code or "?")


def parse_status(record: Record) -> StatusLine:
    """A status event in either CloudEvents content mode (kafka.status_content_mode)."""
    try:
        body: Any = json.loads(record.value) if record.value else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    event_id = record.header("ce_id")
    if (record.header("content-type") or "").startswith("application/cloudevents+json"):
        event_id = body.get("id") if isinstance(body.get("id"), str) else None
        body = body.get("data") if isinstance(body.get("data"), dict) else {}
    return StatusLine(
        id=event_id,
        dossier=record.key_text,
        body=body,
        partition=record.partition,
        offset=record.offset,
    )


@dataclass(frozen=True)
class StatusFilter:
    cfa: str | None = None
    dossier: str | None = None
    opco: str | None = None
    event: str | None = None

    def __call__(self, line: StatusLine) -> bool:
        if self.cfa and line.cfa != self.cfa:
            return False
        if (
            self.dossier
            and line.dossier != self.dossier
            and line.body.get("dossierId") != (self.dossier)
        ):
            return False
        if self.opco and (line.opco or "").upper() != self.opco.upper():
            return False
        return not (self.event and line.event_id != self.event)


async def statuses(
    kafka: KafkaSettings,
    *,
    keep: StatusFilter | None = None,
    from_beginning: bool = False,
    follow: bool = True,
    timeout_s: float | None = None,
    idle_s: float = 1.0,
) -> AsyncGenerator[StatusLine, None]:
    keep = keep or StatusFilter()
    reader = read_topic(
        kafka,
        kafka.status_topic,
        from_beginning=from_beginning,
        follow=follow,
        timeout_s=timeout_s,
        idle_s=idle_s,
    )
    async with contextlib.aclosing(reader) as records:
        async for record in records:
            line = parse_status(record)
            if keep(line):
                yield line
