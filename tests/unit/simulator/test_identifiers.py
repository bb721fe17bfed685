"""Ids minted in the shape of an OPCO's profile (convergence-api.md 0), checked by the profile."""

from __future__ import annotations

import pytest

from relais.domain.profiles import IdentifierFormats, load_profiles
from relais.domain.referentials import referential
from relais_simulator.identifiers import IdMinter, mint

PROFILES = load_profiles(referential("opco-profiles.json"))


def test_mint_fills_digits_and_letters() -> None:
    assert mint("####@@######", 42, "AKTO") == "0000AK000042"
    assert mint("@@-#######-#", 1234, "MOBILITES") == "MO-0000123-4"
    assert mint("#######", 12, "x") == "0000012"


@pytest.mark.parametrize("code", ["AKTO", "ATLAS", "MOBILITES", "OPCOEP"])
def test_each_profile_checks_the_ids_its_simulator_issues(code: str) -> None:
    profile = PROFILES[code]  # type: ignore[index]
    ids = IdMinter(profile.identifiers, code)
    for n in (1, 9_999, 1_234_567):
        interne, externe = ids.numero_interne(n), ids.numero_externe(n, 2026)
        assert not profile.identifiers.mismatch("numero_interne", interne), interne
        assert not profile.identifiers.mismatch("numero_externe", externe), externe
        facture = ids.numero_interne_facture(n)
        assert not profile.identifiers.mismatch("numero_interne_facture", facture), facture
    assert profile.identifiers.mismatch("numero_interne", "000000000001")


def test_mobilites_test_host_gives_the_same_id_twice() -> None:
    ids = IdMinter(PROFILES["MOBILITES"].identifiers, "MOBILITES")  # type: ignore[index]
    assert ids.numero_interne(7) == ids.numero_externe(7, 2026)


def test_an_opco_without_known_shapes_keeps_the_older_ones() -> None:
    ids = IdMinter(IdentifierFormats(), "OCAPIAT")
    assert ids.numero_interne(5) == "000000000005"
    assert ids.numero_externe(5, 2026) == "OCA-2026-00000005"
    assert ids.numero_interne_facture(5) == "F00000000005"
    assert not IdentifierFormats().mismatch("numero_interne", "anything")


def test_a_mobilites_dossier_gets_its_deca_number_at_the_engagement() -> None:
    """The DECA number is built from the dossier's digits: a MOBILITES id has letters too."""
    from datetime import date

    from relais.sampledata import Generator
    from relais_simulator.cerfa_facts import read_facts
    from relais_simulator.engagement import numero_deca
    from relais_simulator.model import Dossier

    cerfa = Generator(1, date(2026, 11, 27)).dossier("MOBILITES").cerfa
    d = Dossier(
        numero_interne="MO-0000042-7",
        numero_externe="MO-0000042-7",
        cfa_siret="73282932000074",
        natural_key="k",
        raw=b"{}",
        facts=read_facts(cerfa),
        created_day=0.0,
        version="v1",
    )
    assert len(numero_deca(d, date(2026, 11, 27))) == 15


def test_document_ids_follow_a_template_when_a_profile_gives_one() -> None:
    assert IdMinter(IdentifierFormats(), "AKTO").numero_interne_document(5) == "D00000000005"
    shaped = IdentifierFormats(numero_interne_document="DOC-#######")
    document = IdMinter(shaped, "AKTO").numero_interne_document(42)
    assert document == "DOC-0000042"
    assert not shaped.mismatch("numero_interne_document", document)
