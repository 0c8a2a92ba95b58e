-- The administration's settings (SQLite). `setting_changes` is a ledger: every change
-- of a setting (fees, kiosk_hours, certifier, seal, terminal:<name>) with its revision
-- (1, 2, … per setting, so two administrators cannot both save over the same one),
-- the whole new value as JSON, the reason, who and when; the last revision is in force.
-- On a terminal, `replica_settings` holds the server's settings in force as its replica
-- last received them (replaced whole, not a ledger: the server's ledger is the record).
CREATE TABLE setting_changes (
    setting  TEXT NOT NULL,
    revision INTEGER NOT NULL,
    value    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    staff    TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (setting, revision)
);
CREATE TRIGGER setting_changes_append_only_u BEFORE UPDATE ON setting_changes
BEGIN SELECT RAISE(ABORT, 'setting_changes is append-only'); END;
CREATE TRIGGER setting_changes_append_only_d BEFORE DELETE ON setting_changes
BEGIN SELECT RAISE(ABORT, 'setting_changes is append-only'); END;

CREATE TABLE replica_settings (
    setting  TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    value    TEXT NOT NULL,
    reason   TEXT NOT NULL,
    staff    TEXT NOT NULL,
    at       TEXT NOT NULL
);
