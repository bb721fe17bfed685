"""The gateway built from Settings: overrides, timeouts, headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.factory import apply_overrides, build_gateway
from relais.config import Settings, load_settings
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile
from tests.unit.opco.conftest import CFA, reply


def settings() -> Settings:
    return Settings(
        opco={
            "editeur": "Fede",
            "logiciel": "relais-prod",
            "version": "9.9",
            "overrides": {
                "ATLAS": {
                    "base_url": "https://atlas.example",
                    "max_concurrency": 4,
                    "auth": {"oauth2": None},  # a sandbox with API keys only
                },
                "AFDAS": {"rate_limit_per_s": 2.5, "auth": {"oauth2": None}},
            },
        }
    )


def test_apply_overrides(profiles: dict[OpcoCode, OpcoProfile]) -> None:
    changed, base_urls = apply_overrides(profiles, settings().opco)
    assert base_urls == {OpcoCode.ATLAS: "https://atlas.example"}
    assert changed[OpcoCode.ATLAS].max_concurrency == 4
    assert changed[OpcoCode.AFDAS].rate_limit_per_s == 2.5
    assert changed[OpcoCode.AKTO] == profiles[OpcoCode.AKTO]


def test_overrides_change_how_an_opco_speaks(profiles: dict[OpcoCode, OpcoProfile]) -> None:
    opco = Settings(
        opco={
            "overrides": {
                "AKTO": {
                    "base_path": "/ApiEchangeCFA",
                    "token_url": "https://login.akto.example/token",
                    "identifiers": {"numero_interne": "##########"},
                },
                "AFDAS": {"auth": {"oauth2": None}},
            }
        }
    ).opco
    changed, _ = apply_overrides(profiles, opco)
    akto = changed[OpcoCode.AKTO]
    assert akto.base_path == "/ApiEchangeCFA"
    assert akto.auth.oauth2 is not None
    assert akto.auth.oauth2.token_url == "https://login.akto.example/token"
    assert akto.auth.oauth2.scope == "api.read api.write"  # the rest of the auth stays
    assert akto.identifiers.mismatch("numero_interne", "1234567")
    assert akto.sources["base_path"] == "deployment override (settings)"
    assert changed[OpcoCode.AFDAS].auth.scheme == "api_key"
    assert not any(key.startswith("auth.") for key in changed[OpcoCode.AFDAS].sources)


async def test_build_gateway_uses_the_settings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(200, {"cerfa": {}})

    store = CredentialStore()
    store.add_key(CFA, OpcoCode.ATLAS, "k")
    store.add_key(CFA, OpcoCode.AFDAS, "k")
    gateway = build_gateway(
        settings(),
        store,
        base_urls={OpcoCode.AFDAS: "http://127.0.0.1:9/AFDAS"},
        transport=httpx.MockTransport(handler),
    )
    try:
        await gateway.get_dossier(CFA, OpcoCode.ATLAS, "N1")
        await gateway.get_dossier(CFA, OpcoCode.AFDAS, "N1")
    finally:
        await gateway.aclose()
    assert str(seen[0].url) == "https://atlas.example/SorApiEchangeCFA/v2/dossiers?numeroInterne=N1"
    assert seen[1].url.port == 9
    assert seen[0].headers["EDITEUR"] == "Fede"
    assert seen[0].headers["VERSION"] == "9.9"
    assert seen[0].extensions["timeout"] == {
        "connect": 5.0,
        "read": 30.0,
        "write": 30.0,
        "pool": 10.0,
    }


def test_replicas_share_each_opco_rate_limit(profiles: dict[OpcoCode, OpcoProfile]) -> None:
    """Three processes calling the OPCOs (the chart's count) keep a third of each rate each, an
    override included, so together they never exceed the OPCO's limit."""
    opco = settings().opco.model_copy(update={"rate_limit_shared_by": 3})
    shared, _ = apply_overrides(profiles, opco)
    assert shared[OpcoCode.AFDAS].rate_limit_per_s == 2.5 / 3
    for code, profile in profiles.items():
        if code is not OpcoCode.AFDAS:
            assert shared[code].rate_limit_per_s == profile.rate_limit_per_s / 3
            assert shared[code].max_concurrency == (
                4 if code is OpcoCode.ATLAS else profile.max_concurrency
            )


def test_every_section_of_a_profile_can_be_overridden(
    monkeypatch: pytest.MonkeyPatch, profiles: dict[OpcoCode, OpcoProfile]
) -> None:
    """quirks, capabilities, transport, errors, etats and page_size from the environment (one key
    each, or a partial JSON object), checked like the file, noted in ``sources``."""
    prefix = "RELAIS_OPCO__OVERRIDES__AKTO__"
    monkeypatch.setenv(prefix + "QUIRKS__CERFA_SIGNATURE_KEY", "CERFASignatureProbante")
    monkeypatch.setenv(prefix + "CAPABILITIES__RUPTURE", "false")
    monkeypatch.setenv(prefix + "TRANSPORT", '{"conventions": {"kind": "json"}}')
    monkeypatch.setenv(prefix + "ERRORS__DOCUMENTS_SHAPE", "Description")
    monkeypatch.setenv(prefix + "ETATS__PAGE_SHAPE", "array")
    monkeypatch.setenv(prefix + "PAGE_SIZE", "20")
    changed, _ = apply_overrides(profiles, load_settings(secrets_dir=Path("/nonexistent")).opco)
    akto, before = changed[OpcoCode.AKTO], profiles[OpcoCode.AKTO]
    assert akto.quirks.cerfa_signature_key == "CERFASignatureProbante"
    assert akto.quirks.pratique_field == before.quirks.pratique_field  # the rest stays
    assert akto.quirks.iban_field == "IBAN"
    assert not akto.capabilities.rupture and akto.capabilities.factures_etats
    assert akto.transport.conventions.kind == "json"
    assert akto.transport.conventions.json_part == "convention"
    assert akto.transport.factures == before.transport.factures
    assert akto.errors.documents_shape == "Description" and akto.errors.shape == "errors"
    assert akto.etats.page_shape == "array"
    assert akto.page_size == 20
    note = "deployment override (settings)"
    for key in (
        "quirks.cerfa_signature_key",
        "capabilities.rupture",
        "transport.conventions.kind",
        "errors.documents_shape",
        "etats.page_shape",
        "page_size",
    ):
        assert akto.sources[key] == note, key
    assert akto.sources["quirks.pratique_field"] == before.sources["quirks.pratique_field"]
    assert "transport.conventions" in akto.sources  # the file's note on the rest of the route
    assert changed[OpcoCode.ATLAS] == profiles[OpcoCode.ATLAS]


@pytest.mark.parametrize(
    "override",
    [
        {"quirks": {"cerfa_signature_key": "CerfaSignature"}},  # not a known spelling
        {"quirks": {"no_such_quirk": True}},
        {"capabilities": {"rupture": "maybe"}},
        {"transport": {"conventions": {"kind": "xml"}}},
        {"transport": {"conventions": {"json_part": "a b"}}},
        {"errors": {"shape": "html"}},
        {"etats": {"page_shape": "list"}},
        {"page_size": 0},
    ],
)
def test_a_bad_override_is_refused_when_the_settings_load(override: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(opco={"overrides": {"AKTO": override}})
    assert "overrides.AKTO" in str(exc.value)
