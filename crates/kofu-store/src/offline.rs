//! Storage of offline operation: the change log the replicas are fed from, the
//! ledgers of reserved number ranges, uploaded terminal chains and offline flags, a
//! terminal's own sync position, cached staff accounts, and the encrypted replica.

use std::str::FromStr as _;

use sqlx::sqlite::SqliteConnectOptions;

use crate::ledger::{AuditRow, LedgerTable, on_tx};
use crate::staff::StaffRow;
use crate::{LedgerTx, Pool, Store, StoreError};

use crate::ledger::ColumnType::{Int, Text};

/// 発行番号 serial ranges reserved for a terminal's offline issuances; never reused.
pub static OFFLINE_RANGES: LedgerTable = LedgerTable {
    name: "offline_ranges",
    columns: &[
        ("first_serial", Int),
        ("last_serial", Int),
        ("terminal", Text),
        ("staff", Text),
        ("at", Text),
    ],
    key_columns: 1,
};

/// A terminal's audit chain as uploaded, entry by entry.
pub static TERMINAL_AUDIT: LedgerTable = LedgerTable {
    name: "terminal_audit",
    columns: &[
        ("terminal", Text),
        ("seq", Int),
        ("at", Text),
        ("actor", Text),
        ("action", Text),
        ("target", Text),
        ("detail", Text),
        ("records", Text),
        ("prev_hash", Text),
        ("hash", Text),
        ("received_at", Text),
    ],
    key_columns: 2,
};

/// Offline issuances whose subject's data changed after the replica's last event.
pub static OFFLINE_FLAGS: LedgerTable = LedgerTable {
    name: "offline_flags",
    columns: &[
        ("flag_id", Text),
        ("terminal", Text),
        ("issuance_id", Text),
        ("subject_id", Text),
        ("staff", Text),
        ("issued_at", Text),
        ("replica_seq", Int),
        ("changes", Text),
        ("raised_at", Text),
    ],
    key_columns: 1,
};

/// The supervisor's resolution of an offline flag.
pub static OFFLINE_FLAG_RESOLUTIONS: LedgerTable = LedgerTable {
    name: "offline_flag_resolutions",
    columns: &[
        ("flag_id", Text),
        ("resolution", Text),
        ("note", Text),
        ("supervisor", Text),
        ("at", Text),
    ],
    key_columns: 1,
};

/// A change event as logged: its seq, instant (as received) and feed line.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LoggedChange {
    /// Its `seq`.
    pub seq: i64,
    /// Its `at`, as in the feed.
    pub at: String,
    /// The change event's feed line (JSON).
    pub line: String,
}

/// The registry tables a counter replica holds, with their feed type. Cards are left
/// out: they serve only kiosk authentication, which a counter never does.
const REPLICA_TABLES: [(&str, &str); 8] = [
    ("municipality", "municipality"),
    ("residents", "resident"),
    ("seals", "seal"),
    ("koseki", "koseki"),
    ("fuhyo", "fuhyo"),
    ("tax", "tax"),
    ("support_measures", "support_measure"),
    ("suppressions", "suppression"),
];

/// The primary key of each of [`REPLICA_TABLES`] (column, whether an integer), in
/// the same order: a paged snapshot walks each table in key order.
const REPLICA_KEYS: [&[(&str, bool)]; 8] = [
    &[("id", true)],
    &[("resident_id", false)],
    &[("resident_id", false)],
    &[("koseki_id", false)],
    &[("koseki_id", false), ("member_no", true)],
    &[("resident_id", false), ("fiscal_year", true)],
    &[("resident_id", false)],
    &[("scope", false), ("id", false)],
];

/// One value of a record's key, as a paged snapshot's cursor carries it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum KeyPart {
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
}

/// Where a paged snapshot goes on: after the record `key` of table number `table`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotCursor {
    /// The index into the replica's tables.
    pub table: usize,
    /// The last key read from it.
    pub key: Vec<KeyPart>,
}

/// One page of a snapshot: up to `limit` records in table and key order, the feed
/// position when it was read, and where the next page starts (`None`: the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotPage {
    /// The records, as feed lines.
    pub lines: Vec<String>,
    /// The feed position when this page was read.
    pub last_seq: Option<i64>,
    /// Its instant.
    pub last_at: Option<time::OffsetDateTime>,
    /// Where the next page starts.
    pub next: Option<SnapshotCursor>,
}

/// A stored record's JSON as a feed line: the same object with `"type"` first.
fn feed_line(type_name: &str, doc: &str) -> String {
    match doc.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"type\":\"{type_name}\"}}"),
        Some(rest) => format!("{{\"type\":\"{type_name}\",{rest}"),
        None => doc.to_owned(),
    }
}

