"""``relais schemas register``: relais's event schemas into a Confluent-compatible registry.

For each event type, the schema of its ``data`` (what a binary-mode value holds), derived from
``schemas/events/<ce_type>.json`` by ``framing.registry_schema``, is registered under the
subject ``<topic>-<ce_type>`` of every topic given (``framing.subject_name``). Registering again
is harmless: the registry answers the id it already has.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from relais.adapters.schema_registry import HttpSchemaRegistry
from relais.domain.events import EventType
from relais.domain.referentials import default_schemas_dir
from relais.services.ingest.framing import registry_schema, subject_name


async def register_schemas(
    url: str, topics: Sequence[str], schemas_dir: Path | None = None
) -> list[tuple[str, int]]:
    """(subject, schema id) of every schema registered, in event-type order."""
    folder = (schemas_dir or default_schemas_dir()) / "events"
    registry = HttpSchemaRegistry(url)
    done: list[tuple[str, int]] = []
    try:
        for event_type in EventType:
            document = json.loads((folder / f"{event_type.value}.json").read_text("utf-8"))
            schema = registry_schema(document, event_type)
            for topic in topics:
                subject = subject_name(topic, event_type)
                done.append((subject, await registry.register(subject, schema)))
    finally:
        await registry.aclose()
    return done
