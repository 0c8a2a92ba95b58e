-- Ledgers of issuance (SQLite): 交付履歴, outcomes and disposals, fees, and the
-- tamper-evident audit log that notarises every ledger row. Ledger tables are
-- append-only: triggers refuse UPDATE and DELETE; a correction is a new row that
-- references the old one. Instants are RFC 3339 text (UTC), compared as text.

-- Bumped by every committed import, so that a use case can tell that the registry
-- data it read is still the data current when it writes.
ALTER TABLE feed_state ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- A random secret of this installation (kiosk member tokens are derived from it).
CREATE TABLE server_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);

-- The last serial handed out per day and issue point (not a ledger: a counter,
-- rolled back with the transaction that took a number).
CREATE TABLE number_serials (
    day         TEXT NOT NULL,
    point       TEXT NOT NULL,
    last_serial INTEGER NOT NULL,
    PRIMARY KEY (day, point)
);

-- 交付履歴: one row per issuance (one kind, one subject, 1..10 copies).
CREATE TABLE issuances (
    issuance_id  TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    channel      TEXT NOT NULL,
    point        TEXT NOT NULL,
    staff        TEXT,
    applicant    TEXT,
    subject_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    items        TEXT NOT NULL,
    copies       INTEGER NOT NULL,
    pages        INTEGER NOT NULL,
    fee_yen      INTEGER NOT NULL,
    issued_at    TEXT NOT NULL
);
CREATE INDEX issuances_issued_at ON issuances (issued_at);

-- One row per copy: its 発行番号 and the sha256 of its PDF (the PDF is not kept).
CREATE TABLE issued_copies (
    issuance_id  TEXT NOT NULL,
    copy         INTEGER NOT NULL,
    issue_number TEXT NOT NULL UNIQUE,
    pages        INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (issuance_id, copy)
);

-- What happened to an issuance afterwards: kiosk outcomes, voids (処分情報), flags.
CREATE TABLE issuance_events (
    event_id    TEXT PRIMARY KEY,
    issuance_id TEXT NOT NULL,
    event       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    staff       TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX issuance_events_issuance ON issuance_events (issuance_id);

-- Fees: one row per issuance, the kiosk's settled by the store chain.
CREATE TABLE fees (
    fee_id      TEXT PRIMARY KEY,
    issuance_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    amount_yen  INTEGER NOT NULL,
    method      TEXT NOT NULL,
    exemption   TEXT,
    receipt_no  TEXT,
    staff       TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX fees_issuance ON fees (issuance_id);

-- The audit log: a hash chain. `records` lists the ledger rows written with the
-- entry and their digests, so a ledger row altered, removed or slipped in is found.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    records   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER issuances_append_only_u BEFORE UPDATE ON issuances
BEGIN SELECT RAISE(ABORT, 'issuances is append-only'); END;
CREATE TRIGGER issuances_append_only_d BEFORE DELETE ON issuances
BEGIN SELECT RAISE(ABORT, 'issuances is append-only'); END;
CREATE TRIGGER issued_copies_append_only_u BEFORE UPDATE ON issued_copies
BEGIN SELECT RAISE(ABORT, 'issued_copies is append-only'); END;
CREATE TRIGGER issued_copies_append_only_d BEFORE DELETE ON issued_copies
BEGIN SELECT RAISE(ABORT, 'issued_copies is append-only'); END;
CREATE TRIGGER issuance_events_append_only_u BEFORE UPDATE ON issuance_events
BEGIN SELECT RAISE(ABORT, 'issuance_events is append-only'); END;
CREATE TRIGGER issuance_events_append_only_d BEFORE DELETE ON issuance_events
BEGIN SELECT RAISE(ABORT, 'issuance_events is append-only'); END;
CREATE TRIGGER fees_append_only_u BEFORE UPDATE ON fees
BEGIN SELECT RAISE(ABORT, 'fees is append-only'); END;
CREATE TRIGGER fees_append_only_d BEFORE DELETE ON fees
BEGIN SELECT RAISE(ABORT, 'fees is append-only'); END;
CREATE TRIGGER audit_log_append_only_u BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_d BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
