//! The PostgreSQL privileges of the role the issuance server runs as: it may read
//! everything, append to the ledgers and the audit log, and update only the few
//! rows of state it owns — never change or remove a ledger row, whatever the triggers.

use sqlx::AssertSqlSafe;

use crate::error::StoreError;
use crate::ledger::LEDGER_TABLES;
use crate::{Pool, Store};

/// Tables of state the server updates in place: serial counters, the secret, staff
/// accounts and sessions, and
/// the feed state (a use case share-locks its row, which PostgreSQL grants only
/// with UPDATE).
const SERVER_STATE: &[&str] = &[
    "number_serials",
    "server_secret",
    "feed_state",
    "staff",
    "staff_sessions",
    "terminal_identities",
];

impl Store {
    /// Grants `role` what the issuance server needs and no more (PostgreSQL): `SELECT`
    /// on every table of the schema, `INSERT` on the ledgers and the audit log with
    /// `UPDATE`, `DELETE` and `TRUNCATE` revoked, `INSERT` and `DELETE` on the pending
    /// audit entries (which its sealer moves into the chain), and `INSERT`/`UPDATE` on
    /// its own state. Run it as the schema's owner. On SQLite there are no roles: the triggers
    /// of the migrations refuse changes to ledger rows.
    pub async fn grant_server_role(&self, role: &str) -> Result<(), StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(StoreError::OutOfRange {
                field: "database",
                value: "SQLite has no roles; its triggers keep the ledgers append-only".into(),
            });
        };
        if role.is_empty() || !role.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StoreError::OutOfRange {
                field: "role",
                value: role.to_owned(),
            });
        }
        // A built-in role would hand the server's rights to everyone (`public`) or to
        // whoever happens to be connected; the server gets a role of its own.
        let lower = role.to_ascii_lowercase();
        if lower.starts_with("pg_")
            || [
                "public",
                "postgres",
                "current_user",
                "current_role",
                "session_user",
                "none",
            ]
            .contains(&lower.as_str())
        {
            return Err(StoreError::BuiltInRole(role.to_owned()));
        }
        let mut statements = vec![
            format!(
                "DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema()); END $$"
            ),
            format!(
                "DO $$ BEGIN EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO {role}', current_schema()); END $$"
            ),
        ];
        for table in LEDGER_TABLES.iter().map(|t| t.name).chain(["audit_log"]) {
            statements.push(format!("GRANT INSERT ON {table} TO {role}"));
            statements.push(format!(
                "REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}"
            ));
        }
        // Pending audit entries: inserted by use cases, moved into the chain (deleted
        // here) by the sealer, never changed.
        statements.push(format!("GRANT INSERT, DELETE ON audit_pending TO {role}"));
        statements.push(format!(
            "REVOKE UPDATE, TRUNCATE ON audit_pending FROM {role}"
        ));
        for table in SERVER_STATE {
            statements.push(format!("GRANT INSERT, UPDATE ON {table} TO {role}"));
        }
        let mut tx = pool.begin().await?;
        for sql in statements {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
