-- When a staff account's last failed login happened (Unix seconds; 0: none), so that
-- a lockout ends by time as well as by an administrator: nobody can lock every
-- administrator out for good by guessing wrong.
ALTER TABLE staff ADD COLUMN last_failed_unix bigint NOT NULL DEFAULT 0;
