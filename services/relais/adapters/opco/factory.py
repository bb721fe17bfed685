"""Building the gateway from ``Settings`` (called by the composition root, never at import)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.breaker import BreakerSettings
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.adapters.opco.observer import RequestObserver
from relais.config import OpcoOverride, OpcoSettings, Settings
from relais.domain.clock import Clock
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.tracing import Tracing


def apply_overrides(
    profiles: Mapping[OpcoCode, OpcoProfile], opco: OpcoSettings
) -> tuple[dict[OpcoCode, OpcoProfile], dict[OpcoCode, str]]:
    """Profiles with the settings' limits applied, and the base URLs the settings move.

    An OPCO's rate limit is for the whole deployment: with ``rate_limit_shared_by`` processes
    calling it (the chart sets the dispatch and poll replica count), each keeps its share.
    """
    out: dict[OpcoCode, OpcoProfile] = dict(profiles)
    base_urls: dict[OpcoCode, str] = {}
    for code, override in opco.overrides.items():
        if code not in out:
            continue
        update: dict[str, object] = {}
        if override.rate_limit_per_s is not None:
            update["rate_limit_per_s"] = override.rate_limit_per_s
        if override.max_concurrency is not None:
            update["max_concurrency"] = override.max_concurrency
        update.update(_shape_update(out[code], override))
        if update:
            # validated again: an override is checked like the file's values
            body = {**out[code].model_dump(), **update}
            out[code] = OpcoProfile.model_validate(body)
        if override.base_url:
            base_urls[code] = override.base_url
    if opco.rate_limit_shared_by > 1:
        for code, profile in out.items():
            share = profile.rate_limit_per_s / opco.rate_limit_shared_by
            out[code] = profile.model_copy(update={"rate_limit_per_s": share})
    return out, base_urls


def _shape_update(profile: OpcoProfile, override: OpcoOverride) -> dict[str, object]:
    """What an override changes in how the OPCO speaks (base path, auth, identifier formats)."""
    update: dict[str, object] = {}
    if override.base_path is not None:
        update["base_path"] = override.base_path
    auth = override.auth if override.auth is not None else profile.auth
    if override.token_url is not None and auth.oauth2 is not None:
        oauth2 = auth.oauth2.model_copy(update={"token_url": override.token_url})
        auth = auth.model_copy(update={"oauth2": oauth2})
    if auth != profile.auth:
        update["auth"] = auth.model_dump()
    if override.identifiers is not None:
        update["identifiers"] = override.identifiers.model_dump()
    if update:
        note = "deployment override (settings)"
        kept = {k: v for k, v in profile.sources.items() if k.split(".")[0] not in update}
        update["sources"] = {**kept, **dict.fromkeys(update, note)}
    return update


def build_gateway(
    settings: Settings,
    credentials: CredentialStore,
    *,
    base_urls: Mapping[OpcoCode, str] | None = None,
    observer: RequestObserver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    tracing: Tracing | None = None,
) -> HttpOpcoGateway:
    """``base_urls`` (e.g. the demo's simulator) win over the settings' overrides."""
    opco = settings.opco
    profiles, moved = apply_overrides(load_profiles(settings.profiles_file), opco)
    moved.update(base_urls or {})
    return HttpOpcoGateway(
        profiles,
        credentials,
        editeur=opco.editeur,
        logiciel=opco.logiciel,
        version=opco.version,
        base_urls=moved,
        transport=transport,
        timeout=httpx.Timeout(
            connect=opco.connect_timeout_s,
            read=opco.read_timeout_s,
            write=opco.write_timeout_s,
            pool=opco.pool_timeout_s,
        ),
        observer=observer,
        clock=clock,
        breaker=BreakerSettings(opco.breaker_failures, opco.breaker_reset_s),
        tracing=tracing,
    )
