-- Counter terminals with an identity of their own. An administrator enrols a terminal
-- by name (a one-time code, kept only as its digest); the terminal then registers the
-- public half of a key pair it made itself, and signs its offline requests (replica,
-- kit, upload) with the private half, which never leaves it. State, not a ledger:
-- every change is recorded in the audit log by the use case that makes it.
CREATE TABLE terminal_identities (
    name              TEXT PRIMARY KEY,
    -- pending (enrolled, not yet registered), active or revoked.
    state             TEXT NOT NULL,
    -- sha256 of the one-time enrolment code; empty once it has been used.
    code_sha256       TEXT NOT NULL,
    code_expires_unix INTEGER NOT NULL,
    -- The terminal's Ed25519 public key (hex); empty until it registers.
    public_key        TEXT NOT NULL DEFAULT '',
    -- Random, new at each enrolment: the replica key is derived from it and the
    -- server's secret, so a re-enrolled terminal gets a new one.
    key_id            TEXT NOT NULL,
    enrolled_by       TEXT NOT NULL,
    enrolled_at       TEXT NOT NULL,
    registered_at     TEXT NOT NULL DEFAULT '',
    revoked_at        TEXT NOT NULL DEFAULT ''
);
