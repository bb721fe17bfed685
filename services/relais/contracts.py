"""Generated contract documents under ``schemas/``: written by ``relais schemas write``, compared by
``relais schemas check`` (and by a unit test), so they never drift from the code.

A *source* is a function returning ``{path relative to schemas/: document}``. This module holds the
event JSON Schemas (``event_schema_documents``); other documents plug in by adding one entry to
``SOURCES`` with the dotted path of their function (imported only when used), e.g. the AsyncAPI
document of the pipeline or the OpenAPI document of the simulator::

    Source("asyncapi", "relais.asyncapi:asyncapi_documents")

A source that owns a whole folder (``owns``) also gets stale files there reported by ``check``.
A document is a dict (written as JSON: sorted keys, two-space indent, UTF-8, trailing newline) or
an already rendered ``str`` (e.g. YAML), written as is with a trailing newline.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from relais.domain.cerfa import Cerfa
from relais.domain.events import (
    STRUCTURED_MODELS,
    CertificatSubmittedData,
    ConventionSubmittedData,
    DossierSubmittedData,
    Envelope,
    EventType,
)
from relais.domain.followups import Certificat, Convention
from relais.domain.json_types import Json
from relais.domain.referentials import default_schemas_dir
from relais.domain.schema_hints import annotate_cerfa, annotate_files, annotate_followups
from relais.domain.status import StatusBody, StatusName
from relais.domain.status_reasons import StatusReason

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EVENTS_DIR = "events"

DocumentSource = Callable[[], Mapping[str, Json | str]]


@dataclass(frozen=True)
class Source:
    name: str
    target: str  # "package.module:function" returning {relative path: document}
    owns: str | None = None  # a folder under schemas/ whose every file this source generates

    def documents(self) -> Mapping[str, Json | str]:
        module_name, _, attr = self.target.partition(":")
        func: DocumentSource = getattr(importlib.import_module(module_name), attr)
        return func()


SOURCES: tuple[Source, ...] = (
    Source("events", "relais.contracts:event_schema_documents", owns=EVENTS_DIR),
    Source("asyncapi", "relais.adapters.kafka.asyncapi:asyncapi_documents"),
    Source("openapi", "relais_simulator.openapi:openapi_documents"),
    Source("conformance", "relais.conformance_doc:conformance_documents"),
    Source(
        "status-examples", "relais.status_examples:status_example_documents", owns="examples/status"
    ),
)


# --------------------------------------------------------------------------------------------
# Event schemas
# --------------------------------------------------------------------------------------------

# Payload objects that stay plain JSON objects at decode time (the control rules of
# ``relais.domain.validation`` check them, reporting every finding at once) but are documented
# with the standard's model.
_DOCUMENTED_AS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (DossierSubmittedData, "cerfa"): Cerfa,
    (ConventionSubmittedData, "convention"): Convention,
    (CertificatSubmittedData, "certificat"): Certificat,
}

_HEADERS_NOTE = (
    "On Kafka, by the CloudEvents Kafka binding: in binary mode the attributes travel as headers "
    "ce_<attribute>, the data's media type as content-type (application/json) and the record "
    "value is `data` alone; in structured mode (content-type application/cloudevents+json) the "
    "value is this whole document; the Kafka key is `subject` (the CFA's dossier id)."
)


def _schema(model: type[BaseModel], mode: JsonSchemaMode = "validation") -> Json:
    return model.model_json_schema(mode=mode, ref_template="#/$defs/{model}")


def _merge_defs(target: Json, defs: Mapping[str, Any]) -> None:
    mine = target.setdefault("$defs", {})
    for name, schema in defs.items():
        if name in mine and mine[name] != schema:
            raise ValueError(f"two different schemas named {name!r} in one document")
        mine[name] = schema


def _document_payloads(doc: Json) -> None:
    """Replace the free-form payload objects by ``$ref``s to the standard's models."""
    for (holder, field_name), model in _DOCUMENTED_AS.items():
        holder_schema = doc.get("$defs", {}).get(holder.__name__)
        if holder_schema is None:
            continue
        prop = holder_schema["properties"][field_name]
        model_schema = _schema(model)
        _merge_defs(doc, model_schema.pop("$defs", {}))
        _merge_defs(doc, {model.__name__: model_schema})
        holder_schema["properties"][field_name] = {
            "$ref": f"#/$defs/{model.__name__}",
            "description": prop.get("description", ""),
        }


