"""The control rules of the cerfa, said in JSON Schema, for ERP code generators and pre-validation.

The ``Cerfa`` model keeps every field optional (relais reports every finding at once, the rules
decide what is missing); the published schema of ``fr.cfa.dossier.submitted.v1`` says what those
rules require, so that a generated client type has the mandatory fields and a validator run before
publishing catches what relais would refuse. ``annotate_cerfa`` rewrites the model's generated
``$defs`` in place:

- required fields (``rules.required``) are required and not nullable; a required text must hold a
  non-space character (the rules treat a blank text as missing);
- conditional requirements the schema can express are ``if``/``then`` (``allOf`` when several);
- coded fields (``rules.format.ENUMS``) are ``enum`` with ``x-enum-labels``, their French labels
  (``relais.domain.codes``) in the same order;
- identifiers get the pattern of the rule that refuses them (SIRET, UAI, NIR, NAF, RNCP, CFD, DECA
  number, postcode); texts their maximum length; bounded numbers their bounds;
- titles are the French field names (codes and objects), never pydantic's ``"Typecontratapp"``.

Never stricter than the rules: what the schema refuses, relais refuses too (a unit test checks it
on mutated dossiers). Warnings-only conditions (a SIRET with spaces, a lower-case UAI letter, a
missing CFD) stay valid. What JSON Schema cannot say (ages, dates compared, keys of SIRET/NIR/UAI,
amounts against referentials) stays with the rules, listed in ``schemas/conformance.md``.
"""

from __future__ import annotations

import copy
from typing import Any

from relais.domain.codes import CODE_LABELS, TYPE_FICHIER_LABELS
from relais.domain.file_locations import DEFAULT_INLINE_BYTES, MAX_INLINE_BYTES
from relais.domain.rules.contract import AVENANTS, PREVIOUS_REQUIRED
from relais.domain.rules.format import LENGTH_IN_FORMAT, MAX_LENGTHS
from relais.domain.rules.labels import cap, label
from relais.domain.rules.required import (
    REMUNERATION_FIELDS,
    REQUIRED_FIELDS,
    REQUIRED_SECTIONS,
)
from relais.domain.rules.text import DEFAULT_TEXT_MAX, FORMATTED_LEAVES

Schema = dict[str, Any]

DEF_PATHS: dict[str, str] = {
    "Cerfa": "",
    "Employeur": "employeur",
    "Apprenti": "apprenti",
    "ResponsableLegal": "apprenti.responsableLegal",
    "Maitre1": "maitre1",
    "Maitre2": "maitre2",
    "Formation": "formation",
    "Contrat": "contrat",
    "RemunerationAnnuelle": "contrat.remunerationsAnnuelles",
    "OrganismeFormation": "organismeFormation",
    "LieuFormationPrincipal": "organismeFormationLieuFormationPrincipal",
    "Adresse": "adresse",
}
"""Each object of the cerfa and the path its rules use (``Adresse``: every address)."""

