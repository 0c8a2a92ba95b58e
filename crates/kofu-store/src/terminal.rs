//! Counter terminals with an identity of their own: enrolment by an administrator, the
//! terminal's registered public key, revocation. State rows, not ledgers: each change
//! is written through a [`LedgerTx`] so that it commits with the audit entry that
//! records it.

use crate::ledger::{LedgerTx, on_tx};
use crate::{Store, StoreError};

/// A terminal as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalIdentity {
    /// Its name (as in its issue numbers' point, `本庁1`).
    pub name: String,
    /// `pending`, `active` or `revoked`.
    pub state: String,
    /// sha256 (hex) of the one-time enrolment code; empty once used.
    pub code_sha256: String,
    /// Until when the code may be used (Unix seconds).
    pub code_expires_unix: i64,
    /// The terminal's Ed25519 public key (hex); empty until it registers.
    pub public_key: String,
    /// Random per enrolment; the replica key is derived from it.
    pub key_id: String,
    /// Who enrolled it.
    pub enrolled_by: String,
    /// When (RFC 3339).
    pub enrolled_at: String,
    /// When it registered its key (RFC 3339; empty: not yet).
    pub registered_at: String,
    /// When it was revoked (RFC 3339; empty: not).
    pub revoked_at: String,
}

type TerminalTuple = (
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
);

macro_rules! columns {
    () => {
        "name, state, code_sha256, code_expires_unix, public_key, key_id, \
         enrolled_by, enrolled_at, registered_at, revoked_at"
    };
}
const SELECT_ONE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM terminal_identities WHERE name = $1"
);

fn terminal_row(t: TerminalTuple) -> TerminalIdentity {
    TerminalIdentity {
        name: t.0,
        state: t.1,
        code_sha256: t.2,
        code_expires_unix: t.3,
        public_key: t.4,
        key_id: t.5,
        enrolled_by: t.6,
        enrolled_at: t.7,
        registered_at: t.8,
        revoked_at: t.9,
    }
}

impl LedgerTx {
    /// Enrols a terminal, or enrols it again (a new code, a new key to come, the old
    /// key no longer valid).
    pub async fn put_terminal(&mut self, row: &TerminalIdentity) -> Result<(), StoreError> {
        const INSERT: &str = concat!(
            "INSERT INTO terminal_identities (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (name) DO UPDATE SET state = excluded.state, \
             code_sha256 = excluded.code_sha256, code_expires_unix = excluded.code_expires_unix, \
             public_key = excluded.public_key, key_id = excluded.key_id, \
             enrolled_by = excluded.enrolled_by, enrolled_at = excluded.enrolled_at, \
             registered_at = excluded.registered_at, revoked_at = excluded.revoked_at"
        );
        on_tx!(self.tx, conn => {
            sqlx::query(INSERT)
                .bind(&row.name)
                .bind(&row.state)
                .bind(&row.code_sha256)
                .bind(row.code_expires_unix)
                .bind(&row.public_key)
                .bind(&row.key_id)
                .bind(&row.enrolled_by)
                .bind(&row.enrolled_at)
                .bind(&row.registered_at)
                .bind(&row.revoked_at)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// The terminal `name`, read inside this transaction (locked on PostgreSQL, so
    /// that one enrolment code is used once).
    pub async fn terminal_identity_for_update(
        &mut self,
        name: &str,
    ) -> Result<Option<TerminalIdentity>, StoreError> {
        const PG: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM terminal_identities WHERE name = $1 FOR UPDATE"
        );
        let row: Option<TerminalTuple> = match &mut self.tx {
            crate::ledger::Tx::Sqlite(t) => {
                sqlx::query_as(SELECT_ONE)
                    .bind(name)
                    .fetch_optional(&mut **t)
                    .await?
            }
            crate::ledger::Tx::Postgres(t) => {
                sqlx::query_as(PG)
                    .bind(name)
                    .fetch_optional(&mut **t)
                    .await?
            }
        };
        Ok(row.map(terminal_row))
    }

    /// Records a terminal's public key: it is active from now on, its code used up.
    pub async fn register_terminal(
        &mut self,
        name: &str,
        public_key: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE terminal_identities SET state = 'active', public_key = $1, \
            registered_at = $2, code_sha256 = '' WHERE name = $3";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL).bind(public_key).bind(at).bind(name).execute(conn).await?;
        });
        Ok(())
    }

    /// Revokes a terminal: its key and any unused code stop working.
    pub async fn revoke_terminal(&mut self, name: &str, at: &str) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE terminal_identities SET state = 'revoked', code_sha256 = '', \
            revoked_at = $1 WHERE name = $2";
        on_tx!(self.tx, conn => {
            sqlx::query(SQL).bind(at).bind(name).execute(conn).await?;
        });
        Ok(())
    }
}

impl Store {
    /// The terminal `name`, if enrolled.
    pub async fn terminal_identity(
        &self,
        name: &str,
    ) -> Result<Option<TerminalIdentity>, StoreError> {
        let row: Option<TerminalTuple> = on_pool!(self, pool => {
            sqlx::query_as(SELECT_ONE).bind(name).fetch_optional(pool).await?
        });
        Ok(row.map(terminal_row))
    }

    /// Every enrolled terminal, by name.
    pub async fn terminal_identities(&self) -> Result<Vec<TerminalIdentity>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM terminal_identities ORDER BY name"
        );
        let rows: Vec<TerminalTuple> = on_pool!(self, pool => {
            sqlx::query_as(SQL).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(terminal_row).collect())
    }
}
