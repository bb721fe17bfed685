"""The dossier and facture state machines."""

from __future__ import annotations

import pytest

from relais_simulator.states import (
    DOSSIER_TRANSITIONS,
    DossierEtat,
    FactureEtat,
    TransitionError,
    dossier_transition,
    facture_transition,
    is_final,
)

ALLOWED = {
    (DossierEtat.TRANSMIS, DossierEtat.EN_COURS_INSTRUCTION),
    (DossierEtat.TRANSMIS, DossierEtat.ANNULE),
    (DossierEtat.EN_COURS_INSTRUCTION, DossierEtat.ENGAGE),
    (DossierEtat.EN_COURS_INSTRUCTION, DossierEtat.REFUSE),
    (DossierEtat.EN_COURS_INSTRUCTION, DossierEtat.ANNULE),
    (DossierEtat.ENGAGE, DossierEtat.RUPTURE),
    (DossierEtat.ENGAGE, DossierEtat.SOLDE),
}


@pytest.mark.parametrize("current", list(DossierEtat))
@pytest.mark.parametrize("target", list(DossierEtat))
def test_dossier_transitions_are_exactly_the_documented_ones(
    current: DossierEtat, target: DossierEtat
) -> None:
    if (current, target) in ALLOWED:
        assert dossier_transition(current, target) is target
    else:
        with pytest.raises(TransitionError):
            dossier_transition(current, target)


def test_final_dossier_states() -> None:
    finals = {e for e in DossierEtat if is_final(e)}
    assert finals == {
        DossierEtat.REFUSE,
        DossierEtat.ANNULE,
        DossierEtat.RUPTURE,
        DossierEtat.SOLDE,
    }
    assert set(DOSSIER_TRANSITIONS) == set(DossierEtat)


def test_facture_goes_transmis_instruction_then_regle_or_refuse() -> None:
    etat = facture_transition(FactureEtat.TRANSMIS, FactureEtat.EN_COURS_INSTRUCTION)
    assert facture_transition(etat, FactureEtat.REGLE) is FactureEtat.REGLE
    assert facture_transition(etat, FactureEtat.REFUSE) is FactureEtat.REFUSE
    with pytest.raises(TransitionError):
        facture_transition(FactureEtat.TRANSMIS, FactureEtat.REGLE)
    with pytest.raises(TransitionError):
        facture_transition(FactureEtat.REGLE, FactureEtat.EN_COURS_INSTRUCTION)
