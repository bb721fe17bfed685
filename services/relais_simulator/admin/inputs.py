"""What an admin handler reads: the simulator (from the app's state), JSON bodies, OPCO codes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais_simulator.state import Simulator
from relais_simulator.states import DossierEtat
from relais_simulator.store import OpcoStore
from relais_simulator.wire import error_response

Endpoint = Callable[[Request], Awaitable[Response]]
Model = TypeVar("Model", bound=BaseModel)


class OfCfa(Protocol):
    @property
    def cfa_siret(self) -> str: ...


Item = TypeVar("Item", bound=OfCfa)


def simulator(request: Request) -> Simulator:
    """The simulator whose app serves this request (``create_app`` puts it in ``app.state``)."""
    sim = request.app.state.simulator
    if not isinstance(sim, Simulator):
        raise TypeError("app.state.simulator is not a Simulator: build the app with create_app")
    return sim


def opco_of(value: str) -> OpcoCode | None:
    try:
        return OpcoCode(value.upper())
    except ValueError:
        return None


def listing(
    request: Request, items: Callable[[OpcoStore], Iterable[Item]], view: Callable[[Item], Json]
) -> list[Json]:
    """The items of every OPCO's books (or of the ``opco`` query's), of the ``siret`` query's CFA
    when given, each as ``view`` shows it with its OPCO."""
    q = request.query_params
    opco = opco_of(q["opco"]) if "opco" in q else None
    siret = q.get("siret")
    return [
        {"opco": code.value, **view(item)}
        for code, store in simulator(request).stores.items()
        if opco is None or code is opco
        for item in items(store)
        if siret is None or item.cfa_siret == siret
    ]


def validation_errors(exc: ValidationError) -> list[Json]:
    return [
        {"code": e["type"], "champ": ".".join(map(str, e["loc"])), "description": e["msg"]}
        for e in exc.errors()
    ]


async def read_body(request: Request, model: type[Model]) -> Model | Response:
    """The body as ``model`` (an empty body is ``{}``), or the 400 response to send instead."""
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
        return model.model_validate(data)
    except ValidationError as exc:
        return error_response(400, "Corps invalide", validation_errors(exc))
    except ValueError:
        return error_response(400, "Corps invalide", [])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyIn(_Body):
    siret: str = Field(pattern=r"^[0-9]{14}$")
    opco: OpcoCode
    key: str = Field(min_length=1)
    expiry: str


class OAuthClientIn(_Body):
    opco: OpcoCode
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)


class AdvanceIn(_Body):
    days: float = Field(ge=0)


class ScaleIn(_Body):
    day_seconds: float = Field(ge=0)


class TtlIn(_Body):
    ttl_s: float = Field(gt=0)


class AgeIn(_Body):
    seconds: float = Field(ge=0)


class EtatIn(_Body):
    etat: DossierEtat
    commentaire: str | None = None


class ResetIn(_Body):
    credentials: bool = True


class SettingsIn(_Body):
    refusal_rate: float | None = Field(default=None, ge=0, le=1)
    days_to_instruction: float | None = Field(default=None, ge=0)
    days_to_decision_min: int | None = Field(default=None, ge=0)
    days_to_decision_max: int | None = Field(default=None, ge=0)
    facture_days_to_instruction: float | None = Field(default=None, ge=0)
    facture_days_to_payment: float | None = Field(default=None, ge=0)
    facture_refusal_rate: float | None = Field(default=None, ge=0, le=1)
    rate_limit: bool | None = None
    followup_rules: bool | None = None
