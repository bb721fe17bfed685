"""The error bodies of the simulator's OpenAPI document: every shape an OPCO's profile may name
(``ErrorsProfile``, convergence-api.md 0), with the source and confidence of each."""

from __future__ import annotations

from typing import Any

from relais.domain.json_types import Json


def _obj(properties: Json, required: list[str], **extra: Any) -> Json:
    return {"type": "object", "properties": properties, "required": required, **extra}


def _str() -> Json:
    return {"type": "string"}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _shape(key: str, source: str, required: list[str] | None = None) -> Json:
    return _obj({key: _str()}, required or [key], description=source)


ERROR_SCHEMAS: Json = {
    "ErrorItem": _obj(
        {"code": _str(), "champ": _str(), "description": _str()}, ["code", "champ", "description"]
    ),
    "ErrorItemShort": _obj(
        {"code": _str(), "description": _str(), "champ": {"type": "string", "nullable": True}},
        ["code", "description"],
        description="errors[] item as most OPCOs send it (convergence-api.md 0, A-); more keys",
    ),
    "Error": {
        "description": (
            "Error body in the OPCO profile's errors.shape (relais reads every shape); a 409 also "
            "carries the existing object's ids (extra properties)."
        ),
        "anyOf": [
            _obj(
                {"message": _str(), "errors": {"type": "array", "items": _ref("ErrorItem")}},
                ["message"],
                description="message_errors: older notes, convergence-api.md 1.x (C)",
            ),
            _shape("description", "description: ATLAS 400, convergence-api.md 0 (A-)"),
            _obj(
                {"errors": {"type": "array", "items": _ref("ErrorItemShort")}},
                ["errors"],
                description="errors: most OPCOs, 401/403/500 too, convergence-api.md 0 (A-)",
            ),
            _shape("comment", "comment: OPCO EP, convergence-api.md 0 (A-)"),
            _shape("Description", "Description: the documents route, convergence-api.md 0 (A-)"),
        ],
    },
}
