-- Offline operation (PostgreSQL). On the server: the log of change events applied (for
-- the terminals' replicas and for checking offline issuances afterwards), the 発行番号
-- ranges reserved for terminals, the terminals' own audit chains as uploaded, and the
-- flags on offline issuances whose subject's data changed meanwhile. On a terminal:
-- how far its chain was uploaded and when its replica was last current.

-- Bumped by every import that loads full records (not change events): a replica
-- that loaded an earlier generation cannot catch up from the change log alone.
ALTER TABLE feed_state ADD COLUMN loads bigint NOT NULL DEFAULT 0;

-- Every change event applied, in seq order, as its feed line; `registry_change_refs`
-- lists the IDs each one concerns (resident, household, 戸籍, suppression scope ID).
CREATE TABLE registry_changes (
    seq  bigint PRIMARY KEY,
    at   text COLLATE "C" NOT NULL,
    line text COLLATE "C" NOT NULL
);
CREATE TABLE registry_change_refs (
    ref text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (ref, seq)
);

-- Ledger: serial ranges reserved for a terminal's offline issuances (never reused).
CREATE TABLE offline_ranges (
    first_serial bigint PRIMARY KEY,
    last_serial  bigint NOT NULL,
    terminal     text COLLATE "C" NOT NULL,
    staff        text COLLATE "C" NOT NULL,
    at           text COLLATE "C" NOT NULL
);
CREATE INDEX offline_ranges_terminal ON offline_ranges (terminal);

-- Ledger: a terminal's audit chain, entry by entry as uploaded (its hash chain is
-- verified on arrival; the server's own chain notarises each accepted entry).
CREATE TABLE terminal_audit (
    terminal    text COLLATE "C" NOT NULL,
    seq         bigint NOT NULL,
    at          text COLLATE "C" NOT NULL,
    actor       text COLLATE "C" NOT NULL,
    action      text COLLATE "C" NOT NULL,
    target      text COLLATE "C" NOT NULL,
    detail      text COLLATE "C" NOT NULL,
    records     text COLLATE "C" NOT NULL,
    prev_hash   text COLLATE "C" NOT NULL,
    hash        text COLLATE "C" NOT NULL,
    received_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (terminal, seq)
);

-- Ledger: an offline issuance whose subject's registry data changed after the
-- replica's last event, for the supervisor; and the supervisor's resolution.
CREATE TABLE offline_flags (
    flag_id     text COLLATE "C" PRIMARY KEY,
    terminal    text COLLATE "C" NOT NULL,
    issuance_id text COLLATE "C" NOT NULL UNIQUE,
    subject_id  text COLLATE "C" NOT NULL,
    staff       text COLLATE "C" NOT NULL,
    issued_at   text COLLATE "C" NOT NULL,
    replica_seq bigint,
    changes     text COLLATE "C" NOT NULL,
    raised_at   text COLLATE "C" NOT NULL
);
CREATE TABLE offline_flag_resolutions (
    flag_id    text COLLATE "C" PRIMARY KEY,
    resolution text COLLATE "C" NOT NULL,
    note       text COLLATE "C" NOT NULL,
    supervisor text COLLATE "C" NOT NULL,
    at         text COLLATE "C" NOT NULL
);

-- Terminal only: the last of its audit entries the server acknowledged, and when
-- its replica was last confirmed current by the server (both one row).
CREATE TABLE terminal_sync (
    id              integer PRIMARY KEY CHECK (id = 1),
    acknowledged    bigint NOT NULL,
    replica_loads   bigint,
    replica_current text COLLATE "C"
);
INSERT INTO terminal_sync (id, acknowledged) VALUES (1, 0);

-- Terminal only: the 発行番号 serial ranges the server reserved for it.
CREATE TABLE terminal_ranges (
    first_serial bigint PRIMARY KEY,
    last_serial  bigint NOT NULL
);

CREATE TRIGGER offline_ranges_append_only BEFORE UPDATE OR DELETE ON offline_ranges
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER offline_ranges_no_truncate BEFORE TRUNCATE ON offline_ranges
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER terminal_audit_append_only BEFORE UPDATE OR DELETE ON terminal_audit
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER terminal_audit_no_truncate BEFORE TRUNCATE ON terminal_audit
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER offline_flags_append_only BEFORE UPDATE OR DELETE ON offline_flags
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER offline_flags_no_truncate BEFORE TRUNCATE ON offline_flags
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER offline_flag_resolutions_append_only BEFORE UPDATE OR DELETE ON offline_flag_resolutions
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER offline_flag_resolutions_no_truncate BEFORE TRUNCATE ON offline_flag_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
