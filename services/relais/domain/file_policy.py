"""Which stores each CFA may read: the per-CFA file policy, checked before any I/O.

A CFA reads only what is granted to it: S3 objects under its own (bucket, prefix) grants, files
under its own local root, and inline files where allowed. Nothing else: no other bucket, no other
CFA's prefix (two CFAs whose grants overlap are a configuration error, so a location one CFA may
read is never readable by another), no URL. The policy is data (the settings group ``files``:
``RELAIS_FILES__CFAS``, ``RELAIS_FILES__LOCAL_BASE``), keyed by the CFA's SIRET as the ledger keys
it.

``local_base`` is the embedded default: one directory in which each CFA reads only its own
subdirectory ``<local_base>/<SIRET>/`` (unless its entry names another ``local_root``); disjoint by
construction.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relais.domain.file_checks import FileLimits, check_reference
from relais.domain.file_locations import (
    InlineLocation,
    LocalLocation,
    Location,
    S3Location,
    parse_location,
)
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.errors import ConfigurationError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SIRET = re.compile(r"[0-9]{14}")


class S3Grant(BaseModel):
    """One bucket and the key prefix under which a CFA's objects are (``cfa-a/`` or ``""``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str = Field(pattern=_BUCKET.pattern)
    prefix: str = Field(default="", max_length=512)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and (not value.endswith("/") or value.startswith("/") or ".." in value):
            raise ValueError("a prefix is empty or ends with '/' (no leading '/', no '..')")
        return value

    def covers(self, location: S3Location) -> bool:
        return location.bucket == self.bucket and location.key.startswith(self.prefix)

    def overlaps(self, other: S3Grant) -> bool:
        return self.bucket == other.bucket and (
            self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix)
        )


class CfaFileAccess(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    s3: tuple[S3Grant, ...] = ()
    local_root: str | None = Field(default=None, description="An absolute directory")
    inline: bool = False

    @field_validator("local_root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or ".." in value.split("/")):
            raise ValueError("local_root is an absolute directory without '..'")
        return value

    @property
    def root(self) -> PurePosixPath | None:
        return PurePosixPath(self.local_root) if self.local_root else None


class FilePolicy(BaseModel):
    """The grants of every CFA and the file limits; ``authorize`` is the one gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cfas: dict[str, CfaFileAccess] = Field(default_factory=dict)
    limits: FileLimits = FileLimits()
    local_base: str | None = Field(
        default=None, description="An absolute directory: each CFA reads <local_base>/<SIRET>/"
    )

    @field_validator("local_base")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or ".." in value.split("/")):
            raise ValueError("local_base is an absolute directory without '..'")
        return value

    @model_validator(mode="after")
    def _no_shared_grant(self) -> FilePolicy:
        seen: list[tuple[str, CfaFileAccess]] = []
        for cfa, access in self.cfas.items():
            for other_cfa, other in seen:
                if _shared(access, other):
                    raise ValueError(f"CFA {cfa} and CFA {other_cfa} share a bucket prefix or root")
            seen.append((cfa, access))
            base = self.base
            root = access.root
            if base is not None and root is not None and _nested(root, base):
                raise ValueError(f"CFA {cfa}'s local_root and local_base overlap")
        return self

    @property
    def base(self) -> PurePosixPath | None:
        return PurePosixPath(self.local_base) if self.local_base else None

    def root_of(self, cfa: str) -> PurePosixPath | None:
        """The local directory ``cfa`` reads: its own ``local_root``, else its subdirectory of
        ``local_base`` (only for a CFA named by a SIRET: a safe path component)."""
        access = self.cfas.get(cfa)
        if access is not None and access.root is not None:
            return access.root
        base = self.base
        if base is None or not _SIRET.fullmatch(cfa):
            return None
        return base / cfa

    def authorize(self, cfa: str, ref: FileReference) -> Location:
        """The location of ``ref`` if ``cfa`` may read it and the reference is within the limits;
        raises ``FileRefusedError`` otherwise. No I/O."""
        location = parse_location(ref.location, max_inline_bytes=self.limits.max_inline_bytes)
        check_reference(ref, self.limits)
        access = self.cfas.get(cfa, CfaFileAccess())
        if not _granted(access, location, self.root_of(cfa)):
            raise FileRefusedError(
                FileCode.LOCATION_FORBIDDEN,
                f"{ref.fileName} : cette localisation {location.scheme} n'est pas autorisée "
                "pour ce CFA",
            )
        return location


def _granted(access: CfaFileAccess, location: Location, root: PurePosixPath | None) -> bool:
    if isinstance(location, S3Location):
        return any(grant.covers(location) for grant in access.s3)
    if isinstance(location, LocalLocation):
        return root is not None and location.path.is_relative_to(root) and location.path != root
    assert isinstance(location, InlineLocation)
    return access.inline


def _shared(one: CfaFileAccess, other: CfaFileAccess) -> bool:
    if any(a.overlaps(b) for a in one.s3 for b in other.s3):
        return True
    if one.root is None or other.root is None:
        return False
    return _nested(one.root, other.root)


def _nested(one: PurePosixPath, other: PurePosixPath) -> bool:
    return one.is_relative_to(other) or other.is_relative_to(one)


def policy_from(data: object) -> FilePolicy:
    """The policy from its settings form; a bad one is a ``ConfigurationError``."""
    try:
        return FilePolicy.model_validate(data)
    except ValueError as exc:
        raise ConfigurationError(f"files policy: {exc}") from None
