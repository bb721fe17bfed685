"""The location grammar of a file reference (issue 18), parsed and bounded before any I/O.

    s3://<bucket>/<key>                     an object in an S3-compatible store
    file:///<absolute path>  or  /<path>    a file in a local directory store
    data:<media type>;base64,<payload>      a small file inline (bounded: ``max_inline_bytes``)

Anything else is refused: ``http(s)://`` and every other scheme (no request to a URL the CFA
chose: no server-side request forgery), ``file://`` with a host, ``..`` or ``.`` segments, empty
segments, control characters, backslashes, ``%``/``?``/``#`` (no decoding ambiguity: a key is taken
as written), keys over S3's 1024 bytes, bucket names outside S3's rules. Whether the CFA may read
the location is the policy's question (``file_policy.py``); this module only says what it is.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from relais.domain.file_refusals import FileCode, FileRefusedError

MAX_LOCATION = 1024  # characters of an s3:// or file location
MAX_KEY_BYTES = 1024  # S3's own limit on a key
MAX_INLINE_BYTES = 512 * 1024  # the ceiling of any configured inline limit
DEFAULT_INLINE_BYTES = 256 * 1024
InlineMediaType = Literal["application/pdf", "image/jpeg", "image/png"]
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,15}):")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_DATA = re.compile(r"^data:(application/pdf|image/jpeg|image/png);base64,")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\%?#]")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def scheme(self) -> str:
        return "s3"


@dataclass(frozen=True)
class LocalLocation:
    path: PurePosixPath  # absolute, without . or .. segments

    @property
    def scheme(self) -> str:
        return "file"


@dataclass(frozen=True)
class InlineLocation:
    media_type: InlineMediaType
    data: bytes = b""

    @property
    def scheme(self) -> str:
        return "data"

    def __repr__(self) -> str:  # the bytes never reach a log line
        return f"InlineLocation(media_type={self.media_type!r}, size={len(self.data)})"


Location = S3Location | LocalLocation | InlineLocation


def parse_location(text: str, *, max_inline_bytes: int = DEFAULT_INLINE_BYTES) -> Location:
    """The location ``text`` names; raises ``FileRefusedError`` (LOCATION_INVALID, _FORBIDDEN,
    TOO_LARGE for an inline file over ``max_inline_bytes``)."""
    if text.startswith("data:"):
        return _inline(text, min(max_inline_bytes, MAX_INLINE_BYTES))
    if not text or len(text) > MAX_LOCATION:
        raise _invalid(f"une localisation de fichier fait de 1 à {MAX_LOCATION} caractères")
    if text.startswith("/"):
        return LocalLocation(_path(text))
    scheme = _SCHEME.match(text)
    name = scheme.group(1).lower() if scheme else ""
    if name == "s3" and text.startswith("s3://"):
        return _s3(text.removeprefix("s3://"))
    if name == "file" and text.startswith("file://"):
        rest = text.removeprefix("file://")
        if not rest.startswith("/"):
            raise _forbidden("file:// ne désigne qu'un fichier local (pas d'hôte)")
        return LocalLocation(_path(rest))
    shown = f"« {name}: »" if name and len(name) <= 16 else "sans schéma reconnu"
    raise _forbidden(f"localisation {shown} refusée : seuls s3://, file:// et data: sont admis")


def _s3(rest: str) -> S3Location:
    bucket, slash, key = rest.partition("/")
    if not slash or not _BUCKET.match(bucket) or ".." in bucket or _IP.match(bucket):
        raise _invalid("s3://<bucket>/<clé> : nom de bucket invalide")
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise _invalid(f"s3:// : une clé fait de 1 à {MAX_KEY_BYTES} octets")
    _segments(key)
    return S3Location(bucket, key)


def _path(text: str) -> PurePosixPath:
    if len(text) > MAX_LOCATION:
        raise _invalid("chemin trop long")
    _segments(text.removeprefix("/"))
    return PurePosixPath(text)


def _segments(text: str) -> None:
    if _BAD_CHARS.search(text):
        raise _invalid("caractère interdit dans la localisation (contrôle, \\, %, ? ou #)")
    parts = text.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise _invalid("segment vide, « . » ou « .. » interdit dans la localisation")


def _inline(text: str, max_bytes: int) -> InlineLocation:
    head = _DATA.match(text)
    if head is None:
        raise _invalid("data:<application/pdf|image/jpeg|image/png>;base64,<contenu> attendu")
    payload = text[head.end() :]
    if len(payload) > 4 * ((max_bytes + 2) // 3):  # bounded before decoding anything
        raise FileRefusedError(
            FileCode.TOO_LARGE, f"un fichier en ligne fait au plus {max_bytes} octets"
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("data: contenu base64 invalide") from None
    if not data:
        raise _invalid("data: fichier vide")
    if len(data) > max_bytes:
        raise FileRefusedError(
            FileCode.TOO_LARGE, f"un fichier en ligne fait au plus {max_bytes} octets"
        )
    media: InlineMediaType = head.group(1)  # type: ignore[assignment]
    return InlineLocation(media, data)


def _invalid(message: str) -> FileRefusedError:
    return FileRefusedError(FileCode.LOCATION_INVALID, message)


def _forbidden(message: str) -> FileRefusedError:
    return FileRefusedError(FileCode.LOCATION_FORBIDDEN, message)
