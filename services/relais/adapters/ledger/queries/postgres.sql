-- The ledger's queries on PostgreSQL (asyncpg: positional parameters $1, $2, ...).
-- See relais.adapters.ledger.postgres for what keeps the promises under concurrency.

-- command_columns --
-- A command row as ``common.Codec.command`` reads it (commands aliased ``c``).
c.id, c.event_id, c.cfa, c.dossier_id, c.opco, c.kind, c.payload::text AS payload, c.depends_on,
c.state, c.attempts, c.created_at, c.next_attempt_at, c.last_error, c.ambiguous

-- dossier_columns --
cfa, dossier_id, opco, numero_interne, numero_externe, etat, updated_at

-- no_older_open --
-- FIFO per dossier: no older open command in the dossier of ``c``.
NOT EXISTS (
            SELECT 1 FROM commands AS o
            WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
              AND o.state IN ('pending', 'in_flight'))

-- not_paused --
-- The OPCO of ``c`` is not paused at $1: no pause of it that is neither resumed nor past its
-- ``until`` (an operator's ``relais opco pause``; every replica's claim obeys it).
NOT EXISTS (
            SELECT 1 FROM opco_pauses AS p
            WHERE p.opco = c.opco AND p.resumed_at IS NULL AND (p.until IS NULL OR p.until > $1))

-- accept --
-- ingest_batch of one Accept: inbox, command, statuses ($9-$13). A command behind an older open
-- command of its dossier is inserted ``blocked``. The latest open command of the dossier is locked
-- first (FOR UPDATE): a concurrent complete of it either waits for this insert (and then unblocks
-- it) or finished first (the lock's re-check then finds the command terminal: not blocked).
WITH inbox_row AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES ($3, $1, 'accepted', $2)
    ON CONFLICT (cfa, event_id) DO NOTHING RETURNING event_id
), last_open AS (
    SELECT id FROM commands
    WHERE cfa = $3 AND dossier_id = $4 AND state IN ('pending', 'in_flight')
    ORDER BY id DESC
    LIMIT 1
    FOR UPDATE
), command_row AS (
    INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on, state,
                          attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)
    SELECT event_id, $3, $4, $5, $6, $7::jsonb, $8::text[], 'pending', 0, $2, $2, $2, false,
           EXISTS (SELECT 1 FROM last_open)
    FROM inbox_row
    RETURNING id
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $2
    FROM inbox_row,
         unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[])
         WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)
    ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*) FROM inbox_row

-- reject --
-- ingest_batch of one Reject: inbox and statuses ($3-$7); cfa $8 ('' when not established).
WITH inbox_row AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES ($8, $1, 'rejected', $2)
    ON CONFLICT (cfa, event_id) DO NOTHING RETURNING event_id
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $2
    FROM inbox_row,
         unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[])
         WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)
    ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*) FROM inbox_row

