"""A test double of ingest's control rules: the event contract only, and the OPCO named in the
event, for tests of the pipeline's plumbing (production wires ``DomainRules``)."""

from __future__ import annotations

from datetime import date

from relais.domain.events import CfaEvent, DossierSubmittedData, ErrorItem
from relais.services.ingest import RuleCheck


class ExplicitOpcoRules:
    """No control rules: a dossier goes to the OPCO it names, a follow-up passes."""

    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        if data.opco is None:
            return RuleCheck(
                errors=(
                    ErrorItem(
                        code="ROUTING_NO_OPCO",
                        path="data.opco",
                        message="no competent OPCO could be determined",
                    ),
                )
            )
        return RuleCheck(opco=data.opco)

    def check_followup(self, event: CfaEvent, today: date) -> RuleCheck:
        return RuleCheck()
