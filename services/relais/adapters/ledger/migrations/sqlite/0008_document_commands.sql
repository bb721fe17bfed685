-- Documents (issue 18): a fr.cfa.document.submitted.v1 event is a command of kind 'document',
-- queued in its dossier like every follow-up. SQLite cannot change a CHECK: the table is rebuilt
-- (same columns, same ids, the AUTOINCREMENT counter carried on), then its indexes as they were.
CREATE TABLE commands_kinds (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL,
    cfa             TEXT NOT NULL,
    dossier_id      TEXT NOT NULL,
    opco            TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('dossier', 'convention', 'facture', 'certificat', 'rupture', 'document')),
    payload         TEXT NOT NULL,
    depends_on      TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    last_error      TEXT,
    ambiguous       INTEGER NOT NULL DEFAULT 0 CHECK (ambiguous IN (0, 1)),
    locked_by       TEXT,
    locked_until    TEXT,
    blocked         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    held_note       INTEGER,
    CONSTRAINT commands_lease_check
        CHECK ((state = 'in_flight') = (locked_by IS NOT NULL AND locked_until IS NOT NULL)),
    CONSTRAINT commands_cfa_event_id_key UNIQUE (cfa, event_id)
) STRICT;

INSERT INTO commands_kinds (id, event_id, cfa, dossier_id, opco, kind, payload, depends_on,
                            state, attempts, next_attempt_at, created_at, updated_at,
                            last_error, ambiguous, locked_by, locked_until, blocked, held_note)
SELECT id, event_id, cfa, dossier_id, opco, kind, payload, depends_on, state, attempts,
       next_attempt_at, created_at, updated_at, last_error, ambiguous, locked_by, locked_until,
       blocked, held_note
FROM commands ORDER BY id;
-- ids are never reused: the new table goes on from the old one's AUTOINCREMENT counter (even when
-- the table is empty now)
INSERT INTO sqlite_sequence (name, seq)
SELECT 'commands_kinds', 0
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'commands_kinds');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'commands'), 0))
WHERE name = 'commands_kinds';

DROP TABLE commands;
ALTER TABLE commands_kinds RENAME TO commands;

CREATE INDEX commands_dossier ON commands (cfa, dossier_id, id);
CREATE INDEX commands_due ON commands (next_attempt_at, id) WHERE state = 'pending' AND blocked = 0;
CREATE INDEX commands_lease ON commands (locked_until) WHERE state = 'in_flight';
CREATE INDEX commands_open ON commands (cfa, dossier_id, id) WHERE state IN ('pending', 'in_flight');
