"""``relais send --attach FILE``: store a file where the CFA's file policy lets relais read it,
then publish its ``fr.cfa.document.submitted.v1`` event (what a CFA's ERP does, by hand).

The file is read once in chunks to learn what it is (size, SHA-256, media type by its magic bytes:
``domain/file_checks``), refused before anything is copied when it is not a pdf/png/jpg or over
the size limit; then stored: in S3 under the CFA's first granted (bucket, prefix) when the policy
grants one and S3 is configured, else under the CFA's local root, else inline when the CFA may
and the file is small enough. The reference is checked by the very gate dispatch uses
(``FilePolicy.authorize``) before the event is published, signed with the CFA's HMAC secret when
it has one. The file's bytes never reach a log line or an error: only its name and hash do.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import obstore
from obstore.exceptions import BaseError

from relais.adapters.files.s3 import S3Files, s3_connection
from relais.config import KafkaSettings, Settings
from relais.domain.document_event import TypeFichier
from relais.domain.events import EventType
from relais.domain.file_checks import EXTENSIONS, SNIFF_BYTES, FileLimits, sniff
from relais.domain.file_policy import CfaFileAccess, FilePolicy
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.domain.json_types import Json
from relais.operator.kafka_io import OutRecord, publish
from relais.operator.send import Sent, to_records
from relais.services.files_port import FileStoreUnavailableError
from relais.services.ingest.signature import SIGNATURE_HEADER, sign

CHUNK = 256 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Attachment:
    """What ``--attach`` is asked to send: a file of the CFA, for one of its dossiers."""

    path: Path
    type_fichier: TypeFichier
    dossier_id: str
    cfa: str  # the CFA's SIRET, as the policy keys it
    reference_facture: str | None = None


@dataclass(frozen=True)
class FileFacts:
    size: int
    sha256: str
    media_type: str
    file_name: str


def describe(path: Path, limits: FileLimits) -> FileFacts:
    """Size, SHA-256 and media type (by magic bytes) of the file at ``path``, read in chunks;
    refused (``FileRefusedError``) when over the limit or not a pdf, png or jpg."""
    name = _UNSAFE.sub("-", path.name)[:200].lstrip("-.") or "fichier"
    sha, size, head = hashlib.sha256(), 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FileRefusedError(
                    FileCode.TOO_LARGE, f"{name} : plus de {limits.max_bytes} octets"
                )
            head += chunk[: max(0, SNIFF_BYTES - len(head))]
            sha.update(chunk)
    media_type = sniff(head)
    if media_type is None:
        raise FileRefusedError(
            FileCode.TYPE_UNSUPPORTED, f"{name} : son contenu n'est ni pdf, ni png, ni jpg"
        )
    if size == 0:
        raise FileRefusedError(FileCode.TOO_LARGE, f"{name} : fichier vide")
    if EXTENSIONS.get(PurePosixPath(name).suffix.lower()) != media_type:
        raise FileRefusedError(
            FileCode.TYPE_UNSUPPORTED,
            f"{name} : l'extension ne correspond pas à son contenu ({media_type})",
        )
    return FileFacts(size, sha.hexdigest(), media_type, name)


async def store(
    attachment: Attachment, facts: FileFacts, policy: FilePolicy, s3: S3Files | None
) -> FileReference:
    """The file stored where the CFA's grants let relais read it, and its reference (checked by
    ``policy.authorize``, the gate dispatch passes it through)."""
    access = policy.cfas.get(attachment.cfa, CfaFileAccess())
    root = policy.root_of(attachment.cfa)
    location = await _put(attachment, facts, access, root, policy.limits, s3)
    ref = FileReference(
        location=location,
        sha256=facts.sha256,
        size=facts.size,
        mediaType=facts.media_type,  # sniff gives one of the three
        fileName=facts.file_name,
    )
    policy.authorize(attachment.cfa, ref)
    return ref


async def _put(
    attachment: Attachment,
    facts: FileFacts,
    access: CfaFileAccess,
    root: PurePosixPath | None,
    limits: FileLimits,
    s3: S3Files | None,
) -> str:
    key = f"{_UNSAFE.sub('-', attachment.dossier_id)[:120]}/{facts.sha256[:16]}-{facts.file_name}"
    if access.s3 and s3 is not None:
        grant = access.s3[0]
        try:
            await obstore.put_async(s3.store(grant.bucket), grant.prefix + key, attachment.path)
        except (BaseError, OSError) as exc:
            raise FileStoreUnavailableError(
                f"s3: écriture impossible dans {grant.bucket} ({type(exc).__name__})"
            ) from None
        return f"s3://{grant.bucket}/{grant.prefix}{key}"
    if root is not None:
        target = Path(root) / key
        await asyncio.to_thread(_copy, attachment.path, target)
        return f"file://{target}"
    if access.inline and facts.size <= limits.max_inline_bytes:
        data = base64.b64encode(attachment.path.read_bytes()).decode()
        return f"data:{facts.media_type};base64,{data}"
    raise FileRefusedError(
        FileCode.LOCATION_FORBIDDEN,
        f"{facts.file_name} : aucun stockage autorisé au CFA ne peut recevoir ce fichier "
        "(ni S3 configuré, ni répertoire local, ni fichier en ligne de cette taille)",
    )


def _copy(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` whole or not at all (a temporary name, then renamed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def document_event(attachment: Attachment, ref: FileReference, now: datetime) -> Json:
    """The document event (structured form) naming ``ref``."""
    data: Json = {
        "typeFichier": attachment.type_fichier,
        "fichier": ref.model_dump(mode="json"),
    }
    if attachment.reference_facture is not None:
        data["referenceFactureCFA"] = attachment.reference_facture
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "type": EventType.DOCUMENT_SUBMITTED.value,
        "source": f"urn:siret:{attachment.cfa}",
        "subject": attachment.dossier_id,
        "time": now.isoformat(timespec="seconds"),
        "data": data,
    }


async def attach(
    kafka: KafkaSettings,
    attachment: Attachment,
    policy: FilePolicy,
    s3: S3Files | None,
    *,
    now: datetime,
    secret: str | None = None,
    topic: str | None = None,
) -> tuple[Json, Sent]:
    """Store the file, publish its document event (signed with ``secret`` when given); the event
    and where it went."""
    facts = await asyncio.to_thread(describe, attachment.path, policy.limits)
    ref = await store(attachment, facts, policy, s3)
    event = document_event(attachment, ref, now)
    [record] = to_records([event])
    if secret is not None:
        record = signed(record, secret)
    [(partition, offset)] = await publish(kafka, topic or kafka.input_topic, [record])
    return event, Sent(event["id"], attachment.dossier_id, partition, offset)


def signed(record: OutRecord, secret: str) -> OutRecord:
    """``record`` with its ``ce_signature`` (the CFA's HMAC over its headers and value)."""
    text = {name: value.decode() for name, value in record.headers}
    signature = sign(secret, text, record.value or b"")
    return OutRecord(
        record.key, record.value, [*record.headers, (SIGNATURE_HEADER, signature.encode())]
    )


async def attach_with_settings(settings: Settings, args: Any) -> tuple[Json, Sent]:
    """``attach`` as ``relais send --attach`` runs it: the CFA's grants and the S3 connection of
    the ``files`` settings, the CFA's HMAC secret when it has one, the system clock."""
    files = settings.files
    s3 = S3Files(s3_connection(files)) if files.uses_s3 else None
    secret = settings.cfa.hmac_secrets.get(args.cfa)
    attachment = Attachment(
        path=args.attach,
        type_fichier=args.type_fichier,
        dossier_id=args.dossier,
        cfa=args.cfa,
        reference_facture=args.facture,
    )
    return await attach(
        settings.kafka,
        attachment,
        files.policy(),
        s3,
        now=datetime.now(UTC),
        secret=secret.get_secret_value() if secret is not None else None,
        topic=args.topic,
    )
