-- A command queued behind an older open command of its dossier is "blocked": out of the claim index,
-- so claims never scan a dossier's backlog. accept sets it, complete clears it on the dossier's next
-- command. claim still checks FIFO itself.
ALTER TABLE commands ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));

UPDATE commands SET blocked = 1
WHERE state IN ('pending', 'in_flight')
  AND EXISTS (
    SELECT 1 FROM commands AS o
    WHERE o.cfa = commands.cfa AND o.dossier_id = commands.dossier_id AND o.id < commands.id
      AND o.state IN ('pending', 'in_flight'));

DROP INDEX commands_due;
CREATE INDEX commands_due ON commands (next_attempt_at, id) WHERE state = 'pending' AND blocked = 0;
