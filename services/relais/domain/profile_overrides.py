"""Per-deployment overrides of an OPCO profile (settings ``RELAIS_OPCO__OVERRIDES__<CODE>__...``).

Any value of a profile can be replaced without touching the bundled file: the real OPCO's root
(``base_url``) and ``base_path``, its ``auth`` (whole, or its ``token_url`` alone), its
``identifiers``, its limits, and any key of the sections ``quirks``, ``capabilities``,
``transport``, ``errors`` and ``etats`` as a partial JSON object (only the keys given change):

    RELAIS_OPCO__OVERRIDES__AKTO__QUIRKS__CERFA_SIGNATURE_KEY=CERFASignatureProbante
    RELAIS_OPCO__OVERRIDES__ATLAS__TRANSPORT='{"conventions": {"kind": "json"}}'

A section's patch is checked like the file (against the section's model) when the settings load,
and the overridden profile is validated again when it is applied; each overridden value is noted
``deployment override (settings)`` in the profile's ``sources``, under its dotted key.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from relais.domain.profiles import (
    AuthProfile,
    Capabilities,
    ErrorsProfile,
    EtatsProfile,
    IdentifierFormats,
    OpcoProfile,
    Quirks,
    TransportProfile,
)

OVERRIDE_NOTE = "deployment override (settings)"
SECTIONS: dict[str, type[BaseModel]] = {
    "quirks": Quirks,
    "capabilities": Capabilities,
    "transport": TransportProfile,
    "errors": ErrorsProfile,
    "etats": EtatsProfile,
}
MAX_PATCH_DEPTH = 3

Patch = dict[str, Any]


class OpcoOverride(BaseModel):
    """Production values that replace the profile's: the real OPCO's root (``base_url``) and
    ``base_path`` ("" for none), its ``auth`` (JSON: api_key_header, oauth2, dpop) or its
    ``token_url`` alone, its ``identifiers`` (templates: # a digit, @ a letter), limits, and any
    key of ``quirks``, ``capabilities``, ``transport``, ``errors``, ``etats`` (partial JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    base_path: str | None = None
    auth: AuthProfile | None = None
    token_url: str | None = None
    identifiers: IdentifierFormats | None = None
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    page_size: int | None = Field(default=None, ge=1)
    quirks: Patch | None = None
    capabilities: Patch | None = None
    transport: Patch | None = None
    errors: Patch | None = None
    etats: Patch | None = None

    @field_validator(*SECTIONS)
    @classmethod
    def _checked_like_the_file(cls, value: Patch | None, info: ValidationInfo) -> Patch | None:
        if value is None:
            return None
        return checked_patch(SECTIONS[str(info.field_name)], value)


def merged(base: Patch, patch: Patch) -> Patch:
    """``base`` with ``patch``'s keys replaced, nested objects merged key by key."""
    out = dict(base)
    for key, value in patch.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merged(old, value)
        else:
            out[key] = value
    return out


def checked_patch(model: type[BaseModel], patch: Patch) -> Patch:
    """``patch`` validated against ``model`` (its defaults filling the rest), its values in the
    model's types (``"false"`` from the environment becomes ``False``); a clear error otherwise."""
    try:
        whole = model.model_validate(merged(model().model_dump(), patch)).model_dump()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(problems) from None
    return _picked(whole, patch)


def _picked(whole: Patch, patch: Patch) -> Patch:
    return {
        k: _picked(whole[k], v) if isinstance(v, dict) and isinstance(whole[k], dict) else whole[k]
        for k, v in patch.items()
    }


def leaf_paths(patch: Patch, prefix: str, depth: int = 0) -> list[str]:
    """The dotted keys a patch sets (``transport.conventions.kind``)."""
    out: list[str] = []
    for key, value in patch.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict) and value and depth < MAX_PATCH_DEPTH:
            out.extend(leaf_paths(value, path, depth + 1))
        else:
            out.append(path)
    return out


def overridden(profile: OpcoProfile, override: OpcoOverride) -> OpcoProfile:
    """``profile`` with the override's values (not ``base_url``: the gateway moves that one),
    validated again like the file's, each changed value noted in ``sources``."""
    update: Patch = {}
    for name in ("base_path", "rate_limit_per_s", "max_concurrency", "page_size"):
        value = getattr(override, name)
        if value is not None:
            update[name] = value
    notes = list(update)
    auth = override.auth if override.auth is not None else profile.auth
    if override.token_url is not None and auth.oauth2 is not None:
        oauth2 = auth.oauth2.model_copy(update={"token_url": override.token_url})
        auth = auth.model_copy(update={"oauth2": oauth2})
    if auth != profile.auth:
        update["auth"] = auth.model_dump()
        notes.append("auth")
    if override.identifiers is not None:
        update["identifiers"] = override.identifiers.model_dump()
        notes.append("identifiers")
    for name in SECTIONS:
        patch: Patch | None = getattr(override, name)
        if patch:
            update[name] = merged(getattr(profile, name).model_dump(), patch)
            notes += leaf_paths(patch, name)
    if not update:
        return profile
    kept = {
        k: v
        for k, v in profile.sources.items()
        if not any(k == n or k.startswith(n + ".") for n in notes)
    }
    update["sources"] = {**kept, **dict.fromkeys(notes, OVERRIDE_NOTE)}
    return OpcoProfile.model_validate({**profile.model_dump(), **update})
