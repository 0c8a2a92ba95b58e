-- Audit entries committed by use cases and not yet chained. A use case's transaction
-- inserts its entry here instead of taking the lock that serializes the chain, so
-- concurrent use cases (on one server or several) no longer wait for each other's
-- commit. A sealer chains committed entries into audit_log in batches, under the
-- advisory lock, and deletes them here in the same transaction; every reader of the
-- audit log seals first. Entries are never changed here: only inserted, then moved.
CREATE TABLE audit_pending (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      text COLLATE "C" NOT NULL,
    actor   text COLLATE "C" NOT NULL,
    action  text COLLATE "C" NOT NULL,
    target  text COLLATE "C" NOT NULL,
    detail  text COLLATE "C" NOT NULL,
    records text COLLATE "C" NOT NULL
);
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