_SPLITS = {
    # model name -> {new definition: (property of the cerfa, title)}
    "Maitre": {
        "Maitre1": ("maitre1", "Maître d'apprentissage"),
        "Maitre2": ("maitre2", "Second maître d'apprentissage"),
    },
    "OrganismeFormation": {
        "OrganismeFormation": ("organismeFormation", "CFA responsable"),
        "LieuFormationPrincipal": (
            "organismeFormationLieuFormationPrincipal",
            "Lieu de formation principal",
        ),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    **{DEF: REQUIRED_FIELDS.get(path, ()) for DEF, path in DEF_PATHS.items()},
    "Cerfa": REQUIRED_SECTIONS,
    "ResponsableLegal": ("nom", "prenom"),
    "RemunerationAnnuelle": REMUNERATION_FIELDS,
    "Adresse": ("codePostal", "commune"),
    "Formation": (*REQUIRED_FIELDS["formation"], "rncp"),
}

NON_BLANK = r"\S"
_SIRET = r" *(?:[0-9] *){14}"
_UAI = r"\s*[0-9]{7}[A-Za-z]\s*"
_NIR = r" *(?:[0-9] *){5}(?:(?:[0-9] *){2}|2 *[ABab] *)(?:[0-9] *){6}(?:(?:[0-9] *){2})?"
_DECA = (
    r"\s*(?:0[0-9][0-9]|02[ABab]|9[012345]|97[12346])"
    r"[0-9]{4}[0-1][0-9](?:NC|nc|[0-9]{2})[0-9]{4}\s*"
)
PATTERNS: dict[str, str] = {
    "employeur.siret": _SIRET,
    "organismeFormation.siret": _SIRET,
    "organismeFormationLieuFormationPrincipal.siret": _SIRET,
    "organismeFormation.uaiCfa": _UAI,
    "organismeFormationLieuFormationPrincipal.uaiCfa": _UAI,
    "apprenti.nir": _NIR,
    "apprenti.departementNaissance": r"\s*(?:[0-9]{1,3}|0?2[AB])\s*",
    "employeur.naf": r"\s*[0-9]{2}\.?[0-9]{2}[A-Za-z]\s*",
    "formation.rncp": r"\s*(?:RNCP)?[0-9]{2,5}\s*",
    "formation.codeDiplome": r"\s*[A-Z0-9]{8}\s*",
    "contrat.noContrat": _DECA,
    "contrat.numeroContratPrecedent": _DECA,
    "contrat.remunerationsAnnuelles.ordre": r"\s*[1-4]\.[12]\s*",
    "adresse.codePostal": r"\s*[0-9]{5}\s*",
}
"""Unanchored: a blank text is allowed beside them where the field is optional (no rule runs)."""

BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "contrat.dureeTravailHebdoHeures": (0, 40),
    "contrat.dureeTravailHebdoMinutes": (0, 59),
    "contrat.salaireEmbauche": (0, None),
    "contrat.avantageNourriture": (0, 10000),
    "contrat.avantageLogement": (0, 10000),
    "contrat.smc": (0, None),
    "contrat.remunerationsAnnuelles.taux": (0, 1000),
}

EXTRA_MAX = {"adresse.label": 50}
"""Lengths refused by other rules than ``rules.text`` (``rules.format.adresse``)."""

EXTRA_CODES: dict[str, dict[object, str]] = {
    "contrat.remunerationsAnnuelles.typeSalaire": {
        "SMIC": "Salaire minimum de croissance",
        "SMC": "Salaire minimum conventionnel",
    },
}


def annotate_cerfa(doc: Schema) -> None:
    """Rewrite the cerfa ``$defs`` of ``doc`` (a schema holding ``$defs.Cerfa``) in place."""
    defs: Schema = doc["$defs"]
    _split(defs)
    for name, path in DEF_PATHS.items():
        _annotate_object(defs[name], path, REQUIRED[name])
    _conditionals(defs)


FOLLOWUP_REQUIRED: dict[str, tuple[str, ...]] = {
    "Convention": ("couts", "dateSignature"),
    "Couts": ("coutTotalPedagogieCFA",),
    "Certificat": ("typeCertificat", "dateSignature", "echeance"),
    "EcheanceCertifiee": ("numero",),
}
"""What ``rules.followups`` requires of a convention and a certificat (their bodies stay plain
objects at decode time, like the cerfa)."""


def annotate_followups(doc: Schema) -> None:
    """Required fields of the follow-up bodies documented in ``doc`` (those it holds)."""
    for name, required in FOLLOWUP_REQUIRED.items():
        obj = doc.get("$defs", {}).get(name)
        if obj is None:
            continue
        for field in required:
            obj["properties"][field] = _non_null(obj["properties"][field])
        obj["required"] = sorted(set(required) | set(obj.get("required", ())))


LOCATION_PATTERN = r"^(?:s3://|file:///|/|data:(?:application/pdf|image/jpeg|image/png);base64,)"
"""The beginnings ``file_locations.parse_location`` accepts (the rest it checks further)."""

