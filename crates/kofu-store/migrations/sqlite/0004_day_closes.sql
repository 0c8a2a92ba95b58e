-- The seal of a counter day (日計・締め, SQLite): the totals by payment method, the
-- cash counted, the difference, the supervisor who signed it off and the audit chain
-- head at that moment. A ledger: one row per day, append-only.
CREATE TABLE day_closes (
    day              TEXT PRIMARY KEY,
    totals           TEXT NOT NULL,
    counted_cash_yen INTEGER NOT NULL,
    difference_yen   INTEGER NOT NULL,
    supervisor       TEXT NOT NULL,
    audit_head       TEXT NOT NULL,
    at               TEXT NOT NULL
);
CREATE TRIGGER day_closes_append_only_u BEFORE UPDATE ON day_closes
BEGIN SELECT RAISE(ABORT, 'day_closes is append-only'); END;
CREATE TRIGGER day_closes_append_only_d BEFORE DELETE ON day_closes
BEGIN SELECT RAISE(ABORT, 'day_closes is append-only'); END;
