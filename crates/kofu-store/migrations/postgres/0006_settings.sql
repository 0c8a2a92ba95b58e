-- The administration's settings (PostgreSQL). `setting_changes` is a ledger: every
-- change of a setting (fees, kiosk_hours, certifier, seal, terminal:<name>) with its
-- revision (1, 2, … per setting, so two administrators cannot both save over the same
-- one), the whole new value as JSON text, the reason, who and when; the last revision is
-- in force. On a terminal, `replica_settings` holds the server's settings in force as
-- its replica last received them (replaced whole, not a ledger).
CREATE TABLE setting_changes (
    setting  text COLLATE "C" NOT NULL,
    revision bigint NOT NULL,
    value    text COLLATE "C" NOT NULL,
    reason   text COLLATE "C" NOT NULL,
    staff    text COLLATE "C" NOT NULL,
    at       text COLLATE "C" NOT NULL,
    PRIMARY KEY (setting, revision)
);
CREATE TRIGGER setting_changes_append_only BEFORE UPDATE OR DELETE ON setting_changes
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER setting_changes_no_truncate BEFORE TRUNCATE ON setting_changes
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();

CREATE TABLE replica_settings (
    setting  text COLLATE "C" PRIMARY KEY,
    revision bigint NOT NULL,
    value    text COLLATE "C" NOT NULL,
    reason   text COLLATE "C" NOT NULL,
    staff    text COLLATE "C" NOT NULL,
    at       text COLLATE "C" NOT NULL
);
