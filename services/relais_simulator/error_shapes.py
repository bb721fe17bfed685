"""An OPCO's refusal in the body shape its profile names (``ErrorsProfile``, convergence-api.md 0):

    message_errors  {"message": m, "errors": [{code, champ, description}]}  (older notes, 1.x)
    description     {"description": "m (champ: description; ...)"}          (ATLAS 400)
    errors          {"errors": [{code, description, champ}]}                  (most OPCOs)
    comment         {"comment": m} alone, or errors[] when fields are named   (OPCO EP)
    Description     {"Description": m}                                        (documents route)

A 409 keeps the existing object's ids at the top level whatever the shape (what relais reads)."""

from __future__ import annotations

from relais.domain.json_types import Json
from relais.domain.profiles import ErrorShape, ErrorsProfile


def _flat(message: str, errors: list[Json]) -> str:
    parts = [f"{e.get('champ')}: {e.get('description')}" for e in errors if e.get("champ")]
    return f"{message} ({'; '.join(parts)})" if parts else message


def shaped_error(shape: ErrorShape, message: str, errors: list[Json]) -> Json:
    items = [
        {"code": e.get("code"), "description": e.get("description"), "champ": e.get("champ")}
        for e in errors
    ]
    if shape == "description":
        return {"description": _flat(message, errors)}
    if shape == "Description":
        return {"Description": _flat(message, errors)}
    if shape == "comment":
        return {"errors": items} if items else {"comment": message}
    if shape == "errors":
        return {"errors": items or [{"code": "ERREUR", "description": message}]}
    return {"message": message, "errors": errors}


def route_shape(errors: ErrorsProfile, route: str) -> ErrorShape:
    """The shape of a route's error answers: the documents route may have its own."""
    return (errors.documents_shape if route == "documents" else None) or errors.shape