def _drop_generated_titles(schema: Any) -> None:
    """Pydantic titles every property after its name (``"Typecontratapp"``): noise that code
    generators turn into type names. Titles given on purpose (codes, models) stay."""
    if isinstance(schema, list):
        for item in schema:
            _drop_generated_titles(item)
        return
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("title") == name.title().replace("_", " "):
            del prop["title"]
    for value in schema.values():
        _drop_generated_titles(value)


def _with_header(doc: Json, file_name: str, title: str, description: str) -> Json:
    _drop_generated_titles(doc)
    doc["$schema"] = JSON_SCHEMA_DIALECT
    doc["$id"] = file_name  # relative: resolves to the file itself, wherever schemas/ lies
    doc["title"] = title
    doc["description"] = description
    return doc


def event_schema_documents() -> dict[str, Json | str]:
    """One JSON Schema per CFA event type (structured form), the envelope and the status body."""
    docs: dict[str, Json | str] = {}
    for event_type in EventType:
        model = STRUCTURED_MODELS[event_type]
        doc = _schema(model)
        _document_payloads(doc)
        if "Cerfa" in doc.get("$defs", {}):
            annotate_cerfa(doc)
        annotate_followups(doc)
        annotate_files(doc)
        file_name = f"{event_type.value}.json"
        docs[f"{EVENTS_DIR}/{file_name}"] = _with_header(
            doc,
            file_name,
            event_type.value,
            f"CFA event {event_type.value} in CloudEvents structured form. {_HEADERS_NOTE}",
        )
    envelope = _schema(Envelope)
    docs[f"{EVENTS_DIR}/envelope.v1.json"] = _with_header(
        envelope,
        "envelope.v1.json",
        "CFA event envelope v1",
        f"CloudEvents 1.0 context attributes of every CFA event. {_HEADERS_NOTE}",
    )
    status = _schema(StatusBody, mode="serialization")
    status["$defs"]["StatusReason"].update(
        description="Why a status is what it is (relais.domain.status_reasons); "
        "x-enum-descriptions describes each code in French",
        **{"x-enum-descriptions": {reason.value: reason.description for reason in StatusReason}},
    )
    types = ", ".join(name.event_type for name in StatusName)
    docs[f"{EVENTS_DIR}/status.v1.json"] = _with_header(
        status,
        "status.v1.json",
        "relais status event v1",
        "Value of a relais status event (null fields are left out). Headers: ce_specversion, "
        f"ce_id, ce_type (one of {types}), ce_source=relais, ce_subject (the CFA's dossier id "
        "= Kafka key), ce_time, content-type and ce_datacontenttype (application/json), "
        "ce_correlationid (triggering CFA event id), ce_cfa, ce_opco; in structured mode "
        "(setting kafka.status_content_mode) the whole event is the value. Never carries "
        "personal data.",
    )
    docs[f"{EVENTS_DIR}/README.md"] = _events_readme()
    return docs


