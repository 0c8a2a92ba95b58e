-- Staff enrol themselves: an administrator invites a login with a role and gets a
-- one-time code (kept only as its digest); at first login the member of staff sets
-- their own password and gets their own TOTP secret with it, so the administrator
-- never knows either factor. Until then the account has no password and cannot log in.
ALTER TABLE staff ADD COLUMN enrol_code_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN enrol_expires_unix bigint NOT NULL DEFAULT 0;