-- ingest_batch --
-- Every entry of a Kafka poll in ONE statement, as if accept/reject ran one by one in entry order.
-- Entries come as parallel arrays (ord = position), statuses as parallel arrays with the position
-- of their entry. ``first_seen``: a (cfa, event id) repeated in the batch counts once, at its first
-- position (cfa '' for a record whose CFA is not established); the inbox insert then says which are
-- new. A command is blocked if its dossier has an open command in the ledger (locked as in
-- ``accept``, dossiers in a fixed order so two batches never deadlock on each other) or an earlier
-- new command in the batch (nth > 1), since the statement's snapshot does not see its own inserts.
-- Rows are inserted in entry order (ids and seqs follow it). Returns the positions of the entries
-- that were new.
WITH entry AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::text[])
        WITH ORDINALITY AS e(event_id, outcome, cfa, dossier_id, opco, kind, payload, depends_on,
                             ord)
), first_seen AS (
    SELECT DISTINCT ON (cfa, event_id) cfa, event_id, ord FROM entry ORDER BY cfa, event_id, ord
), inbox_rows AS (
    INSERT INTO inbox (cfa, event_id, outcome, received_at)
    SELECT f.cfa, f.event_id, e.outcome, $1 FROM first_seen AS f JOIN entry AS e USING (ord)
    ORDER BY f.cfa, f.event_id
    ON CONFLICT (cfa, event_id) DO NOTHING
    RETURNING cfa, event_id
), fresh AS MATERIALIZED (
    SELECT e.* FROM entry AS e JOIN first_seen AS f USING (ord) JOIN inbox_rows AS i
        ON i.cfa = f.cfa AND i.event_id = f.event_id
), accepted AS MATERIALIZED (
    SELECT *, row_number() OVER (PARTITION BY cfa, dossier_id ORDER BY ord) AS nth
    FROM fresh WHERE outcome = 'accepted'
), open_dossier AS MATERIALIZED (
    SELECT d.cfa, d.dossier_id
    FROM (SELECT DISTINCT cfa, dossier_id FROM accepted ORDER BY cfa, dossier_id) AS d
    CROSS JOIN LATERAL (
        SELECT c.id FROM commands AS c
        WHERE c.cfa = d.cfa AND c.dossier_id = d.dossier_id AND c.state IN ('pending', 'in_flight')
        ORDER BY c.id DESC
        LIMIT 1
        FOR UPDATE
    ) AS last_open
), command_rows AS (
    INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on, state,
                          attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)
    SELECT a.event_id, a.cfa, a.dossier_id, a.opco, a.kind, a.payload::jsonb,
           ARRAY(SELECT jsonb_array_elements_text(a.depends_on::jsonb)), 'pending', 0, $1, $1, $1,
           false,
           a.nth > 1 OR EXISTS (SELECT 1 FROM open_dossier AS o
                                WHERE o.cfa = a.cfa AND o.dossier_id = a.dossier_id)
    FROM accepted AS a
    ORDER BY a.ord
    RETURNING id
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $1
    FROM unnest($10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::bytea[])
        WITH ORDINALITY AS s(entry, event_id, topic, key, headers, value, ord)
    JOIN fresh ON fresh.ord = s.entry
    ORDER BY s.ord
    ON CONFLICT (event_id) DO NOTHING
)
SELECT ord FROM fresh

-- claim --
-- Candidates: the oldest open command of a dossier, due (pending) or abandoned (expired lease),
-- none of an excluded OPCO ($5) nor of a paused one. SKIP LOCKED: several dispatchers split the
-- due commands.
WITH expired AS (
    SELECT c.id FROM commands AS c
    WHERE c.state = 'in_flight' AND c.locked_until <= $1 AND c.opco <> ALL($5::text[])
      AND {no_older_open} AND {not_paused}
    ORDER BY c.locked_until
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT c.id FROM commands AS c
    WHERE c.state = 'pending' AND NOT c.blocked AND c.next_attempt_at <= $1
      AND c.opco <> ALL($5::text[]) AND {no_older_open} AND {not_paused}
    ORDER BY c.next_attempt_at, c.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $2
)
UPDATE commands AS c SET
    ambiguous = c.ambiguous OR c.state = 'in_flight',
    state = 'in_flight', locked_by = $3, locked_until = $4, updated_at = $1
FROM picked WHERE c.id = picked.id
RETURNING {command_columns}

-- complete --
-- The lease check, the dossier/facture rows (ids and etats, keeping known values), the known etats
-- for polling, the statuses ($15-$19), and the dossier's next command unblocked; one statement.
-- Each CTE reads the previous one's RETURNING, so nothing is written when ``cmd`` (the lease check)
-- returns no row. The dossiers row is written when the completion carries dossier facts ($9: ids
-- or an etat) or the command created the dossier. relais_unblock_next (migration 0003) is VOLATILE:
-- its query takes a fresh snapshot, after ``cmd`` got the row lock, so it sees a command accepted
-- meanwhile.
WITH cmd AS (
    UPDATE commands SET state = $3, last_error = $4, locked_by = NULL, locked_until = NULL,
                        updated_at = $2
    WHERE id = $1 AND locked_by = $5 AND state = 'in_flight'
    RETURNING cfa, dossier_id, opco, kind, state
), dossier AS (
    INSERT INTO dossiers (cfa, dossier_id, opco, numero_interne, numero_externe, etat,
                          created_at, updated_at)
    SELECT cfa, dossier_id, opco, $6, $7, $8, $2, $2 FROM cmd
    WHERE $9 OR (cmd.kind = 'dossier' AND cmd.state = 'done')
    ON CONFLICT (cfa, dossier_id) DO UPDATE SET
        opco = EXCLUDED.opco,
        numero_interne = coalesce(EXCLUDED.numero_interne, dossiers.numero_interne),
        numero_externe = coalesce(EXCLUDED.numero_externe, dossiers.numero_externe),
        etat = coalesce(EXCLUDED.etat, dossiers.etat),
        updated_at = EXCLUDED.updated_at
    RETURNING cfa, opco, numero_interne, etat
), dossier_etat AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    SELECT cfa, opco, 'dossier', numero_interne, etat, $2 FROM dossier
    WHERE $8::text IS NOT NULL AND numero_interne IS NOT NULL
    ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
), facture AS (
    INSERT INTO factures (cfa, reference, opco, numero_interne_facture, etat, dossier_id,
                          created_at, updated_at)
    SELECT $10, $11, $12, $13, $14, cmd.dossier_id, $2, $2 FROM cmd WHERE $10::text IS NOT NULL
    ON CONFLICT (cfa, reference) DO UPDATE SET
        opco = EXCLUDED.opco,
        dossier_id = coalesce(factures.dossier_id, EXCLUDED.dossier_id),
        numero_interne_facture =
            coalesce(EXCLUDED.numero_interne_facture, factures.numero_interne_facture),
        etat = coalesce(EXCLUDED.etat, factures.etat),
        updated_at = EXCLUDED.updated_at
    RETURNING cfa, opco, numero_interne_facture, etat
), facture_etat AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    SELECT cfa, opco, 'facture', numero_interne_facture, etat, $2 FROM facture
    WHERE $14::text IS NOT NULL AND numero_interne_facture IS NOT NULL
    ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $2
    FROM cmd,
         unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[])
         WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)
    ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING
)
SELECT relais_unblock_next(cfa, dossier_id, $1) FROM cmd

