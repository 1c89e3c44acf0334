-- A referral locked for a change and read with its attempts in one round trip (there were two).
-- One query cannot: under READ COMMITTED its snapshot is taken before it waits for the lock, so a
-- change committed meanwhile to the attempts would be missed. In a function the read that follows
-- the lock is a statement of its own, with a snapshot taken after the wait.
CREATE FUNCTION lock_referral(rid uuid)
    RETURNS TABLE (referral referrals, attempts handoff_attempts[])
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM referrals WHERE id = rid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT r, ARRAY(SELECT a FROM handoff_attempts a WHERE a.referral_id = rid ORDER BY a.attempt)
          FROM referrals r
         WHERE r.id = rid;
END;
$$;
