-- An outbox row the relay cannot publish (too large for the broker, refused for itself) is set
-- aside instead of blocking every later row: it leaves the queue (published_at = when it left it)
-- with set_aside = why (a reason code); NULL for every row actually published.
ALTER TABLE outbox ADD COLUMN set_aside TEXT;
