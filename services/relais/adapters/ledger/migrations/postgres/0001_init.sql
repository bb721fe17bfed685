-- relais ledger, initial schema (PostgreSQL).
-- Timestamps are timestamptz (UTC on the wire); ids are identities, so their order is insertion order.

-- Every CFA event id seen, accepted (a command) or rejected (a status only): the idempotency key.
CREATE TABLE inbox (
    event_id    text PRIMARY KEY,
    outcome     text NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    received_at timestamptz NOT NULL
);

-- One command per accepted event: what dispatch must do at the OPCO, FIFO per (cfa, dossier_id).
CREATE TABLE commands (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        text NOT NULL UNIQUE,
    cfa             text NOT NULL,
    dossier_id      text NOT NULL,
    opco            text NOT NULL,
    kind            text NOT NULL
        CHECK (kind IN ('dossier', 'convention', 'facture', 'certificat', 'rupture')),
    payload         jsonb NOT NULL,
    depends_on      text[] NOT NULL DEFAULT '{}',
    state           text NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_error      text,
    ambiguous       boolean NOT NULL DEFAULT false,
    locked_by       text,
    locked_until    timestamptz,
    CONSTRAINT commands_lease_check
        CHECK ((state = 'in_flight') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
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
    cfa            text NOT NULL,
    dossier_id     text NOT NULL,
    opco           text NOT NULL,
    numero_interne text,
    numero_externe text,
    etat           text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (cfa, dossier_id)
);
CREATE INDEX dossiers_numero ON dossiers (opco, numero_interne) WHERE numero_interne IS NOT NULL;

-- The CFA's factures (referenceFactureCFA) <-> the OPCO's numeroInterneFacture and etat.
CREATE TABLE factures (
    cfa                    text NOT NULL,
    reference              text NOT NULL,
    opco                   text NOT NULL,
    numero_interne_facture text,
    etat                   text,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    PRIMARY KEY (cfa, reference)
);
CREATE INDEX factures_numero ON factures (opco, numero_interne_facture)
    WHERE numero_interne_facture IS NOT NULL;

-- Last etat seen at the OPCO per (cfa, opco, kind, numero): the compare-and-set of polling.
CREATE TABLE opco_etats (
    cfa        text NOT NULL,
    opco       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('dossier', 'facture')),
    numero     text NOT NULL,
    etat       text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (cfa, opco, kind, numero)
);

-- Transactional outbox: status events to publish, in seq order; event_id is the stable Kafka ce_id.
CREATE TABLE outbox (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text NOT NULL UNIQUE,
    topic        text,
    key          text NOT NULL,
    headers      jsonb NOT NULL,
    value        bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
