"""The 11 OPCO (operateurs de competences) and their stable internal codes."""

from __future__ import annotations

from enum import StrEnum


class OpcoCode(StrEnum):
    AFDAS = "AFDAS"
    AKTO = "AKTO"
    ATLAS = "ATLAS"
    CONSTRUCTYS = "CONSTRUCTYS"
    OPCOMMERCE = "OPCOMMERCE"
    OCAPIAT = "OCAPIAT"
    OPCO2I = "OPCO2I"
    OPCOEP = "OPCOEP"
    MOBILITES = "MOBILITES"
    SANTE = "SANTE"
    UNIFORMATION = "UNIFORMATION"


ALL_OPCO: tuple[OpcoCode, ...] = tuple(OpcoCode)
