-- The audit chain's head, read after taking the lock that serializes appends to it:
-- one round trip instead of two inside the section every writing use case passes
-- through one at a time. The function is VOLATILE, so under READ COMMITTED its SELECT
-- takes a snapshot after the lock is granted and sees the entry of whoever held it.
-- No entry yet: seq and hash are NULL.
CREATE FUNCTION kofu_audit_lock_head(lock_key bigint, OUT seq bigint, OUT hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT a.seq, a.hash INTO seq, hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
END
$$;
