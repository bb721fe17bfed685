"""Building the gateway from ``Settings`` (called by the composition root, never at import)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.breaker import BreakerSettings
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.adapters.opco.observer import RequestObserver
from relais.config import OpcoSettings, Settings
from relais.domain.clock import Clock
from relais.domain.opco import OpcoCode
from relais.domain.profile_overrides import overridden
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.tracing import Tracing


def apply_overrides(
    profiles: Mapping[OpcoCode, OpcoProfile], opco: OpcoSettings
) -> tuple[dict[OpcoCode, OpcoProfile], dict[OpcoCode, str]]:
    """Profiles with the settings' overrides applied (``domain/profile_overrides.py``), and the
    base URLs the settings move.

    An OPCO's rate limit is for the whole deployment: with ``rate_limit_shared_by`` processes
    calling it (the chart sets the dispatch and poll replica count), each keeps its share.
    """
    out: dict[OpcoCode, OpcoProfile] = dict(profiles)
    base_urls: dict[OpcoCode, str] = {}
    for code, override in opco.overrides.items():
        if code not in out:
            continue
        out[code] = overridden(out[code], override)  # validated again, like the file
        if override.base_url:
            base_urls[code] = override.base_url
    if opco.rate_limit_shared_by > 1:
        for code, profile in out.items():
            share = profile.rate_limit_per_s / opco.rate_limit_shared_by
            out[code] = profile.model_copy(update={"rate_limit_per_s": share})
    return out, base_urls


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
