"""A Confluent-compatible Schema Registry over HTTP (Confluent's own REST API, Apicurio's
``/apis/ccompat/v6`` or ``v7``, Karapace...): the JSON Schemas of framed values by id (ingest's
``framing.SchemaRegistry``, cached for the life of the process: an id never changes meaning) and
the registration of relais's schemas (``relais schemas register``).

No httpx exception leaves this module: an unreachable registry is ``RegistryUnavailableError``
(ingest stops the poll and reads it again later), a refusal ``RegistryRefusedError``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from relais.domain.json_types import Json
from relais.errors import ConfigurationError, UnavailableError

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
MAX_CACHED = 1024  # schema ids kept (relais registers five; the rest are refusals)
MAX_SCHEMA_BYTES = 1_048_576  # a registry's answer larger than this is not read


class RegistryUnavailableError(UnavailableError):
    code = "SCHEMA_REGISTRY_UNAVAILABLE"


class RegistryRefusedError(ConfigurationError):
    code = "SCHEMA_REGISTRY_REFUSED"


class HttpSchemaRegistry:
    def __init__(
        self, url: str, *, timeout_s: float = 5.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._cache: dict[int, Json | None] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def schema(self, schema_id: int) -> Json | None:
        """The JSON Schema of ``schema_id`` (None: unknown id, or not a JSON Schema)."""
        if schema_id in self._cache:
            return self._cache[schema_id]
        answer = await self._request("GET", f"/schemas/ids/{schema_id}")
        schema: Json | None = None
        if answer is not None and answer.get("schemaType", "AVRO") == "JSON":
            try:
                schema = json.loads(answer["schema"])
            except (KeyError, TypeError, ValueError):
                schema = None
        if len(self._cache) < MAX_CACHED:
            self._cache[schema_id] = schema
        return schema

    async def register(self, subject: str, schema: Json) -> int:
        """Register ``schema`` (JSON Schema) under ``subject``; its id (the same id again when
        the registry already has it)."""
        body = {"schemaType": "JSON", "schema": json.dumps(schema, sort_keys=True)}
        answer = await self._request("POST", f"/subjects/{subject}/versions", body)
        if answer is None or not isinstance(answer.get("id"), int):
            raise RegistryRefusedError(f"schema registry: no id for subject {subject}")
        return int(answer["id"])

    async def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any] | None:
        try:
            response = await self._client.request(
                method,
                self._url + path,
                json=body,
                headers={"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE},
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(
                f"schema registry {self._url}: no answer ({type(exc).__name__})"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            raise RegistryUnavailableError(
                f"schema registry {self._url}: HTTP {response.status_code}"
            )
        if response.status_code >= 400:
            raise RegistryRefusedError(
                f"schema registry {self._url}{path}: HTTP {response.status_code}"
            )
        if len(response.content) > MAX_SCHEMA_BYTES:
            raise RegistryRefusedError(f"schema registry {self._url}: answer too large")
        try:
            out = response.json()
        except ValueError:
            raise RegistryRefusedError(f"schema registry {self._url}: not JSON") from None
        return out if isinstance(out, dict) else None
