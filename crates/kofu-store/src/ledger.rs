//! The ledgers of issuance and the audit chain: one write transaction per use case.
//!
//! A [`LedgerTx`] is the transaction of one use case. It reserves 発行番号 serials,
//! appends ledger rows (交付履歴, copies, outcomes and voids, fees) and ends with
//! [`LedgerTx::commit`], which appends the use case's audit entry — notarising the
//! digest of every ledger row written with it — and commits. Dropping it rolls
//! everything back, numbers included.
//!
//! Concurrency: on SQLite the transaction takes the write lock at once (`BEGIN
//! IMMEDIATE`, behind a process-wide mutex so that waiting requests do not hold pool
//! connections); on PostgreSQL it holds a share lock on the feed-state row, so no import
//! commits while it runs, and its audit entry is committed as pending, for the sealer
//! to chain (see `seal`): the chain stays one chain across several servers without
//! every use case waiting for it. [`LedgerTx::registry_version`] tells whether an
//! import committed since the caller read the registry data it is acting on.

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::{AssertSqlSafe, Postgres, Sqlite, Transaction};

use crate::error::StoreError;
use crate::{Pool, Store};

/// The `prev_hash` of the first audit entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key of the PostgreSQL advisory lock that serializes audit appends.
pub(crate) const AUDIT_LOCK: i64 = 0x6b6f_6675_6175_6474; // "kofuaudt"

/// One value of a ledger row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// SQL NULL.
    Null,
}

impl Cell {
    fn opt(value: Option<&str>) -> Cell {
        value.map_or(Cell::Null, |v| Cell::Text(v.to_owned()))
    }
}

/// Whether a ledger column holds text or integers (both nullable when read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Text,
    Int,
}

/// An append-only ledger table.
#[derive(Debug)]
pub struct LedgerTable {
    /// SQL name.
    pub name: &'static str,
    pub(crate) columns: &'static [(&'static str, ColumnType)],
    /// How many leading columns form the key.
    pub(crate) key_columns: usize,
}

use ColumnType::{Int, Text};

/// 交付履歴.
pub static ISSUANCES: LedgerTable = LedgerTable {
    name: "issuances",
    columns: &[
        ("issuance_id", Text),
        ("request_id", Text),
        ("request_hash", Text),
        ("channel", Text),
        ("point", Text),
        ("staff", Text),
        ("applicant", Text),
        ("subject_id", Text),
        ("kind", Text),
        ("items", Text),
        ("copies", Int),
        ("pages", Int),
        ("fee_yen", Int),
        ("issued_at", Text),
    ],
    key_columns: 1,
};

/// One row per copy: 発行番号 and sha256 of the PDF.
pub static ISSUED_COPIES: LedgerTable = LedgerTable {
    name: "issued_copies",
    columns: &[
        ("issuance_id", Text),
        ("copy", Int),
        ("issue_number", Text),
        ("pages", Int),
        ("sha256", Text),
    ],
    key_columns: 2,
};

/// Outcomes, voids and flags.
pub static ISSUANCE_EVENTS: LedgerTable = LedgerTable {
    name: "issuance_events",
    columns: &[
        ("event_id", Text),
        ("issuance_id", Text),
        ("event", Text),
        ("detail", Text),
        ("staff", Text),
        ("at", Text),
    ],
    key_columns: 1,
};

/// Fees.
pub static FEES: LedgerTable = LedgerTable {
    name: "fees",
    columns: &[
        ("fee_id", Text),
        ("issuance_id", Text),
        ("kind", Text),
        ("channel", Text),
        ("amount_yen", Int),
        ("method", Text),
        ("exemption", Text),
        ("receipt_no", Text),
        ("staff", Text),
        ("at", Text),
    ],
    key_columns: 1,
};

/// The seal of a counter day: totals, cash counted, difference, supervisor, audit head.
pub static DAY_CLOSES: LedgerTable = LedgerTable {
    name: "day_closes",
    columns: &[
        ("day", Text),
        ("totals", Text),
        ("counted_cash_yen", Int),
        ("difference_yen", Int),
        ("supervisor", Text),
        ("audit_head", Text),
        ("at", Text),
    ],
    key_columns: 1,
};