-- reschedule --
-- Back to pending for a later attempt, under the lease check; statuses $8-$12.
WITH cmd AS (
    UPDATE commands SET state = 'pending', next_attempt_at = $3, attempts = attempts + $4,
                        last_error = $5, ambiguous = $6, locked_by = NULL, locked_until = NULL,
                        updated_at = $2
    WHERE id = $1 AND locked_by = $7 AND state = 'in_flight'
    RETURNING id
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $2
    FROM cmd,
         unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[])
         WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)
    ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*) FROM cmd

-- release --
UPDATE commands SET state = 'pending', locked_by = NULL, locked_until = NULL, updated_at = $1
WHERE locked_by = $2 AND state = 'in_flight'

-- record_etat --
-- The compare-and-set, then (only when it changed) the linked row and the statuses ($7-$11).
WITH changed AS (
    INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at)
    VALUES ($2, $3, $4, $5, $6, $1) ON CONFLICT (cfa, opco, kind, numero)
    DO UPDATE SET etat = EXCLUDED.etat, updated_at = EXCLUDED.updated_at
    WHERE opco_etats.etat IS DISTINCT FROM EXCLUDED.etat
    RETURNING kind
), dossier AS (
    UPDATE dossiers SET etat = $6, updated_at = $1 FROM changed
    WHERE changed.kind = 'dossier' AND dossiers.opco = $3 AND dossiers.numero_interne = $5
      AND dossiers.cfa = $2
), facture AS (
    UPDATE factures SET etat = $6, updated_at = $1 FROM changed
    WHERE changed.kind = 'facture' AND factures.opco = $3
      AND factures.numero_interne_facture = $5 AND factures.cfa = $2
), outbox_rows AS (
    INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
    SELECT s.event_id, s.topic, s.key, s.headers::jsonb, s.value, $1
    FROM changed,
         unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::bytea[])
         WITH ORDINALITY AS s(event_id, topic, key, headers, value, ord)
    ORDER BY s.ord ON CONFLICT (event_id) DO NOTHING
)
SELECT count(*) FROM changed

-- dossier --
SELECT {dossier_columns} FROM dossiers WHERE cfa = $1 AND dossier_id = $2

-- dossier_by_numero --
SELECT {dossier_columns} FROM dossiers WHERE opco = $1 AND numero_interne = $2
ORDER BY updated_at DESC LIMIT 1

-- has_open_command --
SELECT EXISTS (SELECT 1 FROM commands WHERE cfa = $1 AND dossier_id = $2
               AND state IN ('pending', 'in_flight'))

-- facture --
SELECT cfa, reference, opco, numero_interne_facture, etat, dossier_id FROM factures
WHERE cfa = $1 AND reference = $2

-- commands_for --
SELECT {command_columns} FROM commands AS c WHERE c.cfa = $1 AND c.dossier_id = $2 ORDER BY c.id