LOCATION_DESCRIPTION = (
    "Where the file is (a claim check: never the file in the record unless small and inline). "
    "One of: `s3://<bucket>/<key>` (an object of the network's S3-compatible store, under the "
    "CFA's granted bucket and prefix); `file:///<absolute path>` or `/<absolute path>` (a file "
    "under the CFA's local directory); `data:<application/pdf|image/jpeg|image/png>;base64,"
    f"<content>` (inline, at most {DEFAULT_INLINE_BYTES} bytes by default, configurable up to "
    f"{MAX_INLINE_BYTES}; where the CFA's grants allow inline files). No `http(s)://` nor any "
    "other scheme, no `.` or `..` segment, no `%`, `?`, `#`, backslash or control character: "
    "refused with FILE_LOCATION_FORBIDDEN or FILE_LOCATION_INVALID."
)


def annotate_files(doc: Schema) -> None:
    """The file reference and the document's ``typeFichier`` of ``doc`` (those it holds): the
    location's allowed forms, the French labels of the file types."""
    defs = doc.get("$defs", {})
    reference = defs.get("FileReference")
    if reference is not None:
        location = reference["properties"]["location"]
        location["pattern"] = LOCATION_PATTERN
        location["description"] = LOCATION_DESCRIPTION
    document = defs.get("DocumentSubmittedData")
    if document is not None:
        prop = document["properties"]["typeFichier"]
        if prop["enum"] != list(TYPE_FICHIER_LABELS):
            raise ValueError("typeFichier and codes.TYPE_FICHIER_LABELS list other types")
        prop["x-enum-labels"] = list(TYPE_FICHIER_LABELS.values())
        prop["title"] = "Type de fichier"


def _non_null(prop: Schema) -> Schema:
    branches = prop.get("anyOf", [])
    non_null = [b for b in branches if b.get("type") != "null"]
    if len(branches) != 2 or len(non_null) != 1:
        return prop
    value = {**non_null[0], **{k: v for k, v in prop.items() if k in ("description", "title")}}
    if value.get("type") == "string" and "pattern" not in value:
        value["pattern"] = NON_BLANK
    return value


def _split(defs: Schema) -> None:
    """One definition per role where the rules differ (maitre1 vs maitre2, CFA vs site)."""
    cerfa_props = defs["Cerfa"]["properties"]
    for model, roles in _SPLITS.items():
        base = defs.pop(model)
        for new_name, (prop, title) in roles.items():
            clone = copy.deepcopy(base)
            clone["title"] = new_name
            clone["description"] = f"{title}. {base.get('description', '')}".strip()
            defs[new_name] = clone
            cerfa_props[prop] = _replace_ref(cerfa_props[prop], model, new_name)


