"""Realistic, deterministic sample data for the demo, the tests and the benchmark."""

from relais.sampledata.generator import Cfa, GeneratedDossier, Generator, InvalidDossier
from relais.sampledata.invalid import Breakage, InvalidKind

__all__ = ["Breakage", "Cfa", "GeneratedDossier", "Generator", "InvalidDossier", "InvalidKind"]
