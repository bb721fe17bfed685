"""One request being served (who, what, its record) and how a handler reads it: the JSON body,
required fields, the page number; a refusal of the request itself is a 400 ``Rejection``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, RouteName
from relais_simulator.auth import CfaKey
from relais_simulator.records import RequestRecord
from relais_simulator.state import Simulator
from relais_simulator.store import Rejection
from relais_simulator.uploads import read_route_body
from relais_simulator.wire import JsonResponse, error_item


class Context:
    """One request being served: who, what, and its record."""

    __slots__ = ("cfa", "opco", "profile", "rec", "request", "version")

    def __init__(
        self,
        request: Request,
        opco: OpcoCode,
        profile: OpcoProfile,
        version: str,
        rec: RequestRecord,
    ) -> None:
        self.request = request
        self.opco = opco
        self.profile = profile
        self.version = version
        self.rec = rec
        self.cfa: CfaKey | None = None

    @property
    def siret(self) -> str:
        assert self.cfa is not None
        return self.cfa.siret


Handler = Callable[[Simulator, Context], Awaitable[Response]]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body, parse_constant=_no_constants)  # no NaN / Infinity
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejection(400, "Corps JSON invalide") from None


def bad_request(champ: str, description: str, code: str = "CHAMP_OBLIGATOIRE") -> Rejection:
    return Rejection(400, "Requête invalide", [error_item(code, champ, description)])


def string_field(body: Json, name: str) -> str:
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(name, "Champ obligatoire")
    return value.strip()


def json_object(value: Any, champ: str) -> Json:
    if not isinstance(value, dict):
        raise bad_request(champ, "Objet JSON attendu", "FORMAT")
    return value


def page_number(request: Request) -> int:
    raw = request.query_params.get("numeroPage", "1")
    try:
        page = int(raw)
    except ValueError:
        raise bad_request("numeroPage", "Entier attendu", "FORMAT") from None
    if page < 1 or page > 1_000_000:
        raise bad_request("numeroPage", "Numéro de page à partir de 1", "FORMAT")
    return page


async def route_body(ctx: Context, route: RouteName) -> Json:
    """The JSON object of a route that may carry a file, per the profile's transport."""
    transport = ctx.profile.transport.route(route)
    return await read_route_body(ctx.request, ctx.rec, transport)


def etats_page(ctx: Context, items: Sequence[Json], items_key: str) -> Response:
    """One page of an etats listing in the profile's shape: ``{total, count, page, <items>}``,
    that object in a one-element array, or every item in a top-level array (no paging)."""
    shape = ctx.profile.etats.page_shape
    if shape == "array":
        return JsonResponse(list(items))
    page = page_number(ctx.request)
    size = ctx.profile.page_size
    chunk = list(items[(page - 1) * size : page * size])
    body = {"total": len(items), "count": len(chunk), "page": page, items_key: chunk}
    return JsonResponse([body] if shape == "wrapped_object" else body)
