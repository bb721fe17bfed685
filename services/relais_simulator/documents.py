"""One OPCO's documents (``POST /v1/documents``, convergence-api.md 0): the files attached to a
CFA's dossiers and factures, found again by what makes one the same upload (CFA, typeFichier, the
set of objets, the file's SHA-256: a repeat is the OPCO's 409 with the existing id), and their
bytes kept for inspection through the admin API.

The bytes are bounded twice: each file by its profile's limit (``DocumentLimits``, checked before
it gets here) and the whole shelf by ``max_kept_bytes``: past it, the oldest documents lose their
bytes (``content`` None; their digest, size and name stay)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from relais_simulator.model import Document
from relais_simulator.rejection import Rejection

TYPES_FICHIER = (
    "CONVENTION_FORMATION",
    "CONVENTION_REDUCTION_DUREE",
    "CONVENTION_MOBILITE",
    "FACTURE",
    "CERTIFICAT_REALISATION",
)
DOSSIER = "DOSSIER_APPRENTISSAGE"
FACTURE = "FACTURE"
TYPES_OBJET = (DOSSIER, FACTURE)
MAX_KEPT_BYTES = 256 * 1024 * 1024  # per OPCO

DocumentKey = tuple[str, str, frozenset[tuple[str, str]], str]


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file as the route received it: its bytes (at most the profile's limit) and digest."""

    content: bytes
    sha256: str
    name: str
    media_type: str

    @property
    def size(self) -> int:
        return len(self.content)


class DocumentShelf:
    def __init__(self, mint: Callable[[], str], max_kept_bytes: int = MAX_KEPT_BYTES) -> None:
        self._mint = mint  # the next id, in the profile's shape (``identifiers.py``)
        self._by_id: dict[str, Document] = {}
        self._by_key: dict[DocumentKey, str] = {}
        self._kept: deque[str] = deque()  # ids whose bytes are kept, oldest first
        self._kept_bytes = 0
        self._max_kept_bytes = max_kept_bytes

    def add(
        self,
        cfa_siret: str,
        type_fichier: str,
        objets: frozenset[tuple[str, str]],
        file: ReceivedFile,
        day: float,
    ) -> Document:
        """A new document, or the OPCO's 409 with the id of the same upload seen before."""
        key: DocumentKey = (cfa_siret, type_fichier, objets, file.sha256)
        existing = self._by_key.get(key)
        if existing is not None:
            raise Rejection(409, "Document déjà transmis", ids={"numeroInterneDocument": existing})
        doc = Document(
            numero_interne_document=self._mint(),
            cfa_siret=cfa_siret,
            type_fichier=type_fichier,
            objets=objets,
            sha256=file.sha256,
            size=file.size,
            file_name=file.name,
            media_type=file.media_type,
            created_day=day,
            content=file.content,
        )
        self._by_id[doc.numero_interne_document] = doc
        self._by_key[key] = doc.numero_interne_document
        self._keep(doc)
        return doc

    def _keep(self, doc: Document) -> None:
        self._kept.append(doc.numero_interne_document)
        self._kept_bytes += doc.size
        while self._kept_bytes > self._max_kept_bytes and len(self._kept) > 1:
            oldest = self._by_id[self._kept.popleft()]
            self._kept_bytes -= oldest.size
            oldest.content = None

    def get(self, numero_interne_document: str) -> Document | None:
        return self._by_id.get(numero_interne_document)

    def __iter__(self) -> Iterator[Document]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