/// Every ledger table, in the order `verify` reads them.
pub static LEDGER_TABLES: [&LedgerTable; 10] = [
    &ISSUANCES,
    &ISSUED_COPIES,
    &ISSUANCE_EVENTS,
    &FEES,
    &DAY_CLOSES,
    &crate::offline::OFFLINE_RANGES,
    &crate::offline::TERMINAL_AUDIT,
    &crate::offline::OFFLINE_FLAGS,
    &crate::offline::OFFLINE_FLAG_RESOLUTIONS,
    &crate::settings::SETTING_CHANGES,
];

impl LedgerTable {
    /// How many columns a row of this table has.
    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    fn insert_sql(&self) -> String {
        self.insert_sql_from(1)
    }

    /// The INSERT of one row whose parameters are numbered from `$first`.
    fn insert_sql_from(&self, first: usize) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        let params: Vec<String> = (first..first + names.len())
            .map(|i| format!("${i}"))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            names.join(", "),
            params.join(", ")
        )
    }

    fn select_sql(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| *n).collect();
        let key: Vec<&str> = names[..self.key_columns].to_vec();
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            names.join(", "),
            self.name,
            key.join(", ")
        )
    }

    /// The row's key as the audit log names it, e.g. `issued_copies/ISS-1/2`.
    pub fn key_of(&self, cells: &[Cell]) -> String {
        let mut key = self.name.to_owned();
        for cell in &cells[..self.key_columns] {
            key.push('/');
            match cell {
                Cell::Text(t) => key.push_str(t),
                Cell::Int(i) => key.push_str(&i.to_string()),
                Cell::Null => key.push_str("NULL"),
            }
        }
        key
    }

    /// The digest the audit log keeps of a row.
    pub fn digest_of(&self, cells: &[Cell]) -> String {
        #[derive(Serialize)]
        struct Canonical<'a>(&'a str, &'a [Cell]);
        let json = serde_json::to_vec(&Canonical(self.name, cells)).unwrap_or_default();
        hex(&Sha256::digest(&json))
    }

    /// Reads one row of this table, on either backend.
    fn decode<R: sqlx::Row>(&self, row: &R) -> Result<Vec<Cell>, sqlx::Error>
    where
        usize: sqlx::ColumnIndex<R>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        decode_row(row, self.columns.iter().map(|(_, ty)| *ty == Int))
    }
}

/// Reads a row as cells: integers where `ints` says so, text elsewhere.
fn decode_row<R: sqlx::Row>(
    row: &R,
    ints: impl Iterator<Item = bool>,
) -> Result<Vec<Cell>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    ints.enumerate()
        .map(|(i, int)| {
            Ok(if int {
                row.try_get::<Option<i64>, _>(i)?
                    .map_or(Cell::Null, Cell::Int)
            } else {
                Cell::opt(row.try_get::<Option<String>, _>(i)?.as_deref())
            })
        })
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A ledger row written in this transaction, for the audit entry to notarise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Notarised {
    /// The row's key, e.g. `fees/…`.
    pub key: String,
    /// The sha256 of its canonical content.
    pub digest: String,
}

/// What a use case records in the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who: a staff login, `kiosk:K-…`, `system`.
    pub actor: String,
    /// What, e.g. `kiosk.issue`, `counter.view`, `staff.login_failed`.
    pub action: String,
    /// On what: a resident ID, an issuance ID, a setting.
    pub target: String,
    /// Details as JSON text (never a 個人番号, never a PDF).
    pub detail: String,
}

/// An audit entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details (JSON text).
    pub detail: String,
    /// The ledger rows notarised (JSON text of [`Notarised`] items).
    pub records: String,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditRow {
    /// `entry` joined to the chain at `seq`, after the entry whose hash is `prev_hash`,
    /// with the hash that covers both: how an entry is chained on either backend.
    pub(crate) fn chained(
        seq: i64,
        prev_hash: String,
        entry: AuditEntry,
        records: String,
    ) -> AuditRow {
        let mut row = AuditRow {
            seq,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            detail: entry.detail,
            records,
            prev_hash,
            hash: String::new(),
        };
        row.hash = row.computed_hash();
        row
    }

    /// The hash this row must carry, computed from its content.
    pub fn computed_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a>(
            i64,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            &'a str,
        );
        let json = serde_json::to_vec(&Canonical(
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.detail,
            &self.records,
            &self.prev_hash,
        ))
        .unwrap_or_default();
        hex(&Sha256::digest(&json))
    }
}

