"""Settings that do not load, told in one line per problem: the variable, what is wrong, no value.

pydantic's own text (``input_value=...``) and pydantic-settings' parse errors (a traceback through
``json.loads``) would echo a secret or drown the reason. ``load_settings_or_fail`` raises one
``ConfigurationError`` whose message names each environment variable (or secret file) at fault and
what it expects, never the value it was given.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from relais.config import Settings, load_settings
from relais.errors import ConfigurationError

PREFIX = "RELAIS_"
_FIELD = re.compile(r'field "([^"]+)"')
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variable_for(loc: tuple[Any, ...]) -> str:
    """``("kafka", "topic_sources", "x")`` -> ``RELAIS_KAFKA__TOPIC_SOURCES``.

    Only the group and the field are named: deeper parts of a map are keys given by the operator
    (a CFA SIRET, or by mistake a key itself) and are left out.
    """
    parts = [str(p).upper() for p in loc[:2] if isinstance(p, str) and _NAME.match(p)]
    return PREFIX + "__".join(parts) if parts else PREFIX + "*"


def problems_of(exc: Exception) -> list[str]:
    """One line per problem in a settings error (``ValidationError`` or ``SettingsError``)."""
    if isinstance(exc, ValidationError):
        lines: list[str] = []
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            loc = tuple(err["loc"])
            where = variable_for(loc)
            deeper = " (in one of its entries)" if len(loc) > 2 else ""
            line = f"{where}{deeper}: {_message(err)}"
            if line not in lines:
                lines.append(line)
        return lines
    if isinstance(exc, SettingsError):
        match = _FIELD.search(str(exc))
        field = match.group(1) if match else "*"
        cause = exc.__cause__
        why = "not valid JSON" if isinstance(cause, ValueError) else "cannot be read"
        names = _unparsable_variables(_variable_of_field(field)) or [_variable_of_field(field)]
        return [
            f"{name}: {why} (maps and lists are given as JSON, e.g. "
            '\'{"relais.cfa.a.v1": ["urn:siret:..."]}\')'
            for name in names
        ]
    return [f"settings: {type(exc).__name__}"]


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "missing":
        return "required, not set"
    if err.get("type") == "extra_forbidden":
        return "unknown setting (check its spelling and the README's configuration reference)"
    return msg.removeprefix("Value error, ")


def _unparsable_variables(prefix: str) -> list[str]:
    """The variables under ``prefix`` whose value looks like JSON but does not parse.

    pydantic-settings names only the group (``kafka``) of a value it could not parse; this finds
    the variable itself. It reads the environment for that message only, like ``relais.config``.
    """
    found = []
    for name, value in sorted(os.environ.items()):
        if not name.upper().startswith(prefix) or not value.strip().startswith(("{", "[")):
            continue
        try:
            json.loads(value)
        except ValueError:
            found.append(name.upper())
    return found


def _variable_of_field(field: str) -> str:
    """A top-level field of ``Settings``, or the nested field it names."""
    if field in Settings.model_fields:
        return PREFIX + field.upper()
    for group, info in Settings.model_fields.items():
        annotation = info.annotation
        fields = getattr(annotation, "model_fields", {})
        if field in fields:
            return f"{PREFIX}{group.upper()}__{field.upper()}"
    return PREFIX + field.upper()


def load_settings_or_fail(*, secrets_dir: Path | None = None) -> Settings:
    """``load_settings``, a failure raised as one ``ConfigurationError`` (one line, no value)."""
    try:
        return load_settings(secrets_dir=secrets_dir)
    except (ValidationError, SettingsError) as exc:
        raise ConfigurationError("invalid settings: " + "; ".join(problems_of(exc))) from None
