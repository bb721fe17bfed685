"""The file references an event carries, checked at ingest by their form alone (no I/O, nothing
copied): the ``location`` must be one of issue 18's grammar (``domain/file_locations``: ``s3://``,
a local path or ``file://``, an inline ``data:`` file within the inline limit; ``http://`` and any
other scheme refused), the announced size within the limit and the name's extension that of its
media type (``domain/file_checks.check_reference``). Each refusal is an error with its ``FILE_*``
code (``domain/file_refusals``) at the reference's path; messages name the file, never its bytes
nor its location.

Whether the CFA may read that bucket, prefix or root is dispatch's question (it holds the policy);
the file's bytes (hash, type by magic bytes) are checked when dispatch reads them.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from relais.domain.events import ErrorItem, EventData
from relais.domain.file_checks import FileLimits, check_reference
from relais.domain.file_locations import parse_location
from relais.domain.file_refusals import FileRefusedError
from relais.domain.files import FileReference
from relais.services.ingest.hygiene import error

_HOLDERS = ("convention", "facture")  # follow-up bodies whose object holds a ``fichier``


def file_errors(data: EventData, limits: FileLimits) -> tuple[ErrorItem, ...]:
    """One error per file reference of ``data`` that relais would refuse by its form."""
    errors: list[ErrorItem] = []
    for path, ref in references(data):
        try:
            parse_location(ref.location, max_inline_bytes=limits.max_inline_bytes)
            check_reference(ref, limits)
        except FileRefusedError as exc:
            errors.append(error(exc.file_code.value, path, str(exc)))
    return tuple(errors)


def references(data: EventData) -> Iterator[tuple[str, FileReference]]:
    """The file references of an event's data, with their paths from the event's root: its own
    ``fichier`` (a document, a convention) and its body's (a facture)."""
    own = getattr(data, "fichier", None)
    if isinstance(own, FileReference):
        yield "data.fichier", own
    for name in _HOLDERS:
        body = getattr(data, name, None)
        nested = getattr(body, "fichier", None) if isinstance(body, BaseModel) else None
        if isinstance(nested, FileReference):
            yield f"data.{name}.fichier", nested
