-- The ledger's queries on SQLite (sqlite3: positional ``?`` or named ``:name`` parameters).
-- Every method runs its statements in one transaction on the worker thread (see ``sqlite.py``).

-- command_columns --
-- A command row as ``common.Codec.command`` reads it.
id, event_id, cfa, dossier_id, opco, kind, payload, depends_on, state, attempts, created_at,
next_attempt_at, last_error, ambiguous

-- dossier_columns --
cfa, dossier_id, opco, numero_interne, numero_externe, etat, updated_at

-- no_older_open --
-- FIFO per dossier: no older open command in the dossier of ``c``.
NOT EXISTS (
            SELECT 1 FROM commands AS o
            WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
              AND o.state IN ('pending', 'in_flight'))

-- not_paused --
-- The OPCO of ``c`` is not paused at :now: no pause of it that is neither resumed nor past its
-- ``until`` (an operator's ``relais opco pause``; every replica's claim obeys it).
NOT EXISTS (
            SELECT 1 FROM opco_pauses AS p
            WHERE p.opco = c.opco AND p.resumed_at IS NULL
              AND (p.until IS NULL OR p.until > :now))

-- insert_inbox --
-- The inbox key is (cfa, event_id); cfa '' for a record whose CFA is not established.
INSERT INTO inbox (cfa, event_id, outcome, received_at) VALUES (?, ?, ?, ?)
ON CONFLICT (cfa, event_id) DO NOTHING

-- insert_command --
-- blocked: behind an older open command of its dossier (FIFO; claim skips it until complete
-- unblocks it). Earlier commands of the same batch are rows of this transaction: seen here.
INSERT INTO commands (event_id, cfa, dossier_id, opco, kind, payload, depends_on,
                      state, attempts, next_attempt_at, created_at, updated_at, ambiguous, blocked)
VALUES (:event_id, :cfa, :dossier_id, :opco, :kind, :payload, :depends_on, 'pending', 0,
        :now, :now, :now, 0, EXISTS (
            SELECT 1 FROM commands WHERE cfa = :cfa AND dossier_id = :dossier_id
            AND state IN ('pending', 'in_flight')))

