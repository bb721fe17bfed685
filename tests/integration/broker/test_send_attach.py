"""``relais send --attach`` end to end: the file stored where the CFA's grants say (its local
directory; a bucket of the real S3 server on loopback), its document event published to the real
broker, signed with the CFA's secret, and the file then readable through the stores dispatch
uses, checked by size, SHA-256 and type."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from relais.adapters.files.opener import StoreFileOpener
from relais.adapters.files.s3 import S3Files
from relais.domain.events import DocumentSubmittedData, decode_record
from relais.domain.file_policy import CfaFileAccess, FilePolicy, S3Grant
from relais.entrypoints.cli import main
from relais.sampledata.pdfs import sample_pdf
from relais.services.ingest.signature import verify
from tests.fixtures.broker import In, consume_all
from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY, S3Server

pytestmark = pytest.mark.integration

CFA = "52880483402584"
SECRET = "cfa-secret-for-tests"
PDF = sample_pdf("certificat-realisation-D-7")


def _send(bootstrap: str, topic: str, source: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    argv = ["send", "--attach", str(source), "--type-fichier", "CERTIFICAT_REALISATION"]
    argv += ["--dossier", "D-7", "--cfa", CFA, "--facture", "FAC-7"]
    argv += ["--bootstrap", bootstrap, "--topic", topic, "--no-demo"]
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    shown: dict = json.loads(out)
    return shown


def _document(record: In) -> DocumentSubmittedData:
    assert record.value is not None
    event = decode_record(list(record.header_list), record.value, key=record.key)
    assert (event.dossier_id, event.envelope.source) == ("D-7", f"urn:siret:{CFA}")
    text = record.headers
    assert verify(SECRET, text, record.value, text["ce_signature"])  # as ingest checks it
    assert isinstance(event.data, DocumentSubmittedData)
    assert (event.data.typeFichier, event.data.referenceFactureCFA) == (
        "CERTIFICAT_REALISATION",
        "FAC-7",
    )
    return event.data


async def _read(opener: StoreFileOpener, data: DocumentSubmittedData) -> bytes:
    source = await opener.open(CFA, data.fichier)
    return b"".join([chunk async for chunk in source.chunks()])


def test_attach_to_the_cfa_s_local_directory(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = topic_factory("attach-local")
    base = tmp_path / "files"
    monkeypatch.setenv("RELAIS_FILES__LOCAL_BASE", str(base))
    monkeypatch.setenv("RELAIS_CFA__HMAC_SECRETS", json.dumps({CFA: SECRET}))
    source = tmp_path / "certificat.pdf"
    source.write_bytes(PDF)

    shown = _send(kafka_bootstrap, topic, source, capsys)
    [record] = asyncio.run(consume_all(kafka_bootstrap, topic, at_least=1, timeout_s=15))
    data = _document(record)
    assert (shown["id"], shown["scheme"], shown["size"]) == (
        record.headers["ce_id"],
        "file",
        len(PDF),
    )
    assert Path(data.fichier.location.removeprefix("file://")).is_relative_to(base / CFA)
    opener = StoreFileOpener(FilePolicy(local_base=str(base)))
    assert asyncio.run(_read(opener, data)) == PDF


def test_attach_to_the_cfa_s_bucket_on_a_real_s3_server(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    s3_server: S3Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = topic_factory("attach-s3")
    bucket = s3_server.bucket("cfa-attach")
    grants = {CFA: {"s3": [{"bucket": bucket, "prefix": f"{CFA}/"}]}}
    for name, value in {
        "RELAIS_FILES__CFAS": json.dumps(grants),
        "RELAIS_FILES__S3__ENDPOINT_URL": s3_server.endpoint,
        "RELAIS_FILES__S3__ACCESS_KEY_ID": ACCESS_KEY,
        "RELAIS_FILES__S3__SECRET_ACCESS_KEY": SECRET_KEY,
        "RELAIS_FILES__S3__ALLOW_HTTP": "true",
        "RELAIS_CFA__HMAC_SECRETS": json.dumps({CFA: SECRET}),
    }.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "certificat.pdf"
    source.write_bytes(PDF)

    shown = _send(kafka_bootstrap, topic, source, capsys)
    [record] = asyncio.run(consume_all(kafka_bootstrap, topic, at_least=1, timeout_s=15))
    data = _document(record)
    assert shown["scheme"] == "s3"
    assert data.fichier.location.startswith(f"s3://{bucket}/{CFA}/D-7/")
    grant = S3Grant(bucket=bucket, prefix=f"{CFA}/")
    policy = FilePolicy(cfas={CFA: CfaFileAccess(s3=(grant,))})
    opener = StoreFileOpener(policy, S3Files(s3_server.connection()))
    assert asyncio.run(_read(opener, data)) == PDF
    # an executable renamed .pdf is refused before anything is stored or published
    fake = tmp_path / "setup.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    argv = ["send", "--attach", str(fake), "--type-fichier", "FACTURE", "--dossier", "D-7"]
    with pytest.raises(SystemExit) as refused:
        main([*argv, "--cfa", CFA, "--bootstrap", kafka_bootstrap, "--topic", topic, "--no-demo"])
    assert refused.value.code == 2
    assert "ni pdf, ni png, ni jpg" in capsys.readouterr().err
    assert len(asyncio.run(consume_all(kafka_bootstrap, topic, at_least=1, timeout_s=3))) == 1
