//! Staff accounts and sessions: state rows, not ledgers.
//!
//! Every change to a staff row (enrolment, a failed or successful login, a session
//! started or ended) is written through a [`LedgerTx`], so that it commits together
//! with the audit entry that records it, or not at all. Only using a session (its idle
//! clock) is written outside one: it changes no right and is not an event to review.

use sqlx::Row as _;

use crate::ledger::{LedgerTx, on_tx};
use crate::{Store, StoreError};

/// A staff account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// The personal login.
    pub login: String,
    /// The role's code (`clerk`, `supervisor`, `support_officer`, `admin`).
    pub role: String,
    /// Argon2id hash in PHC string format.
    pub password_hash: String,
    /// TOTP secret, base32.
    pub totp_secret: String,
    /// The last TOTP time step accepted (0: none yet).
    pub last_totp_step: i64,
    /// Consecutive failed logins.
    pub failed_attempts: i64,
    /// When the last of them happened (Unix seconds; 0: never): a lockout ends a
    /// while after it.
    pub last_failed_unix: i64,
    /// Whether the account may log in at all.
    pub active: bool,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
}

impl std::fmt::Debug for StaffRow {
    // The hash and the TOTP secret never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffRow")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("failed_attempts", &self.failed_attempts)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A session as stored, with its staff member's role and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// Whose session.
    pub login: String,
    /// Their role's code.
    pub role: String,
    /// Whether their account is still active.
    pub active: bool,
    /// When the session was last used (Unix seconds).
    pub last_seen_unix: i64,
    /// When it started (Unix seconds).
    pub started_unix: i64,
}

type StaffTuple = (String, String, String, String, i64, i64, i64, String, i64);

fn staff_row(t: StaffTuple) -> StaffRow {
    StaffRow {
        login: t.0,
        role: t.1,
        password_hash: t.2,
        totp_secret: t.3,
        last_totp_step: t.4,
        failed_attempts: t.5,
        active: t.6 != 0,
        created_at: t.7,
        last_failed_unix: t.8,
    }
}

impl LedgerTx {
    /// Adds a staff account; a login already taken is a unique violation.
    pub async fn insert_staff(&mut self, row: &StaffRow) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO staff (login, role, password_hash, totp_secret, \
            last_totp_step, failed_attempts, active, created_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL)
                .bind(&row.login)
                .bind(&row.role)
                .bind(&row.password_hash)
                .bind(&row.totp_secret)
                .bind(row.last_totp_step)
                .bind(row.failed_attempts)
                .bind(i64::from(row.active))
                .bind(&row.created_at)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// The staff account `login`, locked for this transaction on PostgreSQL (SQLite's
    /// write transaction holds the whole database), so that concurrent attempts on one
    /// account count one after the other.
    pub async fn staff_for_update(&mut self, login: &str) -> Result<Option<StaffRow>, StoreError> {
        const SQLITE: &str = "SELECT login, role, password_hash, totp_secret, last_totp_step, \
            failed_attempts, active, created_at, last_failed_unix FROM staff WHERE login = $1";
        const PG: &str = "SELECT login, role, password_hash, totp_secret, last_totp_step, \
            failed_attempts, active, created_at, last_failed_unix FROM staff WHERE login = $1 FOR UPDATE";
        let row: Option<StaffTuple> = match &mut self.tx {
            crate::ledger::Tx::Sqlite(t) => {
                sqlx::query_as(SQLITE)
                    .bind(login)
                    .fetch_optional(&mut **t)
                    .await?
            }
            crate::ledger::Tx::Postgres(t) => {
                sqlx::query_as(PG)
                    .bind(login)
                    .fetch_optional(&mut **t)
                    .await?
            }
        };
        Ok(row.map(staff_row))
    }