impl Store {
    /// Opens (creating if missing) an SQLite database encrypted with SQLCipher under
    /// a 32-byte raw key. A wrong key fails here, on the first read.
    pub async fn open_encrypted(
        path: &std::path::Path,
        key: &[u8; 32],
    ) -> Result<Store, StoreError> {
        let hex = crate::ledger::hex(key);
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            // SQLCipher's raw-key form: no passphrase derivation, the key is the key.
            .pragma("key", format!("\"x'{hex}'\""));
        Store::open_sqlite(options).await
    }

    /// The change events logged after `after` (all when `None`), in seq order, at most
    /// `limit`.
    pub async fn changes_after(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<LoggedChange>, StoreError> {
        const SQL: &str =
            "SELECT seq, at, line FROM registry_changes WHERE seq > $1 ORDER BY seq LIMIT $2";
        let after = after.unwrap_or(i64::MIN);
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, LoggedChange>(SQL).bind(after).bind(limit).fetch_all(pool).await?
        }))
    }

    /// The first change event logged, if any: a replica older than it cannot catch up
    /// from the log alone.
    pub async fn first_logged_change(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT MIN(seq) FROM registry_changes";
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, Option<i64>>(SQL).fetch_one(pool).await?))
    }

    /// One page of the snapshot of every record a counter replica holds: up to `limit`
    /// records from `from` on (the start when `None`), each table in key order, so
    /// that a page reads through the primary key's index whatever the registry's size.
    /// Pages read at different times may straddle changes: the replica replays the
    /// change log from the first page's position afterwards, which makes it exact.
    pub async fn snapshot_page(
        &self,
        from: Option<&SnapshotCursor>,
        limit: usize,
    ) -> Result<SnapshotPage, StoreError> {
        const SEQ: &str = "SELECT last_seq, last_at FROM feed_state WHERE id = 1";
        type Position = (Option<i64>, Option<time::OffsetDateTime>);
        let start = from.map_or(0, |c| c.table);
        if start >= REPLICA_TABLES.len()
            || from.is_some_and(|c| c.key.len() != REPLICA_KEYS[c.table].len())
        {
            return Err(StoreError::OutOfRange {
                field: "cursor",
                value: format!("{from:?}"),
            });
        }
        let limit = limit.max(1);
        let mut lines = Vec::new();
        let mut next = None;
        macro_rules! read_pages {
            ($tx:expr, $row:ty) => {{
                let seq: Position = sqlx::query_as(SEQ).fetch_one(&mut *$tx).await?;
                for t in start..REPLICA_TABLES.len() {
                    let (table, type_name) = REPLICA_TABLES[t];
                    let keys = REPLICA_KEYS[t];
                    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
                    let after = from.filter(|c| c.table == t);
                    let filter = match after {
                        None => String::new(),
                        Some(_) => {
                            let params: Vec<String> =
                                (1..=keys.len()).map(|i| format!("${i}")).collect();
                            format!("WHERE ({}) > ({})", names.join(", "), params.join(", "))
                        }
                    };
                    let want = limit - lines.len();
                    // Integers read as 64-bit on both backends (PostgreSQL's are int4).
                    let selected: Vec<String> = keys
                        .iter()
                        .map(|(k, int)| {
                            if *int {
                                format!("CAST({k} AS BIGINT)")
                            } else {
                                (*k).to_owned()
                            }
                        })
                        .collect();
                    let sql = format!(
                        "SELECT {}, doc FROM {table} {filter} ORDER BY {} LIMIT {}",
                        selected.join(", "),
                        names.join(", "),
                        want
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for part in after.map_or(&[][..], |c| c.key.as_slice()) {
                        query = match part {
                            KeyPart::Int(i) => query.bind(*i),
                            KeyPart::Text(t) => query.bind(t.clone()),
                        };
                    }
                    let rows: Vec<$row> = query.fetch_all(&mut *$tx).await?;
                    let mut last_key = Vec::new();
                    for row in &rows {
                        use sqlx::Row as _;
                        last_key = keys
                            .iter()
                            .enumerate()
                            .map(|(i, (_, int))| {
                                Ok(if *int {
                                    KeyPart::Int(row.try_get::<i64, _>(i)?)
                                } else {
                                    KeyPart::Text(row.try_get::<String, _>(i)?)
                                })
                            })
                            .collect::<Result<_, sqlx::Error>>()?;
                        let doc: String = row.try_get(keys.len())?;
                        lines.push(feed_line(type_name, &doc));
                    }
                    if rows.len() == want {
                        next = Some(SnapshotCursor {
                            table: t,
                            key: last_key,
                        });
                        break;
                    }
                }
                seq
            }};
        }
        let (last_seq, last_at): Position = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let seq = read_pages!(tx, sqlx::sqlite::SqliteRow);
                tx.commit().await?;
                seq
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                let seq = read_pages!(tx, sqlx::postgres::PgRow);
                tx.commit().await?;
                seq
            }
        };
        Ok(SnapshotPage {
            lines,
            last_seq,
            last_at,
            next,
        })
    }

    /// Audit entries after `seq`, in chain order.
    pub async fn audit_rows_after(&self, seq: i64) -> Result<Vec<AuditRow>, StoreError> {
        self.seal_audit().await?;
        const SQL: &str = "SELECT seq, at, actor, action, target, detail, records, prev_hash, hash \
                           FROM audit_log WHERE seq > $1 ORDER BY seq";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, AuditRow>(SQL).bind(seq).fetch_all(pool).await?),
        )
    }

    /// How many imports loaded full records (the data's generation).
    pub async fn feed_loads(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT loads FROM feed_state WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }

    /// A terminal: the server's generation its replica was loaded from, if any.
    pub async fn replica_loads(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT replica_loads FROM terminal_sync WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }

    /// A terminal: records the server's generation its replica now holds.
    pub async fn set_replica_loads(&self, loads: i64) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE terminal_sync SET replica_loads = $1 WHERE id = 1";
        on_pool!(self, pool => { sqlx::query(SQL).bind(loads).execute(pool).await?; });
        Ok(())
    }

    /// A terminal: the last of its audit entries the server acknowledged (0: none).
    pub async fn acknowledged(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT acknowledged FROM terminal_sync WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }

    /// A terminal: records that the server acknowledged its entries up to `seq` (it
    /// never goes back).
    pub async fn set_acknowledged(&self, seq: i64) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE terminal_sync SET acknowledged = $1 \
                           WHERE id = 1 AND acknowledged < $1";
        on_pool!(self, pool => { sqlx::query(SQL).bind(seq).execute(pool).await?; });
        Ok(())
    }

    /// A terminal: when the server last confirmed its replica current (RFC 3339).
    pub async fn replica_current(&self) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT replica_current FROM terminal_sync WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }

    /// A terminal: records that the server confirmed its replica current at `at`.
    pub async fn set_replica_current(&self, at: &str) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE terminal_sync SET replica_current = $1 WHERE id = 1";
        on_pool!(self, pool => { sqlx::query(SQL).bind(at).execute(pool).await?; });
        Ok(())
    }

    /// A terminal: keeps a staff account as the server holds it, for offline logins
    /// (the account is replaced; the TOTP step never goes back, so a code used online
    /// cannot be replayed offline).
    pub async fn cache_staff(&self, row: &StaffRow) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO staff (login, role, password_hash, totp_secret, \
            last_totp_step, failed_attempts, active, created_at) \
            VALUES ($1, $2, $3, $4, $5, 0, $6, $7) ON CONFLICT (login) DO UPDATE SET \
            role = excluded.role, password_hash = excluded.password_hash, \
            totp_secret = excluded.totp_secret, failed_attempts = 0, active = excluded.active, \
            last_totp_step = CASE WHEN staff.last_totp_step > excluded.last_totp_step \
            THEN staff.last_totp_step ELSE excluded.last_totp_step END";
        on_pool!(self, pool => {
            sqlx::query(SQL)
                .bind(&row.login)
                .bind(&row.role)
                .bind(&row.password_hash)
                .bind(&row.totp_secret)
                .bind(row.last_totp_step)
                .bind(i64::from(row.active))
                .bind(&row.created_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A terminal: forgets every cached account (and its sessions) not in `keep`, the
    /// logins the server still lets work offline. Answers the logins forgotten.
    pub async fn forget_cached_staff_except(
        &self,
        keep: &[String],
    ) -> Result<Vec<String>, StoreError> {
        const SESSIONS: &str = "DELETE FROM staff_sessions WHERE login = $1";
        const STAFF: &str = "DELETE FROM staff WHERE login = $1";
        let mut gone = Vec::new();
        for row in self.staff_list().await? {
            if keep.contains(&row.login) {
                continue;
            }
            on_pool!(self, pool => {
                sqlx::query(SESSIONS).bind(&row.login).execute(pool).await?;
                sqlx::query(STAFF).bind(&row.login).execute(pool).await?;
            });
            gone.push(row.login);
        }
        Ok(gone)
    }
}

impl LedgerTx {
    /// The last serial of every offline range reserved so far (0 when none).
    pub async fn last_reserved_serial(&mut self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COALESCE(MAX(last_serial), 0) FROM offline_ranges";
        Ok(on_tx!(self.tx, conn => sqlx::query_scalar(SQL).fetch_one(conn).await?))
    }

    /// The last entry of `terminal`'s chain accepted so far: `(seq, hash)`.
    pub async fn terminal_head(
        &mut self,
        terminal: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        const SQL: &str = "SELECT seq, hash FROM terminal_audit WHERE terminal = $1 \
                           ORDER BY seq DESC LIMIT 1";
        Ok(on_tx!(self.tx, conn => {
            sqlx::query_as(SQL).bind(terminal).fetch_optional(conn).await?
        }))
    }

    /// The hash of entry `seq` of `terminal`'s chain, if accepted.
    pub async fn terminal_entry_hash(
        &mut self,
        terminal: &str,
        seq: i64,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT hash FROM terminal_audit WHERE terminal = $1 AND seq = $2";
        Ok(on_tx!(self.tx, conn => {
            sqlx::query_scalar(SQL).bind(terminal).bind(seq).fetch_optional(conn).await?
        }))
    }
}

impl Store {
    /// A terminal: records a serial range the server reserved for it (again is no-op).
    pub async fn add_terminal_range(&self, first: i64, last: i64) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO terminal_ranges (first_serial, last_serial) VALUES ($1, $2) \
                           ON CONFLICT (first_serial) DO NOTHING";
        on_pool!(self, pool => { sqlx::query(SQL).bind(first).bind(last).execute(pool).await?; });
        Ok(())
    }

    /// A terminal: how many reserved serials are still unused.
    pub async fn offline_numbers_left(&self) -> Result<i64, StoreError> {
        const LAST: &str =
            "SELECT last_serial FROM number_serials WHERE day = '-' AND point = 'offline'";
        const LEFT: &str = "SELECT COALESCE(SUM(CASE WHEN first_serial > $1 \
            THEN last_serial - first_serial + 1 ELSE last_serial - $1 END), 0) \
            FROM terminal_ranges WHERE last_serial > $1";
        Ok(on_pool!(self, pool => {
            let last: Option<i64> = sqlx::query_scalar(LAST).fetch_optional(pool).await?;
            sqlx::query_scalar::<_, i64>(LEFT).bind(last.unwrap_or(0)).fetch_one(pool).await?
        }))
    }

    /// A terminal: its issuances not yet acknowledged by the server.
    pub async fn unsynced_issuances(&self) -> Result<i64, StoreError> {
        self.seal_audit().await?;
        const SQL: &str = "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'counter.issue%' \
            AND seq > (SELECT acknowledged FROM terminal_sync WHERE id = 1)";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }
}

impl LedgerTx {
    /// A terminal: takes the next unused serial of its reserved ranges, or `None` when
    /// they are used up. Rolled back with the transaction, like every serial.
    pub async fn take_offline_serial(&mut self) -> Result<Option<u32>, StoreError> {
        const LAST: &str =
            "SELECT last_serial FROM number_serials WHERE day = '-' AND point = 'offline'";
        const NEXT: &str = "SELECT CASE WHEN first_serial > $1 THEN first_serial ELSE $1 + 1 END \
            FROM terminal_ranges WHERE last_serial > $1 ORDER BY first_serial LIMIT 1";
        const SET: &str = "INSERT INTO number_serials (day, point, last_serial) \
            VALUES ('-', 'offline', $1) ON CONFLICT (day, point) DO UPDATE SET last_serial = $1";
        let next: Option<i64> = on_tx!(self.tx, conn => {
            let last: Option<i64> = sqlx::query_scalar(LAST).fetch_optional(&mut *conn).await?;
            let next: Option<i64> = sqlx::query_scalar(NEXT)
                .bind(last.unwrap_or(0))
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(n) = next {
                sqlx::query(SET).bind(n).execute(&mut *conn).await?;
            }
            next
        });
        next.map(|n| {
            u32::try_from(n).map_err(|_| StoreError::OutOfRange {
                field: "serial",
                value: n.to_string(),
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::feed_line;

    #[test]
    fn a_stored_record_becomes_a_feed_line_with_its_type_first() {
        let check = |doc: &str, expected: &str| assert_eq!(feed_line("seal", doc), expected);
        check(
            r#"{"resident_id":"1"}"#,
            r#"{"type":"seal","resident_id":"1"}"#,
        );
        check("{}", r#"{"type":"seal"}"#);
    }
}
