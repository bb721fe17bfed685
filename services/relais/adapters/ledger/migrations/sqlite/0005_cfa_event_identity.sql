-- An event is identified by (CFA, event id): CloudEvents ids are unique per source only, so the
-- same ce_id from two CFAs is two events (one CFA reusing another's id must not make the other's
-- event a duplicate). The inbox key and the commands' uniqueness become (cfa, event_id). A record
-- whose CFA is not established (unknown or forbidden source, bad signature, unreadable envelope) is
-- keyed by its Kafka position ('kafka:<topic>:<partition>:<offset>') with cfa ''.
-- SQLite cannot change a primary key or drop a UNIQUE column constraint: both tables are rebuilt.

-- Existing rows keep answering redeliveries: an accepted event's CFA is its command's; a rejected
-- one keyed by its ce_id had an established CFA, the ce_cfa of its status in the outbox (which is
-- never purged). Rows keyed by a Kafka position keep ''. Stored status ids are not touched.
CREATE TABLE inbox_identity (
    cfa         TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    received_at TEXT NOT NULL,
    PRIMARY KEY (cfa, event_id)
) STRICT, WITHOUT ROWID;

INSERT INTO inbox_identity (cfa, event_id, outcome, received_at)
SELECT coalesce(
           c.cfa,
           CASE WHEN i.outcome = 'rejected' AND i.event_id NOT LIKE 'kafka:%' THEN s.cfa END,
           ''),
       i.event_id, i.outcome, i.received_at
FROM inbox AS i
LEFT JOIN commands AS c ON c.event_id = i.event_id
LEFT JOIN (
    SELECT json_extract(headers, '$.ce_correlationid') AS event_id,
           max(json_extract(headers, '$.ce_cfa')) AS cfa
    FROM outbox
    WHERE json_extract(headers, '$.ce_cfa') IS NOT NULL
    GROUP BY 1
) AS s ON s.event_id = i.event_id;

DROP TABLE inbox;
ALTER TABLE inbox_identity RENAME TO inbox;

CREATE TABLE commands_identity (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL,
    cfa             TEXT NOT NULL,
    dossier_id      TEXT NOT NULL,
    opco            TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('dossier', 'convention', 'facture', 'certificat', 'rupture')),
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
    CONSTRAINT commands_lease_check
        CHECK ((state = 'in_flight') = (locked_by IS NOT NULL AND locked_until IS NOT NULL)),
    CONSTRAINT commands_cfa_event_id_key UNIQUE (cfa, event_id)
) STRICT;

INSERT INTO commands_identity (id, event_id, cfa, dossier_id, opco, kind, payload, depends_on,
                               state, attempts, next_attempt_at, created_at, updated_at,
                               last_error, ambiguous, locked_by, locked_until, blocked)
SELECT id, event_id, cfa, dossier_id, opco, kind, payload, depends_on, state, attempts,
       next_attempt_at, created_at, updated_at, last_error, ambiguous, locked_by, locked_until,
       blocked
FROM commands ORDER BY id;
-- ids are never reused: the new table goes on from the old one's AUTOINCREMENT counter
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'commands'), 0))
WHERE name = 'commands_identity';

DROP TABLE commands;
ALTER TABLE commands_identity RENAME TO commands;

-- the indexes of 0001 and 0002, as they were
CREATE INDEX commands_dossier ON commands (cfa, dossier_id, id);
CREATE INDEX commands_open ON commands (cfa, dossier_id, id)
    WHERE state IN ('pending', 'in_flight');
CREATE INDEX commands_due ON commands (next_attempt_at, id) WHERE state = 'pending' AND blocked = 0;
CREATE INDEX commands_lease ON commands (locked_until) WHERE state = 'in_flight';
