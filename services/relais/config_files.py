"""The ``files`` settings group (``RELAIS_FILES__*``): where relais may read the files events name
(issue 18), per CFA, and how it reaches the S3-compatible store.

    RELAIS_FILES__LOCAL_BASE=/var/lib/relais/files   # each CFA reads <base>/<SIRET>/ (embedded)
    RELAIS_FILES__CFAS='{"19350000000011": {"inline": true,
        "s3": [{"bucket": "cfa-docs", "prefix": "19350000000011/"}]}}'
    RELAIS_FILES__S3__ENDPOINT_URL=https://minio.federation.example:9000
    RELAIS_FILES__S3__ACCESS_KEY_ID / RELAIS_FILES__S3__SECRET_ACCESS_KEY (or the secrets directory)

Nothing is readable by default. The grants are checked when the settings load (two CFAs sharing a
prefix or a root is a configuration error) and again before any read (``FilePolicy.authorize``).
Read by ``relais.config`` (the only reader of the environment); kept apart to keep it a size a
reader can hold.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from relais.domain.file_checks import DEFAULT_MAX_BYTES, FileLimits
from relais.domain.file_locations import DEFAULT_INLINE_BYTES, MAX_INLINE_BYTES
from relais.domain.file_policy import CfaFileAccess, FilePolicy
from relais.domain.files import MAX_FILE_BYTES


class S3Settings(BaseModel):
    """The S3-compatible store the grants' buckets live in (the network's MinIO, Ceph, a cloud)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_url: str | None = Field(
        default=None,
        description="S3-compatible endpoint, path-style (https://minio.example:9000); unset: AWS",
    )
    region: str = Field(
        default="us-east-1", min_length=1, max_length=64, description="The store's region"
    )
    access_key_id: SecretStr | None = Field(
        default=None, description="Unset: the usual AWS_* variables or the instance's role."
    )
    secret_access_key: SecretStr | None = None
    allow_http: bool = Field(default=False, description="Plain http:// endpoints (loopback only)")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per request")
    max_retries: int = Field(default=3, ge=0, le=10, description="Inside the client, with backoff")


class FilesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    local_base: str | None = Field(
        default=None,
        description="Embedded default store: an absolute directory in which each CFA reads only "
        "<local_base>/<SIRET>/",
    )
    cfas: dict[str, CfaFileAccess] = Field(
        default_factory=dict,
        description='JSON map CFA SIRET -> {"s3": [{"bucket", "prefix"}], "local_root", '
        '"inline"}: what that CFA may read (nothing else: no other bucket, prefix or URL)',
    )
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1, le=MAX_FILE_BYTES, description="Largest file sent"
    )
    max_inline_bytes: int = Field(
        default=DEFAULT_INLINE_BYTES,
        ge=0,
        le=MAX_INLINE_BYTES,
        description="Largest inline (data: base64) file, for CFAs granted inline",
    )
    s3: S3Settings = Field(default_factory=S3Settings)

    @model_validator(mode="after")
    def _valid_policy(self) -> FilesSettings:
        self.policy()  # raises ValueError (pydantic reports it against the group)
        return self

    def policy(self) -> FilePolicy:
        return FilePolicy(
            cfas=self.cfas,
            local_base=self.local_base,
            limits=FileLimits(max_bytes=self.max_bytes, max_inline_bytes=self.max_inline_bytes),
        )

    @property
    def uses_s3(self) -> bool:
        return any(access.s3 for access in self.cfas.values())