def _events_readme() -> str:
    from relais.domain.events import DATA_MODELS

    lines = [
        "# Event contracts v1 (generated by `relais schemas write`: do not edit)",
        "",
        "CFA -> relais: a Kafka record per event. Key = the CFA's own dossier id (= `ce_subject`);",
        "headers = CloudEvents 1.0 attributes `ce_specversion` (1.0), `ce_id`, `ce_type`,",
        "`ce_source` (the CFA's SIRET, `urn:siret:<14 digits>` or plain; a configured UAI is",
        "mapped), `ce_subject`, `ce_time` (RFC 3339 with offset), `content-type`",
        "(application/json; `ce_datacontenttype` is still read) and `ce_signature` (hex HMAC);",
        "value = the JSON `data` below (CloudEvents Kafka binding, binary mode). Structured mode",
        "is accepted too: `content-type: application/cloudevents+json` and the whole event",
        "`{specversion, id, type, source, subject, time, data}` as the value, the form of a file",
        "(`relais validate`, `relais send`, `schemas/examples/`). Another data media type is",
        "refused (`ENVELOPE_UNSUPPORTED_CONTENT_TYPE`). With a schema registry configured, a",
        "value may be framed by a Confluent-compatible serializer (`relais schemas register`).",
        "",
        "| type | schema | data |",
        "|---|---|---|",
    ]
    for event_type in EventType:
        doc = (DATA_MODELS[event_type].__doc__ or "").strip().splitlines()[0]
        lines.append(f"| `{event_type.value}` | `{event_type.value}.json` | {doc} |")
    lines += [
        "",
        *_ENVELOPE_AND_FILES,
        "The schemas are made for code generation and for validating an event before it is",
        "published (JSON Schema 2020-12; each `$id` is the file name, so `$ref`s resolve beside",
        "it): a field the control rules require is required and not nullable, conditional",
        "requirements are `if`/`then`, coded fields are `enum`s whose French labels are in",
        "`x-enum-labels` (same order), identifiers carry the pattern the rules check. What the",
        "schema refuses, relais refuses too; relais checks more (keys of SIRET, NIR and UAI,",
        "ages, dates against each other, amounts against the referentials: `../conformance.md`).",
        "ajv, json-schema-to-typescript and quicktype (Java) are run on them by the test suite;",
        "`docs/erp-integration.md` shows a whole integration.",
        "",
        "relais -> CFA: status events, value = `status.v1.json`, key = the CFA's dossier id,",
        "headers `ce_id` (stable: a redelivery repeats it), `ce_type`, `ce_source` = relais,",
        "`ce_subject`, `ce_time`, `content-type` (application/json), `ce_correlationid` (the",
        "triggering CFA event id), `ce_cfa`, `ce_opco` (binary mode; structured mode by setting).",
        "Types (terminal ones marked *):",
        "",
    ]
    for name in StatusName:
        mark = " *" if name.terminal else ""
        lines.append(f"- `{name.event_type}`{mark}")
    lines += [
        "",
        "A `rejected` status comes from ingest (the event's envelope, schema, control rules or",
        "routing), or after `received` from dispatch, before any OPCO call: the money checks",
        "(`CONVENTION_COUT_SUPERIEUR_NPEC`; `FACTURE_MONTANT_SUPERIEUR_RESTANT`,",
        "`FACTURE_ECHEANCE_INCONNUE`, `FACTURE_ECHEANCE_NON_OUVERTE`,",
        "`FACTURE_ECHEANCE_HORS_CONTRAT`, `FACTURE_DATE_HORS_CONTRAT`; their warnings beside",
        "them), see `../conformance.md`.",
        "",
        "Status events never carry personal data (names, NIR, birth dates, IBAN).",
        "",
        *_STATUS_CONTRACT,
    ]
    for reason in StatusReason:
        lines.append(f"| `{reason.value}` | {reason.status} | {reason.description} |")
    return "\n".join(lines) + "\n"


