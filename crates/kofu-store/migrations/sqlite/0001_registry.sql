-- Registry data (SQLite). Every record keeps its full content as JSON text in `doc`
-- (the domain type, names byte-exact), plus the columns it is found by.
-- Keys and search keys use the default BINARY collation: byte order, as PostgreSQL's "C".
-- No foreign keys between registry tables: the registry is the source of truth and
-- may send records in any order (a seal before its resident, a delete of one only).

CREATE TABLE municipality (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    doc  TEXT NOT NULL
);

CREATE TABLE residents (
    resident_id  TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    reading_key  TEXT NOT NULL,
    alias_key    TEXT,
    birth_date   TEXT NOT NULL,
    address      TEXT NOT NULL,
    status       TEXT NOT NULL,
    doc          TEXT NOT NULL
);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_name_key ON residents (name_key);
CREATE INDEX residents_reading_key ON residents (reading_key);
CREATE INDEX residents_alias_key ON residents (alias_key) WHERE alias_key IS NOT NULL;
CREATE INDEX residents_birth_date ON residents (birth_date);

CREATE TABLE seals (
    resident_id TEXT PRIMARY KEY,
    doc         TEXT NOT NULL
);

CREATE TABLE cards (
    auth_serial TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX cards_resident ON cards (resident_id);

CREATE TABLE koseki (
    koseki_id TEXT PRIMARY KEY,
    honseki   TEXT NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX koseki_honseki ON koseki (honseki);

CREATE TABLE fuhyo (
    koseki_id TEXT NOT NULL,
    member_no INTEGER NOT NULL,
    doc       TEXT NOT NULL,
    PRIMARY KEY (koseki_id, member_no)
);

CREATE TABLE tax (
    resident_id TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (resident_id, fiscal_year)
);

CREATE TABLE support_measures (
    resident_id TEXT PRIMARY KEY,
    doc         TEXT NOT NULL
);

CREATE TABLE suppressions (
    scope TEXT NOT NULL,
    id    TEXT NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (scope, id)
);

-- The last change event acknowledged; one row, NULLs until the first event.
CREATE TABLE feed_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER,
    last_at  TEXT
);
INSERT INTO feed_state (id) VALUES (1);
