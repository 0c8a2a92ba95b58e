-- Staff accounts and their sessions (PostgreSQL). These are state, not ledgers: a row
-- changes when a password is set, a login fails or a session is used. Every change
-- is recorded in the audit log by the use case that makes it.

-- One personal account per member of staff (no shared accounts, DOMAIN.md §6).
CREATE TABLE staff (
    login           text COLLATE "C" PRIMARY KEY,
    role            text COLLATE "C" NOT NULL,
    -- Argon2id, PHC string format (algorithm, parameters and salt included).
    password_hash   text COLLATE "C" NOT NULL,
    -- The TOTP secret (RFC 6238), base32.
    totp_secret     text COLLATE "C" NOT NULL,
    -- The last TOTP time step accepted, so that a code is never accepted twice.
    last_totp_step  bigint NOT NULL DEFAULT 0,
    -- Consecutive failed logins; the account is locked at 5.
    failed_attempts bigint NOT NULL DEFAULT 0,
    active          bigint NOT NULL DEFAULT 1,
    created_at      text COLLATE "C" NOT NULL
);

-- Sessions: only the sha256 of the bearer token is kept. Instants are Unix seconds
-- so that the idle check is an integer comparison on both backends.
CREATE TABLE staff_sessions (
    token_sha256   text COLLATE "C" PRIMARY KEY,
    login          text COLLATE "C" NOT NULL REFERENCES staff (login),
    started_unix   bigint NOT NULL,
    last_seen_unix bigint NOT NULL,
    ended          bigint NOT NULL DEFAULT 0
);
CREATE INDEX staff_sessions_login ON staff_sessions (login);
