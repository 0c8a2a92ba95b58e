-- The seal of a counter day (日計・締め, PostgreSQL): the totals by payment method, the
-- cash counted, the difference, the supervisor who signed it off and the audit chain
-- head at that moment. A ledger: one row per day, append-only.
CREATE TABLE day_closes (
    day              text COLLATE "C" PRIMARY KEY,
    totals           text COLLATE "C" NOT NULL,
    counted_cash_yen bigint NOT NULL,
    difference_yen   bigint NOT NULL,
    supervisor       text COLLATE "C" NOT NULL,
    audit_head       text COLLATE "C" NOT NULL,
    at               text COLLATE "C" NOT NULL
);
CREATE TRIGGER day_closes_append_only BEFORE UPDATE OR DELETE ON day_closes
    FOR EACH ROW EXECUTE FUNCTION kofu_append_only();
