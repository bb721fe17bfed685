-- Unblock the command queued right after ``after_id`` in its dossier. Called by ``complete`` inside
-- its one statement: being VOLATILE, the function's query takes a fresh snapshot, so it sees a
-- command accepted (and committed) while ``complete`` waited for the lock on ``after_id``'s row.
CREATE FUNCTION relais_unblock_next(p_cfa text, p_dossier_id text, after_id bigint)
RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    unblocked integer;
BEGIN
    UPDATE commands SET blocked = false
    WHERE id = (
        SELECT id FROM commands
        WHERE cfa = p_cfa AND dossier_id = p_dossier_id AND id > after_id
          AND state IN ('pending', 'in_flight')
        ORDER BY id
        LIMIT 1)
      AND blocked;
    GET DIAGNOSTICS unblocked = ROW_COUNT;
    RETURN unblocked;
END;
$$;
