"""The bodies relais sends to an OPCO, built from the validated models (issue 15, item 3).

Never the CFA's raw JSON: only the standard's fields (an unknown key was warned about and is not
forwarded), in the standard's wire forms (convergence-api.md 1.7, section 0):

- numbers as JSON numbers, booleans as JSON booleans (the models already parsed ``"11"`` into 11);
- IDCC on 4 digits, SIRET / NIR / IBAN / telephone without spaces or separators, UAI, NAF, CFD
  and IBAN upper case, RNCP as ``RNCP`` + digits (section 0: what the OPCO received);
- text trimmed; null and absent fields left out;
- dates per route (``ROUTE_DATES``): a dossier's as midnight in Europe/Paris with that day's offset
  (``2026-12-01T00:00:00+01:00``, section 0 [ERP-WIRE]); the other routes' as midnight UTC with
  an offset (``2026-12-01T00:00:00+00:00``, section 1.7 and schemas/convergence/README.md);
- the OPCO profile's quirks: ``cerfa_signature_key`` (the ``CERFAsignatureProbante`` spelling),
  ``pratique_field`` (``dateFormationPratiqueEmployeur``); the facture in section 0's form
  (``ibanEmetteur``: the older ``iban_field`` quirk no longer applies to it).

``encode`` gives the exact bytes (UTF-8, no ASCII escaping, compact separators, the models' field
order) the golden tests pin down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from relais.domain.cerfa import Cerfa
from relais.domain.dates import PARIS, parse_wire_date
from relais.domain.followups import Certificat, Convention, Facture, LigneFacture, Rupture
from relais.domain.profiles import Quirks

Json = dict[str, Any]


class DateForm(Enum):
    PARIS_MIDNIGHT = "paris"
    UTC_MIDNIGHT = "utc"


ROUTE_DATES: dict[str, DateForm] = {
    "dossier": DateForm.PARIS_MIDNIGHT,
    "convention": DateForm.UTC_MIDNIGHT,
    "facture": DateForm.UTC_MIDNIGHT,
    "certificat": DateForm.UTC_MIDNIGHT,
    "rupture": DateForm.UTC_MIDNIGHT,
}

_SEPARATORS = re.compile(r"[\s.\-]")
_NO_SPACES = re.compile(r"\s")


def wire_date(day: date, form: DateForm) -> str:
    if form is DateForm.UTC_MIDNIGHT:
        return f"{day.isoformat()}T00:00:00+00:00"
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).isoformat()


def _rncp(text: str) -> str:
    digits = text.strip().upper().removeprefix("RNCP").strip()
    return f"RNCP{digits}" if digits.isascii() and digits.isdigit() else text.strip().upper()


_BY_NAME: dict[str, Callable[[str], str]] = {
    "siret": lambda t: _NO_SPACES.sub("", t),
    "nir": lambda t: _NO_SPACES.sub("", t).upper(),
    "iban": lambda t: _NO_SPACES.sub("", t).upper(),
    "IBAN": lambda t: _NO_SPACES.sub("", t).upper(),
    "uaiCfa": lambda t: t.strip().upper(),
    "naf": lambda t: t.strip().upper(),
    "codeDiplome": lambda t: t.strip().upper(),
    "rncp": _rncp,
    "telephone": lambda t: _SEPARATORS.sub("", t),
    "codePostal": lambda t: _NO_SPACES.sub("", t),
    "noContrat": lambda t: _NO_SPACES.sub("", t).upper(),
    "numeroContratPrecedent": lambda t: _NO_SPACES.sub("", t).upper(),
}


def _value(name: str, value: Any, form: DateForm) -> Any:
    if isinstance(value, BaseModel):
        return section(value, form)
    if isinstance(value, list):
        return [_value(name, v, form) for v in value]
    if isinstance(value, date):
        return wire_date(value, form)
    if isinstance(value, str):
        return _BY_NAME.get(name, str.strip)(value)
    return value  # int, float, bool: already the standard's JSON types


def section(model: BaseModel, form: DateForm) -> Json:
    """The model's standard fields (declared ones only: extras are never forwarded), in order."""
    out: Json = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        out[name] = _value(name, value, form)
    return out


def dossier_body(cerfa: Cerfa, quirks: Quirks | None = None) -> Json:
    """``POST /v1|v2/dossiers``: ``{"cerfa": {...}}``."""
    q = quirks or Quirks()
    form = ROUTE_DATES["dossier"]
    body = section(cerfa, form)
    extra = cerfa.model_extra or {}
    if "CERFASignatureProbante" not in body and isinstance(
        extra.get("CERFAsignatureProbante"), bool
    ):
        body["CERFASignatureProbante"] = extra["CERFAsignatureProbante"]
    if q.cerfa_signature_key != "CERFASignatureProbante" and "CERFASignatureProbante" in body:
        body = _rename(body, "CERFASignatureProbante", q.cerfa_signature_key)
    contrat = body.get("contrat")
    if cerfa.contrat is not None and isinstance(contrat, dict):
        pratique = _pratique(cerfa)
        if pratique is not None and "dateDebutFormationPratique" not in contrat:
            contrat["dateDebutFormationPratique"] = wire_date(pratique, form)
        if (
            q.pratique_field != "dateDebutFormationPratique"
            and "dateDebutFormationPratique" in contrat
        ):
            body["contrat"] = _rename(contrat, "dateDebutFormationPratique", q.pratique_field)
    return {"cerfa": body}


