-- A command queued behind an older open command of its dossier is "blocked": out of the claim index,
-- so claims never scan a dossier's backlog. accept sets it (under a lock on the dossier's latest open
-- command), complete clears it on the dossier's next command. claim still checks FIFO itself.
ALTER TABLE commands ADD COLUMN blocked boolean NOT NULL DEFAULT false;

UPDATE commands AS c SET blocked = true
WHERE c.state IN ('pending', 'in_flight')
  AND EXISTS (
    SELECT 1 FROM commands AS o
    WHERE o.cfa = c.cfa AND o.dossier_id = c.dossier_id AND o.id < c.id
      AND o.state IN ('pending', 'in_flight'));

DROP INDEX commands_due;
CREATE INDEX commands_due ON commands (next_attempt_at, id) WHERE state = 'pending' AND NOT blocked;
