-- Registry data (PostgreSQL). Every record keeps its full content as JSON *text* in
-- `doc` (not jsonb: jsonb reorders object keys, and the order of tax breakdowns and
-- 戸籍 details is meaningful), plus the columns it is found by.
-- Keys and search keys use COLLATE "C" (byte order, as SQLite's BINARY), so prefix
-- ranges use the indexes and results sort the same on both backends.
-- No foreign keys between registry tables: the registry is the source of truth and
-- may send records in any order (a seal before its resident, a delete of one only).

CREATE TABLE municipality (
    id   integer PRIMARY KEY CHECK (id = 1),
    code text NOT NULL,
    doc  text NOT NULL
);

CREATE TABLE residents (
    resident_id  text COLLATE "C" PRIMARY KEY,
    household_id text COLLATE "C" NOT NULL,
    name_key     text COLLATE "C" NOT NULL,
    reading_key  text COLLATE "C" NOT NULL,
    alias_key    text COLLATE "C",
    birth_date   date NOT NULL,
    address      text NOT NULL,
    status       text NOT NULL,
    doc          text NOT NULL
);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_name_key ON residents (name_key);
CREATE INDEX residents_reading_key ON residents (reading_key);
CREATE INDEX residents_alias_key ON residents (alias_key) WHERE alias_key IS NOT NULL;
CREATE INDEX residents_birth_date ON residents (birth_date);

CREATE TABLE seals (
    resident_id text COLLATE "C" PRIMARY KEY,
    doc         text NOT NULL
);

CREATE TABLE cards (
    auth_serial text COLLATE "C" PRIMARY KEY,
    resident_id text COLLATE "C" NOT NULL,
    doc         text NOT NULL
);
CREATE INDEX cards_resident ON cards (resident_id);

CREATE TABLE koseki (
    koseki_id text COLLATE "C" PRIMARY KEY,
    honseki   text COLLATE "C" NOT NULL,
    doc       text NOT NULL
);
CREATE INDEX koseki_honseki ON koseki (honseki);

CREATE TABLE fuhyo (
    koseki_id text COLLATE "C" NOT NULL,
    member_no integer NOT NULL,
    doc       text NOT NULL,
    PRIMARY KEY (koseki_id, member_no)
);

CREATE TABLE tax (
    resident_id text COLLATE "C" NOT NULL,
    fiscal_year integer NOT NULL,
    doc         text NOT NULL,
    PRIMARY KEY (resident_id, fiscal_year)
);

CREATE TABLE support_measures (
    resident_id text COLLATE "C" PRIMARY KEY,
    doc         text NOT NULL
);

CREATE TABLE suppressions (
    scope text COLLATE "C" NOT NULL,
    id    text COLLATE "C" NOT NULL,
    doc   text NOT NULL,
    PRIMARY KEY (scope, id)
);

-- The last change event acknowledged; one row, NULLs until the first event.
CREATE TABLE feed_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    last_seq bigint,
    last_at  timestamptz
);
INSERT INTO feed_state (id) VALUES (1);