/// The transaction of one backend.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the concrete connection of a transaction.
macro_rules! on_tx_impl {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx {
            $crate::ledger::Tx::Sqlite(t) => {
                let $conn: &mut ::sqlx::SqliteConnection = &mut **t;
                $body
            }
            $crate::ledger::Tx::Postgres(t) => {
                let $conn: &mut ::sqlx::PgConnection = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use on_tx_impl as on_tx;

/// Runs `sql` with `binds` on `executor` and reads every row as cells (see
/// [`decode_row`]); written once for each backend's executor.
macro_rules! cells_of {
    ($executor:expr, $sql:expr, $binds:expr, $int_columns:expr) => {
        bind_cells(sqlx::query($sql), $binds)
            .fetch_all($executor)
            .await?
            .iter()
            .map(|r| decode_row(r, $int_columns.iter().copied()))
            .collect::<Result<_, _>>()?
    };
}

/// Binds cells in order.
fn bind_cells<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    cells: &[Cell],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
{
    for cell in cells {
        query = match cell {
            Cell::Text(t) => query.bind(t.clone()),
            Cell::Int(i) => query.bind(*i),
            Cell::Null => query.bind(None::<String>),
        };
    }
    query
}

/// The write transaction of one use case. See the module documentation.
pub struct LedgerTx {
    pub(crate) tx: Tx,
    version: i64,
    notarised: Vec<Notarised>,
    /// Rows appended with [`LedgerTx::append_at_commit`], written by `commit`.
    at_commit: Vec<(&'static LedgerTable, Vec<Cell>)>,
    _sqlite_writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// PostgreSQL: woken once the entry is committed as pending.
    sealer: Option<crate::seal::Sealer>,
}

impl std::fmt::Debug for LedgerTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerTx")
            .field("version", &self.version)
            .field("notarised", &self.notarised.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Begins the write transaction of a use case (see [`LedgerTx`]).
    pub async fn begin_ledger(&self) -> Result<LedgerTx, StoreError> {
        const VERSION: &str = "SELECT version FROM feed_state WHERE id = 1";
        match &self.pool {
            Pool::Sqlite(pool) => {
                let guard = self.sqlite_writer.clone().lock_owned().await;
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let version: i64 = sqlx::query_scalar(VERSION).fetch_one(&mut *tx).await?;
                Ok(LedgerTx {
                    tx: Tx::Sqlite(tx),
                    version,
                    notarised: Vec::new(),
                    at_commit: Vec::new(),
                    _sqlite_writer: Some(guard),
                    sealer: None,
                })
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let version: i64 =
                    sqlx::query_scalar("SELECT version FROM feed_state WHERE id = 1 FOR SHARE")
                        .fetch_one(&mut *tx)
                        .await?;
                Ok(LedgerTx {
                    tx: Tx::Postgres(tx),
                    version,
                    notarised: Vec::new(),
                    at_commit: Vec::new(),
                    _sqlite_writer: None,
                    sealer: self.sealer.clone(),
                })
            }
        }
    }

    /// Begins the write transaction of a use case whose writes do not depend on
    /// registry data (a kiosk's inquiry, which appends only its audit entry, or an
    /// outcome notice): [`Store::begin_ledger`] without holding off imports on
    /// PostgreSQL. [`LedgerTx::registry_version`] is 0.
    pub async fn begin_audit(&self) -> Result<LedgerTx, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => self.begin_ledger().await,
            Pool::Postgres(pool) => Ok(LedgerTx {
                tx: Tx::Postgres(pool.begin().await?),
                version: 0,
                notarised: Vec::new(),
                at_commit: Vec::new(),
                _sqlite_writer: None,
                sealer: self.sealer.clone(),
            }),
        }
    }

    /// The registry version: bumped by every committed import.
    pub async fn registry_version(&self) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT version FROM feed_state WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_one(pool).await?))
    }

    /// The installation's secret, created from `fresh` on first use.
    pub async fn server_secret(&self, fresh: &str) -> Result<String, StoreError> {
        const INSERT: &str =
            "INSERT INTO server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
        const SELECT: &str = "SELECT secret FROM server_secret WHERE id = 1";
        on_pool!(self, pool => {
            sqlx::query(INSERT).bind(fresh).execute(pool).await?;
            Ok(sqlx::query_scalar(SELECT).fetch_one(pool).await?)
        })
    }

    /// Every audit entry committed before the call, in chain order.
    pub async fn audit_rows(&self) -> Result<Vec<AuditRow>, StoreError> {
        self.seal_audit().await?;
        const SQL: &str = "SELECT seq, at, actor, action, target, detail, records, prev_hash, hash \
                           FROM audit_log ORDER BY seq";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, AuditRow>(SQL).fetch_all(pool).await?))
    }

    /// Every row of a ledger table, in key order.
    pub async fn ledger_rows(&self, table: &LedgerTable) -> Result<Vec<Vec<Cell>>, StoreError> {
        let sql = table.select_sql();
        Ok(match &self.pool {
            Pool::Sqlite(pool) => sqlx::query(AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| table.decode(r))
                .collect::<Result<_, _>>()?,
            Pool::Postgres(pool) => sqlx::query(AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| table.decode(r))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The rows of a ledger table whose first key column is one of `values`, in key
    /// order within each chunk of 500 values (a terminal's upload reads its rows so).
    pub async fn ledger_rows_by_first_key(
        &self,
        table: &LedgerTable,
        values: &[String],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
        let mut rows = Vec::new();
        for chunk in values.chunks(500) {
            let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {} IN ({}) ORDER BY {}",
                names.join(", "),
                table.name,
                names[0],
                params.join(", "),
                names[..table.key_columns].join(", ")
            );
            let binds: Vec<Cell> = chunk.iter().map(|v| Cell::Text(v.clone())).collect();
            match &self.pool {
                Pool::Sqlite(pool) => {
                    for r in bind_cells(sqlx::query(AssertSqlSafe(sql)), &binds)
                        .fetch_all(pool)
                        .await?
                    {
                        rows.push(table.decode(&r)?);
                    }
                }
                Pool::Postgres(pool) => {
                    for r in bind_cells(sqlx::query(AssertSqlSafe(sql)), &binds)
                        .fetch_all(pool)
                        .await?
                    {
                        rows.push(table.decode(&r)?);
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Runs a read-only query over the ledgers and returns its rows as cells; `types`
    /// says how to read each column (`true` for integers). For reports.
    pub async fn ledger_query(
        &self,
        sql: &'static str,
        binds: &[Cell],
        int_columns: &[bool],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(pool) => cells_of!(pool, sql, binds, int_columns),
            Pool::Postgres(pool) => cells_of!(pool, sql, binds, int_columns),
        })
    }
}

impl LedgerTx {
    /// The registry version this transaction sees; no import commits while it runs.
    pub fn registry_version(&self) -> i64 {
        self.version
    }

    /// Takes the next serial for `(day, point)`: 1 for the first of the day.
    pub async fn next_serial(&mut self, day: &str, point: &str) -> Result<u32, StoreError> {
        const SQL: &str = "INSERT INTO number_serials (day, point, last_serial) VALUES ($1, $2, 1) \
            ON CONFLICT (day, point) DO UPDATE SET last_serial = number_serials.last_serial + 1 \
            RETURNING last_serial";
        let serial: i64 = on_tx!(self.tx, conn => {
            sqlx::query_scalar(SQL).bind(day).bind(point).fetch_one(conn).await?
        });
        u32::try_from(serial).map_err(|_| StoreError::OutOfRange {
            field: "serial",
            value: serial.to_string(),
        })
    }

    /// Appends one ledger row; its digest goes into this transaction's audit entry.
    pub async fn append(
        &mut self,
        table: &LedgerTable,
        cells: Vec<Cell>,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(cells.len(), table.columns.len());
        let sql = table.insert_sql();
        on_tx!(self.tx, conn => {
            bind_cells(sqlx::query(AssertSqlSafe(sql)), &cells).execute(conn).await?;
        });
        self.notarised.push(Notarised {
            key: table.key_of(&cells),
            digest: table.digest_of(&cells),
        });
        Ok(())
    }

    /// Appends one ledger row when the transaction commits, with the audit entry; its
    /// digest goes into that entry, as with [`LedgerTx::append`]. On PostgreSQL the
    /// rows and the entry go in one statement, a round trip instead of one per row, for
    /// the kiosk's hot paths. The row's own errors (a unique violation: a twin request
    /// committed first) come from [`LedgerTx::commit`], and reads in this transaction
    /// do not see the row.
    pub fn append_at_commit(&mut self, table: &'static LedgerTable, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), table.columns.len());
        self.notarised.push(Notarised {
            key: table.key_of(&cells),
            digest: table.digest_of(&cells),
        });
        self.at_commit.push((table, cells));
    }

    /// Appends many rows of one table in multi-row statements (a terminal's upload);
    /// each row's digest goes into this transaction's audit entry, as with `append`.
    pub async fn append_many(
        &mut self,
        table: &LedgerTable,
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        // Both backends take well over 30,000 parameters per statement.
        let width = table.columns.len();
        let per_statement = (30_000 / width).max(1);
        for chunk in rows.chunks(per_statement) {
            let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
            let tuples: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let params: Vec<String> =
                        (1..=width).map(|c| format!("${}", r * width + c)).collect();
                    format!("({})", params.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                table.name,
                names.join(", "),
                tuples.join(", ")
            );
            let cells: Vec<Cell> = chunk.iter().flatten().cloned().collect();
            if chunk.iter().any(|row| row.len() != width) {
                return Err(StoreError::OutOfRange {
                    field: "row",
                    value: format!("a {} row needs {width} values", table.name),
                });
            }
            on_tx!(self.tx, conn => {
                bind_cells(sqlx::query(AssertSqlSafe(sql)), &cells).execute(conn).await?;
            });
            for row in chunk {
                self.notarised.push(Notarised {
                    key: table.key_of(row),
                    digest: table.digest_of(row),
                });
            }
        }
        Ok(())
    }

    /// Rows of a ledger table whose column `column` equals `value`, in key order.
    pub async fn rows_where(
        &mut self,
        table: &LedgerTable,
        column: &str,
        value: &str,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        if !table.columns.iter().any(|(c, _)| *c == column) {
            return Err(StoreError::OutOfRange {
                field: "column",
                value: column.to_owned(),
            });
        }
        let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
        let key: Vec<&str> = names[..table.key_columns].to_vec();
        let sql = format!(
            "SELECT {} FROM {} WHERE {column} = $1 ORDER BY {}",
            names.join(", "),
            table.name,
            key.join(", ")
        );
        Ok(match &mut self.tx {
            Tx::Sqlite(tx) => sqlx::query(AssertSqlSafe(sql))
                .bind(value)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| table.decode(r))
                .collect::<Result<_, _>>()?,
            Tx::Postgres(tx) => sqlx::query(AssertSqlSafe(sql))
                .bind(value)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| table.decode(r))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Serialises this transaction with every other one about the same issuance, on
    /// every server of the database, until it ends: an outcome notice or a void reads
    /// the issuance's events and then appends, and two at once must not both find it
    /// untouched (two reversals). PostgreSQL: a transaction-level advisory lock in a
    /// key space of its own (the two-key form, which never meets the audit chain's
    /// one-key lock); a row lock would need UPDATE, which the server's role lacks on a
    /// ledger. SQLite: the write transaction already holds the whole database.
    pub async fn lock_issuance(&mut self, issuance_id: &str) -> Result<(), StoreError> {
        /// "kofu" in ASCII: the class of issuance locks.
        const ISSUANCE_LOCKS: i32 = 0x6b6f_6675;
        if let Tx::Postgres(tx) = &mut self.tx {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(ISSUANCE_LOCKS)
                .bind(issuance_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// [`Store::ledger_query`] inside this transaction: a read that a use case makes
    /// of several ledgers at once (one round trip instead of one per table).
    pub async fn query(
        &mut self,
        sql: &'static str,
        binds: &[Cell],
        int_columns: &[bool],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        Ok(match &mut self.tx {
            Tx::Sqlite(tx) => cells_of!(&mut **tx, sql, binds, int_columns),
            Tx::Postgres(tx) => cells_of!(&mut **tx, sql, binds, int_columns),
        })
    }

    /// The hash of the last audit entry committed ([`GENESIS`] when none). On
    /// PostgreSQL this chains every pending entry first, inside this transaction, which
    /// then holds the chain's lock until it ends: the head covers every entry committed
    /// before it (a day close seals it into its record).
    pub async fn audit_head(&mut self) -> Result<String, StoreError> {
        const HEAD: &str = "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1";
        match &mut self.tx {
            Tx::Sqlite(tx) => {
                let head: Option<String> =
                    sqlx::query_scalar(HEAD).fetch_optional(&mut **tx).await?;
                Ok(head.unwrap_or_else(|| GENESIS.to_owned()))
            }
            Tx::Postgres(tx) => Ok(crate::seal::seal_in(tx, i64::MAX).await?.0),
        }
    }

    /// Writes the rows appended at commit, records the audit entry (notarising every
    /// row appended) and commits.
    ///
    /// SQLite chains the entry here, under the write lock the transaction holds.
    /// PostgreSQL commits it as pending, without waiting for the chain, and wakes the
    /// store's sealer, which chains it within moments (see `seal`).
    pub async fn commit(self, entry: AuditEntry) -> Result<(), StoreError> {
        let records =
            serde_json::to_string(&self.notarised).map_err(|source| StoreError::Encode {
                kind: "audit records",
                source,
            })?;
        match self.tx {
            Tx::Sqlite(mut tx) => {
                for (table, cells) in &self.at_commit {
                    bind_cells(sqlx::query(AssertSqlSafe(table.insert_sql())), cells)
                        .execute(&mut *tx)
                        .await?;
                }
                const HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
                const INSERT: &str = "INSERT INTO audit_log \
                    (seq, at, actor, action, target, detail, records, prev_hash, hash) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
                let head: Option<(i64, String)> =
                    sqlx::query_as(HEAD).fetch_optional(&mut *tx).await?;
                let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_owned()));
                let row = AuditRow::chained(prev_seq + 1, prev_hash, entry, records);
                sqlx::query(INSERT)
                    .bind(row.seq)
                    .bind(&row.at)
                    .bind(&row.actor)
                    .bind(&row.action)
                    .bind(&row.target)
                    .bind(&row.detail)
                    .bind(&row.records)
                    .bind(&row.prev_hash)
                    .bind(&row.hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Tx::Postgres(mut tx) => {
                insert_pending(&mut tx, &self.at_commit, entry, records).await?;
                tx.commit().await?;
                if let Some(sealer) = &self.sealer {
                    sealer.wake();
                }
            }
        }
        Ok(())
    }
}

/// Writes `rows` and the pending audit entry in one statement (PostgreSQL):
/// `WITH r0 AS (INSERT …), r1 AS (INSERT …) INSERT INTO audit_pending …`.
async fn insert_pending(
    conn: &mut sqlx::PgConnection,
    rows: &[(&'static LedgerTable, Vec<Cell>)],
    entry: AuditEntry,
    records: String,
) -> Result<(), StoreError> {
    let mut sql = String::new();
    let mut cells: Vec<Cell> = Vec::new();
    for (i, (table, row)) in rows.iter().enumerate() {
        sql.push_str(if i == 0 { "WITH " } else { ", " });
        sql.push_str(&format!(
            "r{i} AS ({})",
            table.insert_sql_from(cells.len() + 1)
        ));
        cells.extend(row.iter().cloned());
    }
    let first = cells.len() + 1;
    let params: Vec<String> = (first..first + 6).map(|i| format!("${i}")).collect();
    sql.push_str(&format!(
        " INSERT INTO audit_pending (at, actor, action, target, detail, records) VALUES ({})",
        params.join(", ")
    ));
    bind_cells(sqlx::query(AssertSqlSafe(sql)), &cells)
        .bind(entry.at)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.detail)
        .bind(records)
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// Records the audit entry of a use case that writes no ledger row (a kiosk's
    /// inquiry). On PostgreSQL this is one statement, committed on its own as pending
    /// for the sealer, without a transaction's two extra round trips; on SQLite it is a
    /// write transaction like any other ([`Store::begin_audit`], [`LedgerTx::commit`]).
    pub async fn record_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        match (&self.pool, &self.sealer) {
            (Pool::Postgres(pool), Some(sealer)) => {
                let mut conn = pool.acquire().await?;
                insert_pending(&mut conn, &[], entry, "[]".to_owned()).await?;
                sealer.wake();
                Ok(())
            }
            _ => self.begin_audit().await?.commit(entry).await,
        }
    }

    /// The rows notarised by the entries committed after chain position `seq`: those
    /// still pending, then those chained since (in that order, so that an entry the
    /// sealer moves in between is read on one side or the other).
    async fn notarised_after(
        &self,
        seq: i64,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        const PENDING: &str = "SELECT records FROM audit_pending";
        const CHAINED: &str = "SELECT records FROM audit_log WHERE seq > $1";
        let mut records: Vec<String> = match &self.pool {
            Pool::Sqlite(_) => Vec::new(),
            Pool::Postgres(pool) => sqlx::query_scalar(PENDING).fetch_all(pool).await?,
        };
        records.extend(on_pool!(self, pool => {
            sqlx::query_scalar::<_, String>(CHAINED).bind(seq).fetch_all(pool).await?
        }));
        Ok(records
            .iter()
            .filter_map(|r| serde_json::from_str::<Vec<Notarised>>(r).ok())
            .flatten()
            .map(|n| (n.key, n.digest))
            .collect())
    }
}

/// Something `verify` found wrong, in chain order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AuditProblem {
    /// An audit entry's content does not match its hash.
    AuditAltered {
        /// Its seq.
        seq: i64,
    },
    /// Audit entries are missing before `seq` (from `first_missing`).
    AuditRemoved {
        /// The first seq missing.
        first_missing: i64,
        /// The next entry present.
        seq: i64,
    },
    /// An audit entry does not follow its predecessor: inserted or replaced.
    AuditInserted {
        /// Its seq.
        seq: i64,
    },
    /// A ledger row differs from what its audit entry notarised.
    RowAltered {
        /// The row's key.
        key: String,
        /// The audit entry that notarised it.
        seq: i64,
    },
    /// A ledger row notarised by an audit entry is gone.
    RowRemoved {
        /// The row's key.
        key: String,
        /// The audit entry that notarised it.
        seq: i64,
    },
    /// A ledger row that no audit entry notarised.
    RowInserted {
        /// The row's key.
        key: String,
    },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditProblem::AuditAltered { seq } => {
                write!(
                    f,
                    "audit entry {seq} was altered: its content does not match its hash"
                )
            }
            AuditProblem::AuditRemoved { first_missing, seq } => write!(
                f,
                "audit entries {first_missing}..{} were removed (the chain jumps to {seq})",
                seq - 1
            ),
            AuditProblem::AuditInserted { seq } => write!(
                f,
                "audit entry {seq} was inserted or replaced: it does not follow entry {}",
                seq - 1
            ),
            AuditProblem::RowAltered { key, seq } => {
                write!(
                    f,
                    "ledger row {key} was altered since audit entry {seq} notarised it"
                )
            }
            AuditProblem::RowRemoved { key, seq } => {
                write!(
                    f,
                    "ledger row {key} was removed (notarised by audit entry {seq})"
                )
            }
            AuditProblem::RowInserted { key } => {
                write!(
                    f,
                    "ledger row {key} was inserted: no audit entry notarises it"
                )
            }
        }
    }
}

/// The result of checking the audit chain and the ledgers against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// Audit entries read.
    pub entries: usize,
    /// Ledger rows checked.
    pub rows: usize,
    /// The hash of the last entry ([`GENESIS`] when empty).
    pub head: String,
    /// What is wrong, in chain order; empty when everything verifies.
    pub problems: Vec<AuditProblem>,
}

/// The audit chain's head as a day close sealed it, kept outside the database (on
/// paper, in another system) so that a chain cut short or rewritten since can be told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditAnchor {
    /// The day closed.
    pub day: String,
    /// The hash of the last audit entry the close covered.
    pub audit_head: String,
}

impl Store {
    /// The anchors of every day close, oldest first: what `kofu audit anchors` exports.
    pub async fn audit_anchors(&self) -> Result<Vec<AuditAnchor>, StoreError> {
        const SQL: &str = "SELECT day, audit_head FROM day_closes ORDER BY day";
        let rows: Vec<(String, String)> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(day, audit_head)| AuditAnchor { day, audit_head })
            .collect())
    }

    /// The anchors the chain no longer holds: each anchored head must still be the
    /// hash of an entry of the chain as it is now. One missing means the chain was cut
    /// short before it, or rewritten at or before it (a rewrite that recomputed every
    /// hash verifies on its own, but cannot bring back the anchored one).
    pub async fn missing_anchors(
        &self,
        anchors: &[AuditAnchor],
    ) -> Result<Vec<AuditAnchor>, StoreError> {
        Ok(missing_from(&self.audit_rows().await?, anchors))
    }

    /// Recomputes the audit chain and checks every ledger row against the digest its
    /// audit entry notarised.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        Ok(self.verify_audit_anchored(&[]).await?.0)
    }

    /// [`Store::verify_audit`] and [`Store::missing_anchors`] over one read of the
    /// chain (the audit log is read once, however long).
    pub async fn verify_audit_anchored(
        &self,
        anchors: &[AuditAnchor],
    ) -> Result<(AuditVerdict, Vec<AuditAnchor>), StoreError> {
        let entries = self.audit_rows().await?;
        let missing = missing_from(&entries, anchors);
        let mut problems: Vec<(i64, AuditProblem)> = Vec::new();
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS.to_owned();
        let mut notarised: std::collections::HashMap<String, (String, i64)> =
            std::collections::HashMap::new();
        for entry in &entries {
            if entry.seq > expected_seq {
                problems.push((
                    entry.seq,
                    AuditProblem::AuditRemoved {
                        first_missing: expected_seq,
                        seq: entry.seq,
                    },
                ));
            }
            if entry.computed_hash() != entry.hash {
                problems.push((entry.seq, AuditProblem::AuditAltered { seq: entry.seq }));
            } else if entry.prev_hash != prev_hash && entry.seq == expected_seq {
                problems.push((entry.seq, AuditProblem::AuditInserted { seq: entry.seq }));
            }
            expected_seq = entry.seq + 1;
            prev_hash = entry.hash.clone();
            match serde_json::from_str::<Vec<Notarised>>(&entry.records) {
                Ok(records) => {
                    for n in records {
                        notarised.insert(n.key, (n.digest, entry.seq));
                    }
                }
                // Unreadable records are an alteration the hash check reports, unless
                // the hash was recomputed: then it is still an altered entry.
                Err(_) => problems.push((entry.seq, AuditProblem::AuditAltered { seq: entry.seq })),
            }
        }
        let mut rows = 0;
        let mut unnotarised = Vec::new();
        for table in LEDGER_TABLES {
            for cells in self.ledger_rows(table).await? {
                rows += 1;
                let key = table.key_of(&cells);
                match notarised.remove(&key) {
                    Some((digest, seq)) if digest != table.digest_of(&cells) => {
                        problems.push((seq, AuditProblem::RowAltered { key, seq }));
                    }
                    Some(_) => {}
                    None => unnotarised.push((key, table.digest_of(&cells))),
                }
            }
        }
        // Use cases kept committing while the ledgers were read: a row written after
        // the chain was read has its entry among those committed since, and is not an
        // insertion. Each such entry is verified by the next reading, in the chain.
        if !unnotarised.is_empty() {
            let late = self.notarised_after(expected_seq - 1).await?;
            for (key, digest) in unnotarised {
                if late.get(&key) != Some(&digest) {
                    problems.push((i64::MAX, AuditProblem::RowInserted { key }));
                }
            }
        }
        for (key, (_, seq)) in notarised {
            problems.push((seq, AuditProblem::RowRemoved { key, seq }));
        }
        problems.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.to_string().cmp(&b.1.to_string()))
        });
        problems.dedup();
        let verdict = AuditVerdict {
            entries: entries.len(),
            rows,
            head: prev_hash,
            problems: problems.into_iter().map(|(_, p)| p).collect(),
        };
        Ok((verdict, missing))
    }
}

/// The anchors whose head is the hash of none of `entries` (see
/// [`Store::missing_anchors`]).
fn missing_from(entries: &[AuditRow], anchors: &[AuditAnchor]) -> Vec<AuditAnchor> {
    let hashes: std::collections::HashSet<&str> = entries.iter().map(|r| r.hash.as_str()).collect();
    anchors
        .iter()
        .filter(|a| a.audit_head != GENESIS && !hashes.contains(a.audit_head.as_str()))
        .cloned()
        .collect()
}
