"""The ``files`` settings group: grants from the environment and the secrets directory, checked
when they load; the stores built from them (S3 only when a bucket is granted)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from relais.adapters.files.opener import StoreFileOpener
from relais.bootstrap.files import file_opener, s3_connection
from relais.config import load_settings
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference

CFA_A = "19350000000011"
CFA_B = "35600000000048"
PDF = b"%PDF-1.7\n% relais\n"


def test_nothing_is_readable_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELAIS_FILES__LOCAL_BASE", raising=False)
    files = load_settings().files
    assert files.cfas == {} and files.local_base is None and not files.uses_s3
    assert files.policy().root_of(CFA_A) is None


def test_grants_and_s3_secrets_from_the_environment_and_secret_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "RELAIS_FILES__CFAS",
        f'{{"{CFA_A}": {{"s3": [{{"bucket": "cfa-docs", "prefix": "{CFA_A}/"}}]}}}}',
    )
    monkeypatch.setenv("RELAIS_FILES__S3__ENDPOINT_URL", "https://minio.example:9000")
    monkeypatch.setenv("RELAIS_FILES__S3__ACCESS_KEY_ID", "relais-reader")
    (tmp_path / "relais_files__s3__secret_access_key").write_text("s3-secret-value")
    (tmp_path / "relais_files__s3__secret_access_key").chmod(0o400)
    settings = load_settings(secrets_dir=tmp_path)
    files = settings.files
    assert files.uses_s3
    assert "s3-secret-value" not in repr(settings) and "relais-reader" not in repr(settings)
    connection = s3_connection(files)
    assert connection.endpoint == "https://minio.example:9000"
    assert connection.secret_access_key == "s3-secret-value"
    assert "s3-secret-value" not in repr(connection)


def test_two_cfas_sharing_a_prefix_do_not_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "RELAIS_FILES__CFAS",
        f'{{"{CFA_A}": {{"s3": [{{"bucket": "cfa-docs", "prefix": ""}}]}}, '
        f'"{CFA_B}": {{"s3": [{{"bucket": "cfa-docs", "prefix": "{CFA_B}/"}}]}}}}',
    )
    with pytest.raises(ValidationError, match="share a bucket prefix"):
        load_settings()


async def test_the_opener_reads_a_cfa_s_own_subdirectory_of_local_base_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RELAIS_FILES__LOCAL_BASE", str(tmp_path))
    for cfa in (CFA_A, CFA_B):
        (tmp_path / cfa).mkdir()
        (tmp_path / cfa / "c.pdf").write_bytes(PDF)
    opener = file_opener(load_settings().files)
    assert isinstance(opener, StoreFileOpener)

    def ref(cfa: str) -> FileReference:
        return FileReference(
            location=f"file://{tmp_path / cfa / 'c.pdf'}",
            sha256=hashlib.sha256(PDF).hexdigest(),
            size=len(PDF),
            mediaType="application/pdf",
            fileName="c.pdf",
        )

    source = await opener.open(CFA_A, ref(CFA_A))
    assert b"".join([chunk async for chunk in source.chunks()]) == PDF
    with pytest.raises(FileRefusedError) as exc:
        await opener.open(CFA_A, ref(CFA_B))
    assert exc.value.file_code is FileCode.LOCATION_FORBIDDEN
