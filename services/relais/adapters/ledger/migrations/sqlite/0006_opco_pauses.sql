-- An OPCO paused by an operator (its maintenance window): the claim hands out none of its
-- commands while the pause is active (not resumed, ``until`` not passed), so every replica obeys.
-- One row per OPCO, kept after a resume: ``pause_id`` grows with each new pause, and a command
-- held by a pause gets one "waiting" note per pause (``commands.held_note`` = that pause's id).
CREATE TABLE opco_pauses (
    opco       TEXT PRIMARY KEY,
    pause_id   INTEGER NOT NULL,
    paused_at  TEXT NOT NULL,
    until      TEXT,
    reason     TEXT,
    resumed_at TEXT
) STRICT;

ALTER TABLE commands ADD COLUMN held_note INTEGER;
