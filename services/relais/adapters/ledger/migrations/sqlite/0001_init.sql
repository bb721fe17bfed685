-- relais ledger, initial schema (SQLite, STRICT tables).
-- Timestamps are TEXT in one fixed UTC format (YYYY-MM-DDTHH:MM:SS.ffffffZ), so text order is time
-- order; booleans are 0/1; JSON is TEXT. Same tables, keys and indexes as the PostgreSQL schema.

-- Every CFA event id seen, accepted (a command) or rejected (a status only): the idempotency key.
CREATE TABLE inbox (
    event_id    TEXT PRIMARY KEY,
    outcome     TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    received_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- One command per accepted event: what dispatch must do at the OPCO, FIFO per (cfa, dossier_id).
CREATE TABLE commands (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT NOT NULL UNIQUE,
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
    CONSTRAINT commands_lease_check
        CHECK ((state = 'in_flight') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
) STRICT;
-- commands_for (operator view) and the dossier timeline.
CREATE INDEX commands_dossier ON commands (cfa, dossier_id, id);
-- "is there an older open command of this dossier?" (FIFO per dossier, has_open_command).
CREATE INDEX commands_open ON commands (cfa, dossier_id, id)
    WHERE state IN ('pending', 'in_flight');
-- claim: due pending commands in due order.
CREATE INDEX commands_due ON commands (next_attempt_at, id) WHERE state = 'pending';
-- claim: expired leases (crashed workers); release.
CREATE INDEX commands_lease ON commands (locked_until) WHERE state = 'in_flight';

-- The CFA's dossier <-> the OPCO's ids and last known etat.
CREATE TABLE dossiers (
    cfa            TEXT NOT NULL,
    dossier_id     TEXT NOT NULL,
    opco           TEXT NOT NULL,
    numero_interne TEXT,
    numero_externe TEXT,
    etat           TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (cfa, dossier_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX dossiers_numero ON dossiers (opco, numero_interne) WHERE numero_interne IS NOT NULL;

-- The CFA's factures (referenceFactureCFA) <-> the OPCO's numeroInterneFacture and etat.
CREATE TABLE factures (
    cfa                    TEXT NOT NULL,
    reference              TEXT NOT NULL,
    opco                   TEXT NOT NULL,
    numero_interne_facture TEXT,
    etat                   TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    PRIMARY KEY (cfa, reference)
) STRICT, WITHOUT ROWID;
CREATE INDEX factures_numero ON factures (opco, numero_interne_facture)
    WHERE numero_interne_facture IS NOT NULL;

-- Last etat seen at the OPCO per (cfa, opco, kind, numero): the compare-and-set of polling.
CREATE TABLE opco_etats (
    cfa        TEXT NOT NULL,
    opco       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('dossier', 'facture')),
    numero     TEXT NOT NULL,
    etat       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (cfa, opco, kind, numero)
) STRICT, WITHOUT ROWID;

-- Transactional outbox: status events to publish, in seq order; event_id is the stable Kafka ce_id.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT,
    key          TEXT NOT NULL,
    headers      TEXT NOT NULL,
    value        BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
) STRICT;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