    /// Records the result of a login attempt on an account.
    pub async fn set_login_state(
        &mut self,
        login: &str,
        failed_attempts: i64,
        last_totp_step: i64,
        last_failed_unix: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE staff SET failed_attempts = $1, last_totp_step = $2, \
            last_failed_unix = $3 WHERE login = $4";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL)
                .bind(failed_attempts)
                .bind(last_totp_step)
                .bind(last_failed_unix)
                .bind(login)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Starts a session, keyed by the sha256 of its token.
    pub async fn start_session(
        &mut self,
        token_sha256: &str,
        login: &str,
        now_unix: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO staff_sessions \
            (token_sha256, login, started_unix, last_seen_unix, ended) VALUES ($1, $2, $3, $3, 0)";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL)
                .bind(token_sha256)
                .bind(login)
                .bind(now_unix)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Opens or closes an account for login; closing it ends its open sessions.
    pub async fn set_staff_active(&mut self, login: &str, active: bool) -> Result<(), StoreError> {
        const ACTIVE: &str = "UPDATE staff SET active = $1 WHERE login = $2";
        const END: &str = "UPDATE staff_sessions SET ended = 1 WHERE login = $1 AND ended = 0";
        on_tx!(self.tx, conn => {
            sqlx::query(ACTIVE)
                .bind(i64::from(active))
                .bind(login)
                .execute(&mut *conn)
                .await?;
            if !active {
                sqlx::query(END).bind(login).execute(conn).await?;
            }
        });
        Ok(())
    }

    /// Replaces an account's password hash and ends its other sessions (`keep`: the
    /// digest of the session that changed it).
    pub async fn set_password(
        &mut self,
        login: &str,
        password_hash: &str,
        keep: &str,
    ) -> Result<(), StoreError> {
        const HASH: &str = "UPDATE staff SET password_hash = $1 WHERE login = $2";
        const END: &str = "UPDATE staff_sessions SET ended = 1 \
            WHERE login = $1 AND ended = 0 AND token_sha256 <> $2";
        on_tx!(self.tx, conn => {
            sqlx::query(HASH)
                .bind(password_hash)
                .bind(login)
                .execute(&mut *conn)
                .await?;
            sqlx::query(END).bind(login).bind(keep).execute(conn).await?;
        });
        Ok(())
    }

    /// Invites a member of staff: an account with a role and no password yet, which
    /// only the one-time code (its sha256 here) can complete; a login already taken is
    /// a unique violation.
    pub async fn invite_staff(
        &mut self,
        login: &str,
        role: &str,
        code_sha256: &str,
        expires_unix: i64,
        created_at: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO staff (login, role, password_hash, totp_secret, \
            last_totp_step, failed_attempts, active, created_at, enrol_code_sha256, \
            enrol_expires_unix) VALUES ($1, $2, '', '', 0, 0, 1, $3, $4, $5)";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL)
                .bind(login)
                .bind(role)
                .bind(created_at)
                .bind(code_sha256)
                .bind(expires_unix)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// The enrolment code's digest and expiry of an invited account (inside this
    /// transaction, after [`LedgerTx::staff_for_update`] locked the row).
    pub async fn staff_enrolment(
        &mut self,
        login: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        const SQL: &str =
            "SELECT enrol_code_sha256, enrol_expires_unix FROM staff WHERE login = $1";
        let row: Option<(String, i64)> = on_tx!(self.tx, conn => {
            sqlx::query_as(SQL).bind(login).fetch_optional(conn).await?
        });
        Ok(row)
    }

    /// Completes an invited account with the password and TOTP secret its owner set;
    /// the code is used up.
    pub async fn complete_enrolment(
        &mut self,
        login: &str,
        password_hash: &str,
        totp_secret: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE staff SET password_hash = $1, totp_secret = $2, \
            enrol_code_sha256 = '', enrol_expires_unix = 0, failed_attempts = 0 WHERE login = $3";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL)
                .bind(password_hash)
                .bind(totp_secret)
                .bind(login)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Ends a session; whether it was open.
    pub async fn end_session(&mut self, token_sha256: &str) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE staff_sessions SET ended = 1 WHERE token_sha256 = $1 AND ended = 0";
        let done = on_tx!(self.tx, conn => {
            sqlx::query(SQL).bind(token_sha256).execute(conn).await?.rows_affected()
        });
        Ok(done > 0)
    }
}

impl Store {
    /// The staff account `login`, if any.
    pub async fn staff(&self, login: &str) -> Result<Option<StaffRow>, StoreError> {
        const SQL: &str = "SELECT login, role, password_hash, totp_secret, last_totp_step, \
            failed_attempts, active, created_at, last_failed_unix FROM staff WHERE login = $1";
        let row: Option<StaffTuple> = on_pool!(self, pool => {
            sqlx::query_as(SQL).bind(login).fetch_optional(pool).await?
        });
        Ok(row.map(staff_row))
    }

    /// Every staff account, by login.
    pub async fn staff_list(&self) -> Result<Vec<StaffRow>, StoreError> {
        const SQL: &str = "SELECT login, role, password_hash, totp_secret, last_totp_step, \
            failed_attempts, active, created_at, last_failed_unix FROM staff ORDER BY login";
        let rows: Vec<StaffTuple> = on_pool!(self, pool => {
            sqlx::query_as(SQL).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(staff_row).collect())
    }

    /// The open session with this token digest, with its staff member's role.
    pub async fn session(&self, token_sha256: &str) -> Result<Option<SessionRow>, StoreError> {
        const SQL: &str = "SELECT s.login, st.role, st.active, s.last_seen_unix, s.started_unix \
            FROM staff_sessions s JOIN staff st ON st.login = s.login \
            WHERE s.token_sha256 = $1 AND s.ended = 0";
        let row = on_pool!(self, pool => {
            sqlx::query(SQL).bind(token_sha256).fetch_optional(pool).await?
                .map(|r| -> Result<SessionRow, sqlx::Error> {
                    Ok(SessionRow {
                        login: r.try_get(0)?,
                        role: r.try_get(1)?,
                        active: r.try_get::<i64, _>(2)? != 0,
                        last_seen_unix: r.try_get(3)?,
                        started_unix: r.try_get(4)?,
                    })
                })
                .transpose()?
        });
        Ok(row)
    }

    /// Moves a session's idle clock to `now_unix`.
    pub async fn touch_session(&self, token_sha256: &str, now_unix: i64) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE staff_sessions SET last_seen_unix = $1 \
            WHERE token_sha256 = $2 AND ended = 0 AND last_seen_unix < $1";
        on_pool!(self, pool => {
            sqlx::query(SQL).bind(now_unix).bind(token_sha256).execute(pool).await?;
        });
        Ok(())
    }
}
