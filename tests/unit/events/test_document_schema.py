"""The published schema of ``fr.cfa.document.submitted.v1``: its ``typeFichier`` labelled in
French, its location's allowed forms, and never stricter than relais (a location the schema
refuses, ``parse_location`` refuses too)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from relais.domain.codes import TYPE_FICHIER_LABELS
from relais.domain.document_event import TYPES_FICHIER
from relais.domain.file_locations import parse_location
from relais.domain.file_refusals import FileRefusedError

SCHEMAS = Path(__file__).parents[3] / "schemas"
SCHEMA = json.loads((SCHEMAS / "events" / "fr.cfa.document.submitted.v1.json").read_text())
EXAMPLE = json.loads((SCHEMAS / "examples" / "document.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)

LOCATIONS = [
    "s3://cfa-files/52880483402584/a.pdf",
    "file:///srv/cfa/a.pdf",
    "/srv/cfa/a.pdf",
    "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4").decode(),
    "http://cfa.example/a.pdf",
    "https://cfa.example/a.pdf",
    "S3://cfa-files/a.pdf",
    "gs://bucket/a.pdf",
    "file://host/srv/a.pdf",
    "a.pdf",
    "data:text/plain;base64,QQ==",
    "s3://cfa-files/../a.pdf",
]


def _with_location(location: str) -> dict[str, Any]:
    event = copy.deepcopy(EXAMPLE)
    event["data"]["fichier"]["location"] = location
    return event


def test_type_fichier_is_an_enum_labelled_in_french() -> None:
    prop = SCHEMA["$defs"]["DocumentSubmittedData"]["properties"]["typeFichier"]
    assert prop["enum"] == list(TYPES_FICHIER) == list(TYPE_FICHIER_LABELS)
    assert prop["x-enum-labels"] == list(TYPE_FICHIER_LABELS.values())
    assert SCHEMA["$defs"]["DocumentSubmittedData"]["required"] == ["typeFichier", "fichier"]


def test_the_example_is_valid() -> None:
    assert not list(VALIDATOR.iter_errors(EXAMPLE))


@pytest.mark.parametrize("location", LOCATIONS)
def test_a_location_the_schema_refuses_relais_refuses_too(location: str) -> None:
    refused_by_schema = bool(list(VALIDATOR.iter_errors(_with_location(location))))
    try:
        parse_location(location)
        refused_by_relais = False
    except FileRefusedError:
        refused_by_relais = True
    assert refused_by_relais or not refused_by_schema
    if location.startswith(("http", "gs:", "a.pdf", "S3:")):
        assert refused_by_schema  # the forms that are never locations, caught by the schema