-- insert_outbox --
INSERT INTO outbox (event_id, topic, key, headers, value, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (event_id) DO NOTHING

-- claim --
-- The oldest open command of each dossier, when due: pending and due, or in flight under an
-- expired lease (its worker crashed); none of an excluded OPCO nor of a paused one.
UPDATE commands SET
    ambiguous = CASE WHEN state = 'in_flight' THEN 1 ELSE ambiguous END,
    state = 'in_flight', locked_by = :worker, locked_until = :until, updated_at = :now
WHERE id IN (
    SELECT id FROM (
        SELECT c.id, c.next_attempt_at AS due FROM commands AS c
        WHERE c.state = 'pending' AND c.blocked = 0 AND c.next_attempt_at <= :now
          AND c.opco NOT IN (SELECT value FROM json_each(:exclude))
          AND {no_older_open} AND {not_paused}
        ORDER BY c.next_attempt_at, c.id LIMIT :limit)
    UNION ALL
    SELECT id FROM (
        SELECT c.id, c.locked_until AS due FROM commands AS c
        WHERE c.state = 'in_flight' AND c.locked_until <= :now
          AND c.opco NOT IN (SELECT value FROM json_each(:exclude))
          AND {no_older_open} AND {not_paused}
        ORDER BY c.locked_until LIMIT :limit)
    LIMIT :limit)
RETURNING {command_columns}

-- complete_command --
-- The lease check: no row, nothing else is written.
UPDATE commands SET state = ?, last_error = ?, locked_by = NULL, locked_until = NULL,
                    updated_at = ?
WHERE id = ? AND locked_by = ? AND state = 'in_flight'
RETURNING cfa, dossier_id, opco, kind

-- complete_dossier --
-- The dossiers row (ids and etat, keeping known values), written when the completion carries
-- dossier facts (:facts: ids or an etat) or the command created the dossier.
INSERT INTO dossiers (cfa, dossier_id, opco, numero_interne, numero_externe, etat,
                      created_at, updated_at)
SELECT :cfa, :dossier_id, :opco, :numero_interne, :numero_externe, :etat, :now, :now
WHERE :facts OR (:kind = 'dossier' AND :state = 'done')
ON CONFLICT (cfa, dossier_id) DO UPDATE SET opco = excluded.opco,
    numero_interne = coalesce(excluded.numero_interne, numero_interne),
    numero_externe = coalesce(excluded.numero_externe, numero_externe),
    etat = coalesce(excluded.etat, etat), updated_at = excluded.updated_at
RETURNING numero_interne, etat

-- complete_facture --
INSERT INTO factures (cfa, reference, opco, numero_interne_facture, etat, dossier_id, created_at,
                      updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (cfa, reference) DO UPDATE SET opco = excluded.opco,
    dossier_id = coalesce(dossier_id, excluded.dossier_id),
    numero_interne_facture = coalesce(excluded.numero_interne_facture, numero_interne_facture),
    etat = coalesce(excluded.etat, etat), updated_at = excluded.updated_at
RETURNING numero_interne_facture, etat

-- seed_etat --
-- What the OPCO told us at submission is the known etat: polling reports only later changes.
INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (cfa, opco, kind, numero)
DO UPDATE SET etat = excluded.etat, updated_at = excluded.updated_at

-- unblock_next --
-- The dossier's next command is its head now: claimable.
UPDATE commands SET blocked = 0
WHERE id = (
    SELECT id FROM commands
    WHERE cfa = ? AND dossier_id = ? AND state IN ('pending', 'in_flight')
    ORDER BY id
    LIMIT 1)
  AND blocked = 1

-- reschedule --
UPDATE commands SET state = 'pending', next_attempt_at = ?, attempts = attempts + ?,
                    last_error = ?, ambiguous = ?, locked_by = NULL, locked_until = NULL,
                    updated_at = ?
WHERE id = ? AND locked_by = ? AND state = 'in_flight'

-- release --
UPDATE commands SET state = 'pending', locked_by = NULL, locked_until = NULL, updated_at = ?
WHERE locked_by = ? AND state = 'in_flight'

-- record_etat --
-- The compare-and-set: no row changed, nothing else is written.
INSERT INTO opco_etats (cfa, opco, kind, numero, etat, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (cfa, opco, kind, numero)
DO UPDATE SET etat = excluded.etat, updated_at = excluded.updated_at
WHERE etat IS NOT excluded.etat

-- record_dossier_etat --
UPDATE dossiers SET etat = ?, updated_at = ? WHERE opco = ? AND numero_interne = ? AND cfa = ?

-- record_facture_etat --
UPDATE factures SET etat = ?, updated_at = ?
WHERE opco = ? AND numero_interne_facture = ? AND cfa = ?

-- dossier --
SELECT {dossier_columns} FROM dossiers WHERE cfa = ? AND dossier_id = ?

-- dossier_by_numero --
SELECT {dossier_columns} FROM dossiers WHERE opco = ? AND numero_interne = ?
ORDER BY updated_at DESC LIMIT 1

-- has_open_command --
SELECT EXISTS (SELECT 1 FROM commands WHERE cfa = ? AND dossier_id = ?
               AND state IN ('pending', 'in_flight'))

-- facture --
SELECT cfa, reference, opco, numero_interne_facture, etat, dossier_id FROM factures
WHERE cfa = ? AND reference = ?

-- commands_for --
SELECT {command_columns} FROM commands WHERE cfa = ? AND dossier_id = ? ORDER BY id

-- outbox_batch --
SELECT seq, event_id, topic, key, headers, value FROM outbox
WHERE published_at IS NULL ORDER BY seq LIMIT ?

-- republish --
-- A resent event (cfa, event id) answered with the status it already has: its latest status row
-- (the etat_changed type, third parameter, left aside) goes back in the queue (published_at NULL)
-- under its own id and seq; a row not yet published or set aside is left as it is.
UPDATE outbox SET published_at = NULL
WHERE seq = (SELECT o.seq FROM outbox AS o
             WHERE coalesce(json_extract(o.headers, '$.ce_cfa'), '') = ?
               AND json_extract(o.headers, '$.ce_correlationid') = ?
               AND json_extract(o.headers, '$.ce_type') <> ?
             ORDER BY o.seq DESC LIMIT 1)
  AND published_at IS NOT NULL AND set_aside IS NULL

-- mark_published --
UPDATE outbox SET published_at = ? WHERE seq = ? AND published_at IS NULL

-- set_aside --
UPDATE outbox SET published_at = ?, set_aside = ? WHERE seq = ? AND published_at IS NULL

-- counts --
-- One statement (one snapshot): commands by state, and the unpublished outbox rows as 'outbox'.
SELECT state AS name, count(*) AS n FROM commands GROUP BY state
UNION ALL SELECT 'outbox', count(*) FROM outbox WHERE published_at IS NULL

-- pause_columns --
opco, pause_id, paused_at, until, reason, resumed_at

-- pause_opco --
-- ?1 opco, ?2 now, ?3 until, ?4 reason. A new pause (a new pause_id: held commands get a new
-- note), or the active one changed (its until and reason; same pause_id and paused_at).
INSERT INTO opco_pauses AS p (opco, pause_id, paused_at, until, reason) VALUES (?1, 1, ?2, ?3, ?4)
ON CONFLICT (opco) DO UPDATE SET
    pause_id = CASE WHEN {pause_active} THEN p.pause_id ELSE p.pause_id + 1 END,
    paused_at = CASE WHEN {pause_active} THEN p.paused_at ELSE excluded.paused_at END,
    until = excluded.until, reason = excluded.reason, resumed_at = NULL
RETURNING {pause_columns}

-- pause_active --
-- The pause ``p`` holds at ?2.
(p.resumed_at IS NULL AND (p.until IS NULL OR p.until > ?2))

-- resume_opco --
-- ?1 opco, ?2 now. One row (the pause's until: was it still active?) if a pause was not resumed
-- yet.
UPDATE opco_pauses SET resumed_at = ?2 WHERE opco = ?1 AND resumed_at IS NULL
RETURNING until

-- opco_pauses --
SELECT {pause_columns} FROM opco_pauses ORDER BY opco

-- held_commands --
-- ?1 now, ?2 limit. Pending commands of an OPCO paused at ?1 that have not had the note of that
-- pause yet, oldest first.
SELECT {command_columns}, pause_id, paused_until FROM (
    SELECT c.*, p.pause_id, p.until AS paused_until
    FROM commands AS c JOIN opco_pauses AS p ON p.opco = c.opco
    WHERE c.state = 'pending' AND p.resumed_at IS NULL AND (p.until IS NULL OR p.until > ?1)
      AND c.held_note IS NOT p.pause_id)
ORDER BY id
LIMIT ?2

-- note_held --
-- ?1 command id, ?2 pause id. The compare-and-set of a held command's note: no row, it has had
-- this pause's note already (or left pending), and ``note_held_outbox`` is not run.
UPDATE commands SET held_note = ?2
WHERE id = ?1 AND state = 'pending' AND held_note IS NOT ?2
RETURNING id

-- note_held_outbox --
INSERT INTO outbox (event_id, topic, key, headers, value, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (event_id) DO NOTHING
RETURNING seq

-- ping --
SELECT 1

-- create_schema_migrations --
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL) STRICT

-- schema_migrations_exists --
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'

-- applied_migrations --
SELECT version, checksum FROM schema_migrations

-- record_migration --
INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)