_ENVELOPE_AND_FILES = [
    "`envelope.v1.json`: the attributes alone (what the headers carry).",
    "",
    "Files (a signed convention, an invoice PDF, a further document) travel by reference, a",
    "claim check: `fichier` = `{location, sha256, size, mediaType, fileName}`, `location` an",
    "`s3://bucket/key` under the CFA's granted prefix, a path in its local directory, or a",
    "small file inline (`data:...;base64,`). Ingest refuses a malformed or forbidden location",
    "or a size over the limit (`FILE_LOCATION_INVALID`, `FILE_LOCATION_FORBIDDEN`,",
    "`FILE_TOO_LARGE`, `FILE_TYPE_UNSUPPORTED`); dispatch reads the file with the CFA's grants",
    "only and refuses one that differs (`FILE_HASH_MISMATCH`, `FILE_NOT_FOUND`). Statuses name",
    "a file by its name, never carry it; `docs/erp-integration.md` (Files) shows how.",
    "",
]


_STATUS_CONTRACT = [
    "Every key of a status is the CFA's dossier id (`ce_subject`), a facture's `etat_changed`",
    "included (the dossier of the event that submitted it; `dossierId` names it too). Examples",
    "of every kind: `../examples/status/`.",
    "",
    "The OPCO's own words: `opcoErrors` lists its errors as `{code, message, field}` (each when",
    "given; at most 20, each text at most 300 characters), `opcoMessages` the same as lines of",
    "text; an `etat_changed` carries the OPCO's comment on the new etat in `motif` (the reason",
    "of a `REFUSE` when the OPCO gives one). A `submitted` whose object the OPCO already had (a",
    "409, or a lookup after a lost answer) has `reason` `already_at_opco`; if that OPCO dossier",
    "is already the one of another dossier of the same CFA, a warning",
    "`DOSSIER_NUMERO_INTERNE_PARTAGE` in `errors` names it.",
    "",
    "Resend: an event is identified by (CFA, `ce_id`). Sent again, it is not processed again:",
    "relais answers it with the latest status it already has (the terminal one once there is",
    "one; `etat_changed` aside), published again under the SAME `ce_id`. It is a duplicate",
    "delivery, not a second status: drop a status whose `ce_id` you have already seen.",
    "",
    "`reason` is one of (generated from `relais.domain.status_reasons.StatusReason`):",
    "",
    "| reason | status | description |",
    "|---|---|---|",
]


# --------------------------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------------------------


def render(document: Json | str) -> str:
    if isinstance(document, str):
        return document if document.endswith("\n") else document + "\n"
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(sources: Iterable[Source] = SOURCES) -> dict[str, str]:
    """Every generated file: {path relative to schemas/: text}."""
    out: dict[str, str] = {}
    for source in sources:
        for rel, doc in source.documents().items():
            if rel in out:
                raise ValueError(f"{rel} is generated by two sources")
            out[rel] = render(doc)
    return out


@dataclass(frozen=True)
class Drift:
    path: str
    problem: str  # "missing", "differs", "stale"


def check(schemas_dir: Path | None = None, sources: Iterable[Source] = SOURCES) -> list[Drift]:
    """Differences between the committed files and what the code generates (empty = in sync)."""
    root = schemas_dir or default_schemas_dir()
    sources = tuple(sources)
    expected = generate(sources)
    drifts: list[Drift] = []
    for rel, text in sorted(expected.items()):
        path = root / rel
        if not path.exists():
            drifts.append(Drift(rel, "missing"))
        elif path.read_text(encoding="utf-8") != text:
            drifts.append(Drift(rel, "differs"))
    for source in sources:
        if source.owns is None:
            continue
        folder = root / source.owns
        for path in sorted(folder.rglob("*")) if folder.exists() else ():
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel not in expected:
                drifts.append(Drift(rel, "stale"))
    return drifts


def write(schemas_dir: Path | None = None, sources: Iterable[Source] = SOURCES) -> list[str]:
    """Write every generated file and delete stale ones in owned folders; returns what changed."""
    root = schemas_dir or default_schemas_dir()
    sources = tuple(sources)
    changed: list[str] = []
    expected = generate(sources)
    for drift in check(root, sources):
        path = root / drift.path
        if drift.problem == "stale":
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[drift.path], encoding="utf-8")
        changed.append(f"{drift.problem}: {drift.path}")
    return changed
