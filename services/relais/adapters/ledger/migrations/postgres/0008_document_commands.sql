-- Documents (issue 18): a fr.cfa.document.submitted.v1 event is a command of kind 'document',
-- queued in its dossier like every follow-up.
ALTER TABLE commands DROP CONSTRAINT commands_kind_check;
ALTER TABLE commands ADD CONSTRAINT commands_kind_check
    CHECK (kind IN ('dossier', 'convention', 'facture', 'certificat', 'rupture', 'document'));
