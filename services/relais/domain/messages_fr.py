"""The French text of a schema error: what a CFA reads in a ``rejected`` status instead of the
English message of the validation library (pydantic). One template per error type, filled with
the error's context (lengths, bounds, expected values), never with the input value (it may be
personal data); an error raised by relais's own validators keeps its text, written in French.
A type without a template gets a generic French text naming it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TEMPLATES: dict[str, str] = {
    "missing": "Champ obligatoire absent.",
    "extra_forbidden": "Champ inconnu : il n'est pas prévu par le schéma.",
    "string_type": "Une chaîne de caractères est attendue.",
    "string_too_short": "Au moins {min_length} caractère(s) attendu(s).",
    "string_too_long": "Au plus {max_length} caractère(s) attendu(s).",
    "string_pattern_mismatch": "Format non conforme (motif attendu : {pattern}).",
    "string_unicode": "Texte Unicode invalide.",
    "int_type": "Un nombre entier est attendu.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_from_float": "Un nombre entier est attendu (sans partie décimale).",
    "float_type": "Un nombre est attendu.",
    "float_parsing": "Un nombre est attendu.",
    "finite_number": "Un nombre fini est attendu.",
    "decimal_type": "Un nombre décimal est attendu.",
    "decimal_parsing": "Un nombre décimal est attendu.",
    "bool_type": "Un booléen (true ou false) est attendu.",
    "bool_parsing": "Un booléen (true ou false) est attendu.",
    "date_type": "Une date est attendue (AAAA-MM-JJ).",
    "date_parsing": "Date invalide : le format attendu est AAAA-MM-JJ.",
    "date_from_datetime_parsing": "Date invalide : le format attendu est AAAA-MM-JJ.",
    "date_from_datetime_inexact": "Une date sans heure est attendue (AAAA-MM-JJ).",
    "datetime_type": "Une date et heure est attendue (RFC 3339).",
    "datetime_parsing": "Date et heure invalides : le format attendu est RFC 3339.",
    "datetime_from_date_parsing": "Date et heure invalides : le format attendu est RFC 3339.",
    "timezone_aware": "La date et heure doit porter un décalage horaire (RFC 3339).",
    "greater_than": "La valeur doit être supérieure à {gt}.",
    "greater_than_equal": "La valeur doit être supérieure ou égale à {ge}.",
    "less_than": "La valeur doit être inférieure à {lt}.",
    "less_than_equal": "La valeur doit être inférieure ou égale à {le}.",
    "multiple_of": "La valeur doit être un multiple de {multiple_of}.",
    "too_short": "Au moins {min_length} élément(s) attendu(s).",
    "too_long": "Au plus {max_length} élément(s) attendu(s).",
    "literal_error": "Valeur non autorisée ; valeurs possibles : {expected}.",
    "enum": "Valeur non autorisée ; valeurs possibles : {expected}.",
    "dict_type": "Un objet JSON est attendu.",
    "model_type": "Un objet JSON est attendu.",
    "model_attributes_type": "Un objet JSON est attendu.",
    "list_type": "Une liste JSON est attendue.",
    "tuple_type": "Une liste JSON est attendue.",
    "set_type": "Une liste JSON est attendue.",
    "iterable_type": "Une liste JSON est attendue.",
    "none_required": "Ce champ doit être vide (null).",
    "uuid_type": "Un UUID est attendu.",
    "uuid_parsing": "UUID invalide.",
    "url_type": "Une URL est attendue.",
    "url_parsing": "URL invalide.",
    "json_invalid": "JSON invalide.",
    "json_type": "JSON invalide.",
    "union_tag_invalid": "Type d'objet non reconnu ; valeurs possibles : {expected_tags}.",
    "union_tag_not_found": "Le champ discriminant {discriminator} est absent.",
    "recursion_loop": "Objet trop imbriqué.",
}

_OWN_TEXT = frozenset({"value_error", "assertion_error"})


def french(error: Mapping[str, Any]) -> str:
    """The French text of one pydantic error (an item of ``ValidationError.errors()``)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _OWN_TEXT and ctx.get("error") is not None:
        return str(ctx["error"])  # relais's own validator: its text, in French
    template = _TEMPLATES.get(kind)
    if template is None:
        if kind.startswith("nombre_") or kind.endswith("_fr"):  # PydanticCustomError of relais
            return str(error.get("msg", ""))
        return f"Valeur non conforme au schéma ({kind})."
    try:
        return template.format(**{k: _shown(v) for k, v in ctx.items()})
    except (KeyError, IndexError):
        return template.split(" (")[0].split(" :")[0].rstrip(".") + "."


def _shown(value: Any) -> str:
    return str(value)
