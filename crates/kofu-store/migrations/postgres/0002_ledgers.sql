-- Ledgers of issuance (PostgreSQL): 交付履歴, outcomes and disposals, fees, and the
-- tamper-evident audit log that notarises every ledger row. Ledger tables are
-- append-only: triggers refuse UPDATE and DELETE (grant the server's role only
-- SELECT and INSERT on them as well); a correction is a new row that
-- references the old one. Instants are RFC 3339 text (UTC), compared as text.

-- Bumped by every committed import, so that a use case can tell that the registry
-- data it read is still the data current when it writes.
ALTER TABLE feed_state ADD COLUMN version bigint NOT NULL DEFAULT 0;

-- A random secret of this installation (kiosk member tokens are derived from it).
CREATE TABLE server_secret (
    id     integer PRIMARY KEY CHECK (id = 1),
    secret text COLLATE "C" NOT NULL
);

-- The last serial handed out per day and issue point (not a ledger: a counter,
-- rolled back with the transaction that took a number).
CREATE TABLE number_serials (
    day         text COLLATE "C" NOT NULL,
    point       text COLLATE "C" NOT NULL,
    last_serial bigint NOT NULL,
    PRIMARY KEY (day, point)
);

-- 交付履歴: one row per issuance (one kind, one subject, 1..10 copies).
CREATE TABLE issuances (
    issuance_id  text COLLATE "C" PRIMARY KEY,
    request_id   text COLLATE "C" NOT NULL UNIQUE,
    request_hash text COLLATE "C" NOT NULL,
    channel      text COLLATE "C" NOT NULL,
    point        text COLLATE "C" NOT NULL,
    staff        text COLLATE "C",
    applicant    text COLLATE "C",
    subject_id   text COLLATE "C" NOT NULL,
    kind         text COLLATE "C" NOT NULL,
    items        text COLLATE "C" NOT NULL,
    copies       bigint NOT NULL,
    pages        bigint NOT NULL,
    fee_yen      bigint NOT NULL,
    issued_at    text COLLATE "C" NOT NULL
);
CREATE INDEX issuances_issued_at ON issuances (issued_at);

-- One row per copy: its 発行番号 and the sha256 of its PDF (the PDF is not kept).
CREATE TABLE issued_copies (
    issuance_id  text COLLATE "C" NOT NULL,
    copy         bigint NOT NULL,
    issue_number text COLLATE "C" NOT NULL UNIQUE,
    pages        bigint NOT NULL,
    sha256       text COLLATE "C" NOT NULL,
    PRIMARY KEY (issuance_id, copy)
);

-- What happened to an issuance afterwards: kiosk outcomes, voids (処分情報), flags.
CREATE TABLE issuance_events (
    event_id    text COLLATE "C" PRIMARY KEY,
    issuance_id text COLLATE "C" NOT NULL,
    event       text COLLATE "C" NOT NULL,
    detail      text COLLATE "C" NOT NULL,
    staff       text COLLATE "C",
    at          text COLLATE "C" NOT NULL
);
CREATE INDEX issuance_events_issuance ON issuance_events (issuance_id);

-- Fees: one row per issuance, the kiosk's settled by the store chain.
CREATE TABLE fees (
    fee_id      text COLLATE "C" PRIMARY KEY,
    issuance_id text COLLATE "C" NOT NULL,
    kind        text COLLATE "C" NOT NULL,
    channel     text COLLATE "C" NOT NULL,
    amount_yen  bigint NOT NULL,
    method      text COLLATE "C" NOT NULL,
    exemption   text COLLATE "C",
    receipt_no  text COLLATE "C",
    staff       text COLLATE "C",
    at          text COLLATE "C" NOT NULL
);
CREATE INDEX fees_issuance ON fees (issuance_id);

-- The audit log: a hash chain. `records` lists the ledger rows written with the
-- entry and their digests, so a ledger row altered, removed or slipped in is found.
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        text COLLATE "C" NOT NULL,
    actor     text COLLATE "C" NOT NULL,
    action    text COLLATE "C" NOT NULL,
    target    text COLLATE "C" NOT NULL,
    detail    text COLLATE "C" NOT NULL,
    records   text COLLATE "C" NOT NULL,
    prev_hash text COLLATE "C" NOT NULL,
    hash      text COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION kofu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER issuances_append_only BEFORE UPDATE OR DELETE ON issuances
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER issuances_no_truncate BEFORE TRUNCATE ON issuances
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER issued_copies_append_only BEFORE UPDATE OR DELETE ON issued_copies
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER issued_copies_no_truncate BEFORE TRUNCATE ON issued_copies
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER issuance_events_append_only BEFORE UPDATE OR DELETE ON issuance_events
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER issuance_events_no_truncate BEFORE TRUNCATE ON issuance_events
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER fees_append_only BEFORE UPDATE OR DELETE ON fees
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER fees_no_truncate BEFORE TRUNCATE ON fees
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION kofu_append_only();