def _pratique(cerfa: Cerfa) -> date | None:
    c = cerfa.contrat
    if c is None:
        return None
    if c.dateDebutFormationPratique is not None:
        return c.dateDebutFormationPratique
    raw = (c.model_extra or {}).get("dateFormationPratiqueEmployeur")
    try:
        return parse_wire_date(raw) if raw is not None else None
    except ValueError:
        return None


def _rename(body: Json, old: str, new: str) -> Json:
    return {new if k == old else k: v for k, v in body.items()}


def convention_body(convention: Convention, numero_interne: str) -> Json:
    """``POST /v1/conventions`` (the JSON part)."""
    body = section(convention, ROUTE_DATES["convention"])
    body.pop("numeroInterneDossier", None)
    return {"numeroInterneDossier": convention.numeroInterneDossier or numero_interne, **body}


def certificat_body(certificat: Certificat, numero_interne: str) -> Json:
    """``POST /v2/certificats``."""
    body = section(certificat, ROUTE_DATES["certificat"])
    body["numeroInterneDossier"] = certificat.numeroInterneDossier or numero_interne
    return body


def rupture_body(rupture: Rupture, numero_interne: str) -> Json:
    """``POST /v2/dossiers/rupture/employeur`` (relais's contract, schemas/convergence)."""
    form = ROUTE_DATES["rupture"]
    body: Json = {"numeroInterne": rupture.numeroInterne or numero_interne}
    if rupture.dateRupture is not None:
        body["dateRupture"] = wire_date(rupture.dateRupture, form)
    if rupture.motif is not None:
        body["motif"] = rupture.motif.strip()
    return body


def document_infos(type_fichier: str, numero_dossier: str, numero_facture: str | None) -> Json:
    """``POST /v1/documents``: the ``infosFichier`` part (convergence-api.md 0), the objects the
    file attaches to by their OPCO ids: the dossier's numeroInterne, a facture's
    numeroInterneFacture when the event names one."""
    objets: list[Json] = [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero_dossier}]
    if numero_facture is not None:
        objets.append({"typeObjet": "FACTURE", "idObjet": numero_facture})
    return {"typeFichier": type_fichier, "objets": objets}


def facture_body(facture: Facture, externes: Mapping[str, str]) -> Json:
    """``POST /v1/factures`` in convergence-api.md 0's form (the ``facture`` part of a multipart
    body, or the JSON body where the OPCO takes JSON): ``montantTotal``, ``numero`` (the CFA's
    invoice number), ``dateEmission``, ``ibanEmetteur``, ``siretEmetteur``,
    ``estCertificatRealisation`` (false on échéance 1, true later: the v1 certificat de
    réalisation), ``lignes[{montant, natureLigne, quantite, numeroEcheance, codificationEcheance,
    numeroDossier}]``, ``numeroDossier`` being the dossier's numeroExterne at its OPCO, found in
    ``externes`` by the CFA's dossier id (a line may give it itself)."""
    form = ROUTE_DATES["facture"]
    body: Json = {}
    if facture.montantFacture is not None:
        body["montantTotal"] = facture.montantFacture
    if facture.referenceFactureCFA is not None:
        body["numero"] = facture.referenceFactureCFA.strip()
    if facture.dateFacture is not None:
        body["dateEmission"] = wire_date(facture.dateFacture, form)
    org = facture.organismeFormation
    if org is not None and org.iban_value is not None:
        body["ibanEmetteur"] = _BY_NAME["iban"](org.iban_value)
    if org is not None and org.siret is not None:
        body["siretEmetteur"] = _BY_NAME["siret"](org.siret)
    lines = facture.lignes or facture.dossiers or []
    certificat = facture.estCertificatRealisation
    if certificat is None:
        certificat = any((line.numeroEcheance or 1) > 1 for line in lines)
    body["estCertificatRealisation"] = certificat
    body["lignes"] = [_facture_line(line, externes) for line in lines]
    return body


def _facture_line(line: LigneFacture, externes: Mapping[str, str]) -> Json:
    numero = line.numeroDossier or line.numeroExterneDossier or externes[line.dossierId or ""]
    out: Json = {
        "montant": line.montant,
        "natureLigne": (line.natureLigne or "PEDAGOGIE").strip().upper(),
        "quantite": line.quantite if line.quantite is not None else 1,
        "numeroEcheance": line.numeroEcheance,
        "codificationEcheance": line.codificationEcheance or line.numeroEcheance,
        "numeroDossier": numero.strip(),
    }
    return out


def encode(body: Json) -> bytes:
    """The exact bytes sent: UTF-8, compact, field order kept."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
