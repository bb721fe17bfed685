-- The status contract (issue 16):
-- 1. A facture's etat_changed is keyed by the CFA's dossier id: a facture row keeps the dossier id
--    of the event that submitted it (its ce_subject). Existing rows take it from their command.
ALTER TABLE factures ADD COLUMN dossier_id text;
UPDATE factures AS f SET dossier_id = c.dossier_id
FROM commands AS c
WHERE c.cfa = f.cfa AND c.kind = 'facture' AND c.state = 'done' AND c.opco = f.opco
  AND c.payload -> 'data' -> 'facture' ->> 'referenceFactureCFA' = f.reference;

-- 2. A resent event id (same CFA, same ce_id) is answered with the status it already has: the
--    statuses of an event are found by (ce_cfa, ce_correlationid) of their headers ('' for a
--    record named by its Kafka position, which has no ce_cfa).
CREATE INDEX outbox_event ON outbox
    ((coalesce(headers ->> 'ce_cfa', '')), (headers ->> 'ce_correlationid'), seq);
