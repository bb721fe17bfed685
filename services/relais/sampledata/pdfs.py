"""Small valid PDF files for the generated conventions and factures (what the OPCO takes in the
multipart part ``fichier``), written where relais can read them and named by a ``FileReference``.

A PDF here is one page with one line of text: header, catalog, pages, page, content stream, font,
a cross-reference table with the exact byte offsets, trailer. Deterministic for a given title.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

from relais.domain.json_types import Json

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_default_dir: Path | None = None


def sample_pdf(title: str) -> bytes:
    """A one-page PDF showing ``title`` (ASCII; other characters replaced)."""
    text = title.encode("ascii", "replace").decode().replace("\\", "/")
    text = text.replace("(", "[").replace(")", "]")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def default_files_dir() -> Path:
    """One folder per process for the generator's PDFs when none is given (under the system's
    temporary folder; relais reads them by local path on the same machine)."""
    global _default_dir
    if _default_dir is None:
        _default_dir = Path(tempfile.mkdtemp(prefix="relais-sample-files-"))
    return _default_dir


def write_pdf(directory: Path, name: str, title: str) -> Json:
    """Write the PDF of ``title`` as ``directory/name``; its ``FileReference`` (JSON form)."""
    file_name = _UNSAFE.sub("-", name)[:120]
    data = sample_pdf(title)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name
    path.write_bytes(data)
    return {
        "location": f"file://{path.resolve()}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "mediaType": "application/pdf",
        "fileName": file_name,
    }
