"""One OPCO's books: objects, dict indexes, duplicate detection and the clock-driven instruction.

What a cerfa says (``cerfa_facts.py``), how the OPCO instructs (``instruction.py``), the engagement
(``engagement.py``) and a facture's checks and amounts (``invoicing.py``) live beside it.

Every operation is O(1) in the number of stored objects (dict indexes; the etats listings slice a
per-CFA list). Time-driven transitions sit in a heap keyed by simulated day; ``advance_to(day)``
applies the due ones in order and is called before every request, so what a client reads is always
"as of now" on the simulator's clock.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from datetime import date

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import IdentifierFormats
from relais_simulator.cerfa_facts import digest, read_facts
from relais_simulator.documents import DOSSIER, FACTURE, DocumentShelf
from relais_simulator.engagement import (
    compute_dossier_engagement,
    numero_deca,
    prorate_at_rupture,
)
from relais_simulator.financing import NpecTable
from relais_simulator.identifiers import IdMinter
from relais_simulator.instruction import Instruction
from relais_simulator.invoicing import check_lines, release, settle
from relais_simulator.model import (
    Certificat,
    Convention,
    Dossier,
    Facture,
    FactureLine,
)
from relais_simulator.rejection import Rejection
from relais_simulator.states import (
    DossierEtat,
    FactureEtat,
    TransitionError,
    dossier_transition,
    facture_transition,
)
from relais_simulator.wire import error_item

__all__ = ["OpcoStore", "Rejection"]


class OpcoStore:
    def __init__(
        self,
        opco: OpcoCode,
        new_id: Callable[[], int],
        instruction: Instruction,
        npec: NpecTable,
        date_of: Callable[[float], date],
        identifiers: IdentifierFormats | None = None,
    ) -> None:
        self.opco = opco
        self._ids = IdMinter(identifiers or IdentifierFormats(), opco.value)
        self._new_id = new_id
        self.instruction = instruction
        self._npec = npec
        self._date_of = date_of
        self.dossiers: dict[str, Dossier] = {}
        self._by_key: dict[str, str] = {}
        self._by_externe: dict[str, str] = {}  # numeroExterne -> numeroInterne
        self._by_cfa: dict[str, list[str]] = {}
        self.factures: dict[str, Facture] = {}
        self._facture_by_ref: dict[tuple[str, str], str] = {}
        self._factures_by_cfa: dict[str, list[str]] = {}
        self.conventions: dict[str, Convention] = {}
        self.certificats: dict[tuple[str, int], Certificat] = {}
        self.documents = DocumentShelf(lambda: self._ids.numero_interne_document(self._new_id()))
        self._heap: list[tuple[float, int, str, str]] = []
        self._heap_seq = 0

    # ---- time -------------------------------------------------------------------------------

    def advance_to(self, day: float) -> int:
        applied = 0
        heap = self._heap
        while heap and heap[0][0] <= day + 1e-9:
            due, _, kind, ident = heapq.heappop(heap)
            self._apply(kind, ident, due)
            applied += 1
        return applied

    def _schedule(self, day: float, kind: str, ident: str) -> None:
        self._heap_seq += 1
        heapq.heappush(self._heap, (day, self._heap_seq, kind, ident))

    def _apply(self, kind: str, ident: str, day: float) -> None:
        if kind == "d_instr":
            d = self.dossiers.get(ident)
            if d is not None and d.etat is DossierEtat.TRANSMIS:
                self._set_etat(d, DossierEtat.EN_COURS_INSTRUCTION, day)
        elif kind == "d_decide":
            d = self.dossiers.get(ident)
            if d is None:
                return
            if d.etat is DossierEtat.TRANSMIS:
                self._set_etat(d, DossierEtat.EN_COURS_INSTRUCTION, day)
            if d.etat is not DossierEtat.EN_COURS_INSTRUCTION:
                return
            if d.refuse:
                d.commentaire = "Refus de prise en charge (simulateur)"
                self._set_etat(d, DossierEtat.REFUSE, day)
            else:
                self._engage(d, day)
        elif kind == "f_instr":
            f = self.factures.get(ident)
            if f is not None and f.etat is FactureEtat.TRANSMIS:
                self._set_facture_etat(f, FactureEtat.EN_COURS_INSTRUCTION, day)
        elif kind == "f_pay":
            f = self.factures.get(ident)
            if f is not None and f.etat is FactureEtat.EN_COURS_INSTRUCTION:
                if self.instruction.refuses_facture(f.cfa_siret, f.reference):
                    self._refuse_facture(f, day)
                else:
                    self._pay(f, day)

    def _set_etat(self, d: Dossier, target: DossierEtat, day: float) -> None:
        d.etat = dossier_transition(d.etat, target)
        d.history.append((day, target.value))

    def _set_facture_etat(self, f: Facture, target: FactureEtat, day: float) -> None:
        f.etat = facture_transition(f.etat, target)
        f.history.append((day, target.value))

    # ---- dossiers ---------------------------------------------------------------------------

    def find_duplicate_dossier(self, key: str) -> Dossier | None:
        ident = self._by_key.get(key)
        return None if ident is None else self.dossiers[ident]

    def create_dossier(
        self,
        cfa_siret: str,
        key: tuple[str, ...],
        cerfa: Json,
        day: float,
        version: str,
        body: bytes | None = None,
    ) -> Dossier:
        """``body``: the request's JSON ``{"cerfa": ...}`` as received (kept as is, not parsed)."""
        facts = read_facts(cerfa)
        raw = body if body is not None else json.dumps({"cerfa": cerfa}).encode()
        nk = digest(key)
        n = self._new_id()
        numero_interne = self._ids.numero_interne(n)
        numero_externe = self._ids.numero_externe(n, self._date_of(day).year)
        ins = self.instruction
        refuse = facts.nom_refus or ins.refuses_dossier(nk)
        d = Dossier(
            numero_interne=numero_interne,
            numero_externe=numero_externe,
            cfa_siret=cfa_siret,
            natural_key=nk,
            raw=raw,
            facts=facts,
            created_day=day,
            version=version,
            refuse=refuse,
            decision_day=day + ins.days_to_decision(nk),
            history=[(day, DossierEtat.TRANSMIS.value)],
        )
        self.dossiers[numero_interne] = d
        self._by_key[nk] = numero_interne
        self._by_externe[numero_externe] = numero_interne
        self._by_cfa.setdefault(cfa_siret, []).append(numero_interne)
        self._schedule(day + ins.days_to_instruction, "d_instr", numero_interne)
        self._schedule(d.decision_day, "d_decide", numero_interne)
        return d

    def dossier_for(self, cfa_siret: str, numero_interne: str) -> Dossier:
        d = self.dossiers.get(numero_interne)
        if d is None:
            raise Rejection(404, "Dossier introuvable")
        if d.cfa_siret != cfa_siret:
            raise Rejection(403, "Ce dossier n'appartient pas au CFA de la clé API")
        return d

    def by_externe(self, numero_externe: str) -> str:
        """The numeroInterne of the dossier a facture line names by numeroExterne (or the
        given text, unknown: ``dossier_for`` then answers 404)."""
        return self._by_externe.get(numero_externe, numero_externe)

    def dossiers_of(self, cfa_siret: str) -> list[str]:
        return self._by_cfa.get(cfa_siret, [])

    def force_etat(self, d: Dossier, target: DossierEtat, day: float, comment: str | None) -> None:
        if target is DossierEtat.ENGAGE:
            if d.etat is DossierEtat.TRANSMIS:
                self._set_etat(d, DossierEtat.EN_COURS_INSTRUCTION, day)
            if d.etat is not DossierEtat.EN_COURS_INSTRUCTION:
                raise TransitionError("dossier", d.etat, target)
            self._engage(d, day)
        elif target is DossierEtat.REFUSE and d.etat is DossierEtat.TRANSMIS:
            self._set_etat(d, DossierEtat.EN_COURS_INSTRUCTION, day)
            self._set_etat(d, target, day)
        else:
            self._set_etat(d, target, day)
        if comment is not None:
            d.commentaire = comment

    def _engage(self, d: Dossier, day: float) -> None:
        self._compute_engagement(d)
        d.numero_deca = numero_deca(d, self._date_of(day))
        self._set_etat(d, DossierEtat.ENGAGE, day)

    def _compute_engagement(self, d: Dossier) -> None:
        convention = self.conventions.get(d.numero_interne)
        couts = (convention.couts if convention else {}) or {}
        compute_dossier_engagement(d, couts, self._npec, self._date_of(d.created_day))

    def rupture(self, d: Dossier, date_rupture: date, day: float) -> None:
        if d.etat is DossierEtat.RUPTURE:
            raise Rejection(409, "Rupture déjà déclarée pour ce dossier", ids=self.dossier_ids(d))
        if d.etat is not DossierEtat.ENGAGE:
            raise Rejection(
                422,
                "Rupture impossible: le dossier n'est pas engagé",
                [{"code": "ETAT_DOSSIER", "champ": "numeroInterne", "description": d.etat.value}],
            )
        d.date_rupture = date_rupture
        prorate_at_rupture(d, date_rupture)
        self._set_etat(d, DossierEtat.RUPTURE, day)

    @staticmethod
    def dossier_ids(d: Dossier) -> dict[str, str]:
        return {
            "numeroInterne": d.numero_interne,
            "numeroExterne": d.numero_externe,
            "etat": d.etat.value,
        }

    # ---- conventions ------------------------------------------------------------------------

    def add_convention(self, d: Dossier, couts: Json) -> Convention:
        existing = self.conventions.get(d.numero_interne)
        if existing is not None:
            raise Rejection(
                409,
                "Une convention existe déjà pour ce dossier",
                ids={
                    "idConvention": existing.id_convention,
                    "numeroInterneDossier": d.numero_interne,
                },
            )
        if d.etat in (DossierEtat.REFUSE, DossierEtat.ANNULE):
            raise Rejection(
                422,
                "Convention impossible: dossier refusé ou annulé",
                [{"code": "ETAT_DOSSIER", "champ": "numeroInterneDossier", "description": d.etat}],
            )
        c = Convention(f"C{self._new_id():011d}", d.numero_interne, d.cfa_siret, couts)
        self.conventions[d.numero_interne] = c
        d.convention_id = c.id_convention
        if (
            d.etat is DossierEtat.ENGAGE  # not after a rupture: that would undo its prorata
            and d.echeances
            and all(e.montant_regle == 0 and e.montant_en_cours == 0 for e in d.echeances)
        ):
            self._compute_engagement(d)
        return c

    # ---- factures ---------------------------------------------------------------------------

    def find_facture(self, cfa_siret: str, reference: str) -> Facture | None:
        ident = self._facture_by_ref.get((cfa_siret, reference))
        return None if ident is None else self.factures[ident]

    def add_facture(
        self,
        cfa_siret: str,
        reference: str,
        montant: int,
        date_facture: date | None,
        iban: str | None,
        lines: list[FactureLine],
        day: float,
    ) -> Facture:
        existing = self.find_facture(cfa_siret, reference)
        if existing is not None:
            raise Rejection(409, "Facture déjà transmise", ids=self.facture_ids(existing))
        targets, errors = check_lines(
            lines, montant, lambda ident: self.dossier_for(cfa_siret, ident), self._date_of(day)
        )
        if errors:
            raise Rejection(422, "Facture refusée", errors)
        for e, amount in targets:
            e.montant_en_cours += amount
        n = self._new_id()
        f = Facture(
            numero_interne_facture=self._ids.numero_interne_facture(n),
            reference=reference,
            cfa_siret=cfa_siret,
            montant=montant,
            date_facture=date_facture,
            iban=iban,
            lines=lines,
            created_day=day,
            history=[(day, FactureEtat.TRANSMIS.value)],
        )
        self.factures[f.numero_interne_facture] = f
        self._facture_by_ref[(cfa_siret, reference)] = f.numero_interne_facture
        self._factures_by_cfa.setdefault(cfa_siret, []).append(f.numero_interne_facture)
        ins = self.instruction
        self._schedule(day + ins.facture_days_to_instruction, "f_instr", f.numero_interne_facture)
        self._schedule(
            day + ins.facture_days_to_instruction + ins.facture_days_to_payment,
            "f_pay",
            f.numero_interne_facture,
        )
        return f

    def factures_of(self, cfa_siret: str) -> list[str]:
        return self._factures_by_cfa.get(cfa_siret, [])

    def _refuse_facture(self, f: Facture, day: float) -> None:
        release(f, self.dossiers)
        f.commentaire = "Facture refusée (simulateur)"
        self._set_facture_etat(f, FactureEtat.REFUSE, day)

    def _pay(self, f: Facture, day: float) -> None:
        touched = settle(f, self.dossiers)
        f.reference_virement = f"VIR{f.numero_interne_facture.removeprefix('F')}"
        f.date_reglement = self._date_of(day)
        self._set_facture_etat(f, FactureEtat.REGLE, day)
        for d in touched.values():
            if d.etat is DossierEtat.ENGAGE and d.echeances and all(e.paid for e in d.echeances):
                self._set_etat(d, DossierEtat.SOLDE, day)

    @staticmethod
    def facture_ids(f: Facture) -> dict[str, str]:
        return {
            "numeroInterneFacture": f.numero_interne_facture,
            "referenceFactureCFA": f.reference,
            "etatFacture": f.etat.value,
        }

    # ---- certificats, documents -------------------------------------------------------------

    def add_certificat(self, d: Dossier, numero_echeance: int) -> Certificat:
        existing = self.certificats.get((d.numero_interne, numero_echeance))
        if existing is not None:
            raise Rejection(
                409,
                "Certificat déjà transmis pour cette échéance",
                ids={"idCertificat": existing.id_certificat},
            )
        if d.echeances and all(e.numero != numero_echeance for e in d.echeances):
            raise Rejection(
                422,
                "Échéance inconnue",
                [error_item("ECHEANCE_INCONNUE", "echeance.numero", "Échéance inconnue")],
            )
        c = Certificat(f"K{self._new_id():011d}", d.numero_interne, numero_echeance, d.cfa_siret)
        self.certificats[(d.numero_interne, numero_echeance)] = c
        return c

    def has_object(self, cfa_siret: str, type_objet: str, id_objet: str) -> bool:
        """The CFA's own dossier (numeroInterne) or facture (numeroInterneFacture) only."""
        found: Dossier | Facture | None = None
        if type_objet == DOSSIER:
            found = self.dossiers.get(id_objet)
        elif type_objet == FACTURE:
            found = self.factures.get(id_objet)
        return found is not None and found.cfa_siret == cfa_siret
