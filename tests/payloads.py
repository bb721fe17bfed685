"""Command payloads for tests of the ledger's storage: any JSON object as the cerfa of a dossier
(the ledger stores ``CommandPayload.to_json()`` and reads it back whatever its data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relais.services.command_payload import CommandPayload, parse

TIME = "2026-11-27T08:00:00+00:00"


def payload_of(cerfa: Mapping[str, Any]) -> CommandPayload:
    return parse({"type": "fr.cfa.dossier.submitted.v1", "time": TIME, "data": {"cerfa": cerfa}})
