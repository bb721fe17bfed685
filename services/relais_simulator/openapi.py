"""The OpenAPI 3.0 document of the convergence API as relais models it (generated)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def build_openapi() -> Json:
    return {
        "openapi": "3.0.3",
        "info": {"title": "API convergence CFA / OPCO", "version": "0"},
        "paths": {},
    }
