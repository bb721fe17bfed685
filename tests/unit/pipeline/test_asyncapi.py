"""schemas/asyncapi.json is generated from the code and never drifts from it."""

from __future__ import annotations

import json
from typing import Any

from relais.adapters.kafka.asyncapi import ASYNCAPI_FILE, asyncapi_document
from relais.config import KafkaSettings
from relais.contracts import SOURCES, render
from relais.domain.events import EventType
from relais.domain.referentials import default_schemas_dir
from relais.domain.status import StatusName


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], pointer: str) -> Any:
    node: Any = doc
    for part in pointer.lstrip("/").split("/"):
        node = node[part]
    return node


def test_committed_document_matches_the_code() -> None:
    committed = (default_schemas_dir() / ASYNCAPI_FILE).read_text(encoding="utf-8")
    assert committed == render(asyncapi_document()), "run `relais schemas write`"
    assert "asyncapi" in {s.name for s in SOURCES}  # `relais schemas check` covers it too


def test_every_reference_resolves() -> None:
    doc = asyncapi_document()
    schemas = default_schemas_dir()
    for ref in _refs(doc):
        target, _, pointer = ref.partition("#")
        base = doc if not target else json.loads((schemas / target).read_text(encoding="utf-8"))
        assert _resolve(base, pointer) is not None if pointer else base, ref


def test_channels_messages_and_group_follow_the_settings() -> None:
    kafka = KafkaSettings(
        input_topic="in.v1",
        status_topic="st.v1",
        rejected_topic="rj.v1",
        dlq_topic="dl.v1",
        group_id="g",
    )
    doc = asyncapi_document(kafka)
    addresses = {name: ch["address"] for name, ch in doc["channels"].items()}
    assert addresses == {
        "cfaEvents": "in.v1",
        "status": "st.v1",
        "rejected": "rj.v1",
        "deadLetters": "dl.v1",
    }
    titles = {m["name"] for m in doc["components"]["messages"].values()}
    assert {t.value for t in EventType} <= titles
    status_types = doc["components"]["messages"]["status"]["headers"]["properties"]["ce_type"]
    assert status_types["enum"] == [n.event_type for n in StatusName]
    group = doc["operations"]["consumeCfaEvents"]["bindings"]["kafka"]["groupId"]
    assert group["enum"] == ["g"]
