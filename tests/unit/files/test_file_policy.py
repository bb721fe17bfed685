"""The per-CFA grants: only a CFA's own bucket/prefix, root, or inline; overlaps refused."""

from __future__ import annotations

import base64
import hashlib

import pytest

from relais.domain.file_locations import InlineLocation, LocalLocation, S3Location
from relais.domain.file_policy import FilePolicy, policy_from
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.errors import ConfigurationError

CFA_A = "19350000000011"
CFA_B = "35600000000048"
PDF = b"%PDF-1.7\nbody"

POLICY = policy_from(
    {
        "cfas": {
            CFA_A: {
                "s3": [{"bucket": "network-docs", "prefix": "cfa-a/"}],
                "local_root": "/srv/files/cfa-a",
                "inline": True,
            },
            CFA_B: {"s3": [{"bucket": "network-docs", "prefix": "cfa-b/"}]},
        },
        "limits": {"max_bytes": 1000, "max_inline_bytes": 100},
    }
)


def ref(location: str, size: int = len(PDF), name: str = "c.pdf") -> FileReference:
    return FileReference.model_validate(
        {
            "location": location,
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "size": size,
            "mediaType": "application/pdf",
            "fileName": name,
        }
    )


def refused(cfa: str, file: FileReference, policy: FilePolicy = POLICY) -> str:
    with pytest.raises(FileRefusedError) as exc:
        policy.authorize(cfa, file)
    return exc.value.code


def test_a_cfa_reads_its_own_grants() -> None:
    assert POLICY.authorize(CFA_A, ref("s3://network-docs/cfa-a/1/c.pdf")) == S3Location(
        "network-docs", "cfa-a/1/c.pdf"
    )
    assert isinstance(POLICY.authorize(CFA_A, ref("file:///srv/files/cfa-a/c.pdf")), LocalLocation)
    inline = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    assert isinstance(POLICY.authorize(CFA_A, ref(inline)), InlineLocation)


@pytest.mark.parametrize(
    "location",
    [
        "s3://network-docs/cfa-b/1/c.pdf",  # the other CFA's prefix
        "s3://network-docs/cfa-a-evil/c.pdf",  # a prefix that only starts alike
        "s3://other-bucket/cfa-a/c.pdf",
        "file:///srv/files/cfa-b/c.pdf",
        "file:///srv/files/cfa-a",  # the root itself
        "/etc/passwd",
    ],
)
def test_anything_not_granted_is_forbidden(location: str) -> None:
    assert refused(CFA_A, ref(location)) == FileCode.LOCATION_FORBIDDEN


def test_no_cross_cfa_read_and_no_unknown_cfa() -> None:
    assert refused(CFA_B, ref("s3://network-docs/cfa-a/1/c.pdf")) == FileCode.LOCATION_FORBIDDEN
    inline = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    assert refused(CFA_B, ref(inline)) == FileCode.LOCATION_FORBIDDEN  # inline not granted to B
    assert refused("00000000000000", ref("s3://network-docs/cfa-a/c.pdf")) == (
        FileCode.LOCATION_FORBIDDEN
    )


def test_the_grammar_and_the_limits_come_first() -> None:
    assert refused(CFA_A, ref("http://network-docs/cfa-a/c.pdf")) == FileCode.LOCATION_FORBIDDEN
    assert refused(CFA_A, ref("s3://network-docs/cfa-a/../cfa-b/c.pdf")) == (
        FileCode.LOCATION_INVALID
    )
    assert refused(CFA_A, ref("s3://network-docs/cfa-a/c.pdf", size=1001)) == FileCode.TOO_LARGE
    big = "data:application/pdf;base64," + base64.b64encode(b"%PDF-" + b"a" * 200).decode()
    assert refused(CFA_A, ref(big)) == FileCode.TOO_LARGE
    assert refused(CFA_A, ref("s3://network-docs/cfa-a/c.exe", name="c.exe")) == (
        FileCode.TYPE_UNSUPPORTED
    )


@pytest.mark.parametrize(
    "cfas",
    [
        {CFA_A: {"s3": [{"bucket": "bk1", "prefix": "x/"}]}, CFA_B: {"s3": [{"bucket": "bk1"}]}},
        {
            CFA_A: {"s3": [{"bucket": "bk1", "prefix": "x/"}]},
            CFA_B: {"s3": [{"bucket": "bk1", "prefix": "x/y/"}]},
        },
        {CFA_A: {"local_root": "/srv/files"}, CFA_B: {"local_root": "/srv/files/b"}},
    ],
)
def test_grants_shared_by_two_cfas_are_a_configuration_error(cfas: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="share a bucket prefix or root"):
        policy_from({"cfas": cfas})


@pytest.mark.parametrize(
    "access",
    [
        {"s3": [{"bucket": "bk1", "prefix": "no-slash"}]},
        {"s3": [{"bucket": "bk1", "prefix": "/abs/"}]},
        {"s3": [{"bucket": "Not_A_Bucket"}]},
        {"s3": [{"bucket": "b1"}]},
        {"local_root": "relative"},
        {"local_root": "/srv/../etc"},
        {"unknown": 1},
    ],
)
def test_bad_grants_are_a_configuration_error(access: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        policy_from({"cfas": {CFA_A: access}})


def test_same_bucket_distinct_prefixes_is_fine() -> None:
    policy_from(
        {
            "cfas": {
                CFA_A: {"s3": [{"bucket": "bk1", "prefix": "a/"}]},
                CFA_B: {"s3": [{"bucket": "bk1", "prefix": "b/"}]},
            }
        }
    )


BASED = policy_from({"local_base": "/var/lib/relais/files", "cfas": {CFA_B: {"inline": True}}})


def test_local_base_grants_each_cfa_its_own_subdirectory_only() -> None:
    own = BASED.authorize(CFA_A, ref(f"file:///var/lib/relais/files/{CFA_A}/c.pdf"))
    assert isinstance(own, LocalLocation)
    assert BASED.root_of(CFA_A) is not None
    # the other CFA's subdirectory, the base itself, a CFA named otherwise than by a SIRET
    forbidden = FileCode.LOCATION_FORBIDDEN
    assert refused(CFA_A, ref(f"/var/lib/relais/files/{CFA_B}/c.pdf"), BASED) == forbidden
    assert refused(CFA_A, ref("/var/lib/relais/files/c.pdf"), BASED) == forbidden
    assert BASED.root_of("cfa-a") is None
    # an entry without local_root still gets its subdirectory
    assert isinstance(
        BASED.authorize(CFA_B, ref(f"/var/lib/relais/files/{CFA_B}/x/c.pdf")), LocalLocation
    )


def test_a_local_root_inside_local_base_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="local_base overlap"):
        policy_from(
            {
                "local_base": "/var/lib/relais/files",
                "cfas": {CFA_A: {"local_root": f"/var/lib/relais/files/{CFA_B}"}},
            }
        )