-- outbox_batch --
SELECT seq, event_id, topic, key, headers::text AS headers, value FROM outbox
WHERE published_at IS NULL ORDER BY seq LIMIT $1

-- republish --
-- Resent events (cfa $1[i], event id $2[i]) answered with the status they already have: each one's
-- latest status row ($3: the etat_changed type left aside) goes back in the queue (published_at
-- NULL) under its own id and seq; a row not yet published or set aside is left as it is.
UPDATE outbox SET published_at = NULL
WHERE seq IN (
    SELECT (SELECT o.seq FROM outbox AS o
            WHERE coalesce(o.headers ->> 'ce_cfa', '') = e.cfa
              AND o.headers ->> 'ce_correlationid' = e.event_id
              AND o.headers ->> 'ce_type' <> $3
            ORDER BY o.seq DESC LIMIT 1)
    FROM unnest($1::text[], $2::text[]) AS e(cfa, event_id)
) AND published_at IS NOT NULL AND set_aside IS NULL
RETURNING seq

-- mark_published --
UPDATE outbox SET published_at = $1 WHERE seq = ANY($2::bigint[]) AND published_at IS NULL

-- set_aside --
UPDATE outbox SET published_at = $1, set_aside = $2 WHERE seq = $3 AND published_at IS NULL

-- counts --
-- One statement (one snapshot): commands by state, and the unpublished outbox rows as 'outbox'.
SELECT state AS name, count(*) AS n FROM commands GROUP BY state
UNION ALL SELECT 'outbox', count(*) FROM outbox WHERE published_at IS NULL

-- pause_columns --
opco, pause_id, paused_at, until, reason, resumed_at

-- pause_opco --
-- $1 opco, $2 now, $3 until, $4 reason. A new pause (a new pause_id: held commands get a new
-- note), or the active one changed (its until and reason; same pause_id and paused_at).
INSERT INTO opco_pauses AS p (opco, pause_id, paused_at, until, reason) VALUES ($1, 1, $2, $3, $4)
ON CONFLICT (opco) DO UPDATE SET
    pause_id = CASE WHEN {pause_active} THEN p.pause_id ELSE p.pause_id + 1 END,
    paused_at = CASE WHEN {pause_active} THEN p.paused_at ELSE excluded.paused_at END,
    until = excluded.until, reason = excluded.reason, resumed_at = NULL
RETURNING {pause_columns}

-- pause_active --
-- The pause ``p`` holds at $2.
(p.resumed_at IS NULL AND (p.until IS NULL OR p.until > $2))

-- resume_opco --
-- $1 opco, $2 now. One row (the pause's until: was it still active?) if a pause was not resumed
-- yet.
UPDATE opco_pauses SET resumed_at = $2 WHERE opco = $1 AND resumed_at IS NULL
RETURNING until

-- opco_pauses --
SELECT {pause_columns} FROM opco_pauses ORDER BY opco

-- held_commands --
-- $1 now, $2 limit. Pending commands of an OPCO paused at $1 that have not had the note of that
-- pause yet, oldest first.
SELECT {command_columns}, p.pause_id, p.until AS paused_until
FROM commands AS c JOIN opco_pauses AS p ON p.opco = c.opco
WHERE c.state = 'pending' AND p.resumed_at IS NULL AND (p.until IS NULL OR p.until > $1)
  AND c.held_note IS DISTINCT FROM p.pause_id
ORDER BY c.id
LIMIT $2

-- note_held --
-- $1 command id, $2 pause id. The compare-and-set of a held command's note: no row, it has had
-- this pause's note already (or left pending), and ``note_held_outbox`` is not run.
UPDATE commands SET held_note = $2
WHERE id = $1 AND state = 'pending' AND held_note IS DISTINCT FROM $2
RETURNING id

-- note_held_outbox --
INSERT INTO outbox (event_id, topic, key, headers, value, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5, $6)
ON CONFLICT (event_id) DO NOTHING
RETURNING seq

-- ping --
SELECT 1

-- migration_lock --
-- Serializes concurrent ``migrate()`` calls until the transaction ends ($1: the lock key).
SELECT pg_advisory_xact_lock($1)

-- create_schema_migrations --
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL)

-- schema_migrations_exists --
SELECT to_regclass('schema_migrations') IS NOT NULL

-- applied_migrations --
SELECT version, checksum FROM schema_migrations

-- record_migration --
INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)
