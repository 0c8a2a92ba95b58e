-- Offline operation (SQLite). On the server: the log of change events applied (for
-- the terminals' replicas and for checking offline issuances afterwards), the 発行番号
-- ranges reserved for terminals, the terminals' own audit chains as uploaded, and the
-- flags on offline issuances whose subject's data changed meanwhile. On a terminal:
-- how far its chain was uploaded and when its replica was last current.

-- Bumped by every import that loads full records (not change events): a replica
-- that loaded an earlier generation cannot catch up from the change log alone.
ALTER TABLE feed_state ADD COLUMN loads INTEGER NOT NULL DEFAULT 0;

-- Every change event applied, in seq order, as its feed line; `registry_change_refs`
-- lists the IDs each one concerns (resident, household, 戸籍, suppression scope ID).
CREATE TABLE registry_changes (
    seq  INTEGER PRIMARY KEY,
    at   TEXT NOT NULL,
    line TEXT NOT NULL
);
CREATE TABLE registry_change_refs (
    ref TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (ref, seq)
);

-- Ledger: serial ranges reserved for a terminal's offline issuances (never reused).
CREATE TABLE offline_ranges (
    first_serial INTEGER PRIMARY KEY,
    last_serial  INTEGER NOT NULL,
    terminal     TEXT NOT NULL,
    staff        TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX offline_ranges_terminal ON offline_ranges (terminal);

-- Ledger: a terminal's audit chain, entry by entry as uploaded (its hash chain is
-- verified on arrival; the server's own chain notarises each accepted entry).
CREATE TABLE terminal_audit (
    terminal    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    records     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (terminal, seq)
);

-- Ledger: an offline issuance whose subject's registry data changed after the
-- replica's last event, for the supervisor; and the supervisor's resolution.
CREATE TABLE offline_flags (
    flag_id     TEXT PRIMARY KEY,
    terminal    TEXT NOT NULL,
    issuance_id TEXT NOT NULL UNIQUE,
    subject_id  TEXT NOT NULL,
    staff       TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    replica_seq INTEGER,
    changes     TEXT NOT NULL,
    raised_at   TEXT NOT NULL
);
CREATE TABLE offline_flag_resolutions (
    flag_id    TEXT PRIMARY KEY,
    resolution TEXT NOT NULL,
    note       TEXT NOT NULL,
    supervisor TEXT NOT NULL,
    at         TEXT NOT NULL
);

-- Terminal only: the last of its audit entries the server acknowledged, and when
-- its replica was last confirmed current by the server (both one row).
CREATE TABLE terminal_sync (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    acknowledged    INTEGER NOT NULL,
    replica_loads   INTEGER,
    replica_current TEXT
);
INSERT INTO terminal_sync (id, acknowledged) VALUES (1, 0);

-- Terminal only: the 発行番号 serial ranges the server reserved for it.
CREATE TABLE terminal_ranges (
    first_serial INTEGER PRIMARY KEY,
    last_serial  INTEGER NOT NULL
);

CREATE TRIGGER offline_ranges_append_only_u BEFORE UPDATE ON offline_ranges
BEGIN SELECT RAISE(ABORT, 'offline_ranges is append-only'); END;
CREATE TRIGGER offline_ranges_append_only_d BEFORE DELETE ON offline_ranges
BEGIN SELECT RAISE(ABORT, 'offline_ranges is append-only'); END;
CREATE TRIGGER terminal_audit_append_only_u BEFORE UPDATE ON terminal_audit
BEGIN SELECT RAISE(ABORT, 'terminal_audit is append-only'); END;
CREATE TRIGGER terminal_audit_append_only_d BEFORE DELETE ON terminal_audit
BEGIN SELECT RAISE(ABORT, 'terminal_audit is append-only'); END;
CREATE TRIGGER offline_flags_append_only_u BEFORE UPDATE ON offline_flags
BEGIN SELECT RAISE(ABORT, 'offline_flags is append-only'); END;
CREATE TRIGGER offline_flags_append_only_d BEFORE DELETE ON offline_flags
BEGIN SELECT RAISE(ABORT, 'offline_flags is append-only'); END;
CREATE TRIGGER offline_flag_resolutions_append_only_u BEFORE UPDATE ON offline_flag_resolutions
BEGIN SELECT RAISE(ABORT, 'offline_flag_resolutions is append-only'); END;
CREATE TRIGGER offline_flag_resolutions_append_only_d BEFORE DELETE ON offline_flag_resolutions
BEGIN SELECT RAISE(ABORT, 'offline_flag_resolutions is append-only'); END;