def _replace_ref(schema: Any, old: str, new: str) -> Any:
    if isinstance(schema, dict):
        return {
            k: (
                f"#/$defs/{new}"
                if k == "$ref" and v == f"#/$defs/{old}"
                else _replace_ref(v, old, new)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_replace_ref(v, old, new) for v in schema]
    return schema


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _annotate_object(obj: Schema, path: str, required: tuple[str, ...]) -> None:
    props: Schema = obj["properties"]
    for name, prop in list(props.items()):
        props[name] = _annotate_property(name, prop, _join(path, name), name in required)
    if required:
        obj["required"] = sorted(set(required) | set(obj.get("required", ())))


def _annotate_property(name: str, prop: Schema, path: str, required: bool) -> Schema:
    branches = prop.get("anyOf", [])
    non_null = [b for b in branches if b.get("type") != "null"]
    value: Schema = dict(non_null[0]) if len(branches) == 2 and len(non_null) == 1 else dict(prop)
    meta: Schema = {}
    description = prop.get("description") or value.get("description")
    if description:
        meta["description"] = description
    for key in ("anyOf", "default", "title", "description"):
        value.pop(key, None)
    codes = CODE_LABELS.get(path) or EXTRA_CODES.get(path)
    if codes is not None:
        value = _enum(value, codes)
        meta["title"] = cap(label(name))
    pattern = PATTERNS.get(path)
    if pattern is not None:
        value["pattern"] = f"^(?:{pattern})$" if required else f"^(?:\\s*|{pattern})$"
    elif value.get("type") == "string" and "pattern" not in value and "enum" not in value:
        if required:
            value["pattern"] = NON_BLANK
        if path.rsplit(".", 1)[-1] not in FORMATTED_LEAVES and path not in LENGTH_IN_FORMAT:
            value["maxLength"] = MAX_LENGTHS.get(path, EXTRA_MAX.get(path, DEFAULT_TEXT_MAX))
    if required and value.get("type") == "array":
        value["minItems"] = 1
    low, high = BOUNDS.get(path, (None, None))
    if low is not None:
        value["minimum"] = low
    if high is not None:
        value["maximum"] = high
    schema = value if required else {"anyOf": [value, {"type": "null"}]}
    return {**schema, **meta}


def _enum(value: Schema, codes: dict[object, str]) -> Schema:
    kind = "string" if all(isinstance(code, str) for code in codes) else "integer"
    return {"type": kind, "enum": list(codes), "x-enum-labels": list(codes.values())}


def _required_if(condition: Schema, then_required: list[str], then_props: Schema) -> Schema:
    then = {"type": "object", "required": then_required, "properties": then_props}
    return {"if": condition, "then": then}


def _conditionals(defs: Schema) -> None:
    _contrat_conditions(defs["Contrat"])
    _other_conditions(defs)


def _contrat_conditions(contrat: Schema) -> None:
    def type_in(codes: frozenset[int]) -> Schema:
        return {
            "type": "object",
            "properties": {"typeContratApp": {"enum": sorted(codes)}},
            "required": ["typeContratApp"],
        }

    contrat["allOf"] = [
        _required_if(
            type_in(PREVIOUS_REQUIRED),
            ["numeroContratPrecedent"],
            {"numeroContratPrecedent": {"type": "string", "pattern": f"^(?:{_DECA})$"}},
        ),
        _required_if(
            type_in(AVENANTS), ["dateEffetAvenant"], {"dateEffetAvenant": {"type": "string"}}
        ),
        {  # WEDOF's spelling dateFormationPratiqueEmployeur stands for it
            "if": {"type": "object", "required": ["dateFormationPratiqueEmployeur"]},
            "else": {
                "type": "object",
                "required": ["dateDebutFormationPratique"],
                "properties": {"dateDebutFormationPratique": {"type": "string"}},
            },
        },
    ]


def _other_conditions(defs: Schema) -> None:
    defs["Apprenti"]["if"] = {
        "type": "object",
        "properties": {"departementNaissance": {"type": "string", "pattern": r"^\s*0?99\s*$"}},
        "required": ["departementNaissance"],
    }
    defs["Apprenti"]["else"] = {
        "type": "object",
        "required": ["nir"],
        "properties": {"nir": {"type": "string", "pattern": NON_BLANK}},
    }
    defs["Cerfa"]["if"] = {
        "type": "object",
        "properties": {
            "organismeFormation": {
                "type": "object",
                "properties": {"lieuFormationIdentique": {"const": False}},
                "required": ["lieuFormationIdentique"],
            }
        },
        "required": ["organismeFormation"],
    }
    defs["Cerfa"]["then"] = {
        "type": "object",
        "required": ["organismeFormationLieuFormationPrincipal"],
        "properties": {"organismeFormationLieuFormationPrincipal": {"type": "object"}},
    }
    street = [
        {
            "type": "object",
            "properties": {name: {"type": "string", "pattern": NON_BLANK}},
            "required": [name],
        }
        for name in ("voie", "adresse1", "label")
    ]
    defs["Adresse"]["if"] = {"type": "object", "not": {"anyOf": street}}
    defs["Adresse"]["then"] = False
