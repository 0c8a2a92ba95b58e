//! Writing registry records: one database transaction, fed by buffered batches.
//!
//! [`ImportTx`] turns each record into a row (JSON, search keys) and buffers it per
//! table; a full buffer goes as one statement (see [`crate::schema`]) to a writer task
//! that owns the transaction. The caller encodes the next batch while the database
//! writes the previous one. Commands reach the writer in the order they were made:
//!
//! - within a buffer a later upsert of the same key replaces the earlier one
//!   (PostgreSQL refuses to update one row twice in a statement);
//! - a delete first sends every buffer, so upserts and deletes take effect in order;
//! - a bulk load into an empty table builds its secondary indexes once, at commit.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use kofu_domain::{RecordKey, RegistryRecord};
use sqlx::{
    AssertSqlSafe, Connection, PgConnection, Postgres, SqlSafeStr, Sqlite, SqliteConnection,
    SqlitePool, Transaction,
};
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;
use crate::schema::{self, TABLES, Table, Value, query_with_values};
use crate::{Pool, text};

/// The transaction of one backend.
enum Tx {
    Sqlite(Transaction<'static, Sqlite>, RollbackJournal),
    Postgres(Transaction<'static, Postgres>),
}

/// A first load into an empty SQLite database, while no other connection is open, runs
/// under the rollback journal instead of the WAL: SQLite then writes each page once, into
/// the file (pages past the file's end at the start need no journal), instead of into the
/// WAL and a second time at the checkpoint. That is about a quarter of a large load's
/// time, and the WAL file no longer grows to the size of the database.
///
/// Leaving WAL mode needs every other connection closed, so this is only tried when the
/// pool's other connections are idle (it closes them); otherwise the load runs in WAL
/// mode as any other import. A connection opened meanwhile waits (busy timeout) for the
/// end of the import, and then switches the database back to WAL mode if need be.
struct RollbackJournal {
    /// Set when the database was switched: to switch it back to WAL at the end.
    switched: Option<SqlitePool>,
    /// Flushes the file's written pages to disk while the load runs (see `Flusher`).
    _flusher: Option<Flusher>,
}

/// Asks the kernel, every [`FLUSH_EVERY`], to write to disk the pages a first load has
/// written into the database file so far. Without it the kernel keeps up to a tenth of
/// the machine's memory dirty, and the commit's fsync wrote the whole database at once:
/// two seconds of a million-resident load spent waiting, with the CPUs idle. Each
/// `sync_data` runs on a thread of its own, which SQLite never waits for; it stops when
/// dropped.
struct Flusher {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How often the [`Flusher`] asks. A quarter of a second, not a second: the index
/// builds at the end of a load write their pages fast, and what is still dirty when they
/// end waits for the commit's fsync. A million-resident import, six runs each way in
/// turn: 17.6-22.4 s (mean 19.7 s) asking every second, 17.9-19.9 s (mean 18.8 s) every
/// quarter second; every tenth of a second was no better.
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Flusher {
    /// Starts flushing the file of `conn`'s main database (none for an in-memory one).
    async fn start(conn: &mut SqliteConnection) -> Result<Option<Flusher>, StoreError> {
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&mut *conn)
                .await?;
        if file.is_empty() {
            return Ok(None);
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            // Its own handle: SQLite's are not ours to use. Any failure only ends the
            // flushing; the commit's own fsync still makes the load durable.
            let Ok(handle) = std::fs::File::open(&file) else {
                return;
            };
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(FLUSH_EVERY);
                if stopped.load(Ordering::Relaxed) || handle.sync_data().is_err() {
                    return;
                }
            }
        });
        Ok(Some(Flusher { stop }))
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl RollbackJournal {
    /// Switches to the rollback journal if the registry is empty and no other connection
    /// is open; `conn` is the one the import will run on.
    async fn take(
        pool: &SqlitePool,
        conn: &mut SqliteConnection,
    ) -> Result<RollbackJournal, StoreError> {
        let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM residents)")
            .fetch_one(&mut *conn)
            .await?;
        if !empty {
            return Ok(RollbackJournal {
                switched: None,
                _flusher: None,
            });
        }
        // Idle connections hold the WAL open: close them. One still in use may be on its
        // way back to the pool (sqlx returns a connection in a task of its own), so look
        // again a few times before concluding that someone else is reading.
        for attempt in 0.. {
            while let Some(idle) = pool.try_acquire() {
                idle.close().await?;
            }
            if pool.size() <= 1 {
                break;
            }
            if attempt == 10 {
                return Ok(RollbackJournal {
                    switched: None,
                    _flusher: None,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // A cached statement left unreset keeps a read open on this connection too.
        conn.clear_cached_statements().await?;
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut *conn)
            .await?;
        let mode: Result<String, sqlx::Error> = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut *conn)
            .await;
        sqlx::query(BUSY_TIMEOUT).execute(&mut *conn).await?;
        let switched = matches!(mode.as_deref(), Ok("delete")).then(|| pool.clone());
        let _flusher = match switched {
            Some(_) => Flusher::start(conn).await?,
            None => None,
        };
        Ok(RollbackJournal { switched, _flusher })
    }

    /// Back to WAL mode, if this import left it. A failure here leaves the data intact,
    /// and the next connection opened switches to WAL again.
    async fn give_back(self) -> Result<(), StoreError> {
        if let Some(pool) = self.switched {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(())
    }
}

/// Runs `$body` with `$conn` bound to the transaction's concrete connection.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx {
            Tx::Sqlite(t, _) => {
                let $conn: &mut SqliteConnection = &mut **t;
                $body
            }
            Tx::Postgres(t) => {
                let $conn: &mut PgConnection = &mut **t;
                $body
            }
        }
    };
}

/// The rows waiting to be written to one table.
#[derive(Default)]
struct Buffer {
    /// Column values of each row, row after row.
    values: Vec<Value>,
    /// The index of each row in `values`, found by its key: the row's first values
    /// (a table's key columns come first). The keys stay in the rows, not copied out
    /// into a map of their own.
    rows: HashTable<usize>,
}

/// A registry record made into the row its table stores: the search keys and the JSON
/// document computed, the record itself no longer needed. This is pure work without IO,
/// so that an importer can do it on the threads that parse the feed while the database
/// writes, and drop each record where it was made.
#[derive(Debug)]
pub struct ImportRow {
    table: Table,
    type_name: &'static str,
    values: Vec<Value>,
}

impl ImportRow {
    /// The row of `record`. `json`, when given, is the JSON object the record was read
    /// from (as the registry sent it, extra members and all), stored as the record's
    /// document instead of writing the record out again; it must read back to `record`.
    pub fn new(record: RegistryRecord, json: Option<String>) -> Result<ImportRow, StoreError> {
        let type_name = record.type_name();
        let (table, values) = schema::row_of(record, json)?;
        Ok(ImportRow {
            table,
            type_name,
            values,
        })
    }

    /// The record's type as the feed names it (`resident`, `koseki`, …).
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The 地方公共団体コード of a municipality record (`None` for other records).
    pub fn municipality_code(&self) -> Option<&str> {
        match (self.type_name, self.values.get(1)) {
            ("municipality", Some(schema::Value::Text(code))) => Some(code),
            _ => None,
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the writer task is asked to do, in order.
enum Command {
    /// Upsert these rows; an error is reported by the next command that replies.
    Batch {
        table: Table,
        rows: usize,
        values: Vec<Value>,
    },
    Delete(RecordKey, Reply<bool>),
    /// Log an applied change event (an error is reported like a batch's).
    LogChange {
        seq: i64,
        at: String,
        line: String,
        refs: Vec<String>,
    },
    LastSeq(Reply<Option<i64>>),
    ClearRegistry(Reply<()>),
    BumpLoads(Reply<()>),
    SetFeedState(i64, OffsetDateTime, Reply<()>),
    Commit(Reply<()>),
    Rollback(Reply<()>),
}

/// SQLite's page cache while an import runs: 256 MiB instead of the connections' 128 MiB,
/// so that a large load rewrites fewer pages it has already written once. Not more: each
/// page of the cache is memory the process touches for the first time, which the kernel
/// must zero (and, on a virtual machine, the host must back). A 1 GiB cache cost a
/// million-resident load about 2 s of kernel time and 1.5 s of its wall time.
const IMPORT_CACHE: &str = "PRAGMA cache_size = -262144";

/// The connections' page cache, restored when the import ends (as `Store::open_sqlite`
/// sets it), and SQLite's defaults for sorting (see [`index_build_settings`]).
const NORMAL_SETTINGS: &str =
    "PRAGMA cache_size = -131072; PRAGMA threads = 0; PRAGMA temp_store = DEFAULT";

/// SQLite's settings while a bulk load builds the indexes it dropped: one sorting thread
/// per core besides the connection's own, and a 4 MiB page cache.
///
/// SQLite sorts an index's entries in memory runs of the page cache's size (at least 250
/// pages: 4 MiB); with threads, each full run is sorted on a thread of its own while the
/// table scan goes on, and the runs are merged by several threads at the end. Its threads
/// are used only when the runs go to temporary files, hence `temp_store = FILE` (this
/// build keeps temporary data in memory by default). A million-resident load builds its
/// indexes in about two thirds of the time. Small runs keep the sorting threads busy
/// from early in the scan: building the indexes of a million-resident load took
/// 5.6–6.0 s with 16 MiB runs, 4.3–4.6 s with 4 MiB ones. The small cache also makes
/// SQLite write the load's pages into the file during the builds, while the flusher
/// writes them to disk, instead of all at the commit.
fn index_build_settings() -> String {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    format!("PRAGMA temp_store = FILE; PRAGMA threads = {threads}; PRAGMA cache_size = -4096")
}

/// The connections' busy timeout (as `Store::open_sqlite` sets it).
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 30000";

/// Batches sent but not yet written, at most: bounds memory, keeps the writer busy.
const QUEUE: usize = 2;

/// An import in progress: one database transaction. Dropping it without
/// [`commit`](ImportTx::commit) rolls everything back.
///
/// Upserts are buffered and written in the background: an error of such a write is
/// returned by a later call (at the latest by `commit`), after which the transaction is
/// rolled back and every call fails with [`StoreError::Aborted`].
pub struct ImportTx {
    commands: mpsc::Sender<Command>,
    buffers: Vec<Buffer>,
    /// Hashes the buffered rows' keys. foldhash, not SipHash: keys come from the
    /// registry, and SipHash took a percent of a full load.
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for ImportTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let buffered: usize = self.buffers.iter().map(|b| b.rows.len()).sum();
        f.debug_struct("ImportTx")
            .field("buffered_rows", &buffered)
            .finish_non_exhaustive()
    }
}

impl ImportTx {
    pub(crate) async fn begin(pool: &Pool) -> Result<ImportTx, StoreError> {
        let tx = match pool {
            // Take the write lock now, not at the first write: a second import waits
            // here instead of failing later.
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let journal = RollbackJournal::take(pool, &mut conn).await?;
                // The transaction must run on this very connection: another one, opened
                // by the pool, would switch the database back to WAL mode. (Pool offers
                // `begin_with` only on a connection of its choosing.)
                let mut tx =
                    Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
                sqlx::query(IMPORT_CACHE).execute(&mut *tx).await?;
                Tx::Sqlite(tx, journal)
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT id FROM feed_state WHERE id = 1 FOR UPDATE")
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        };
        let (commands, receiver) = mpsc::channel(QUEUE);
        let writer = Writer {
            tx,
            bulk_checked: vec![false; TABLES.len()],
            dropped: Vec::new(),
            failed: None,
        };
        tokio::spawn(writer.run(receiver));
        Ok(ImportTx {
            commands,
            buffers: TABLES.iter().map(|_| Buffer::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
        })
    }

    /// The `seq` of the last change event applied, as this transaction sees it.
    pub async fn last_seq(&mut self) -> Result<Option<i64>, StoreError> {
        self.ask(Command::LastSeq).await
    }

    /// Inserts a record, or replaces the one with the same [`RecordKey`]. The write is
    /// buffered until its batch is full, a delete, or the commit.
    pub async fn upsert(&mut self, record: &RegistryRecord) -> Result<(), StoreError> {
        self.upsert_row(ImportRow::new(record.clone(), None)?).await
    }

    /// [`upsert`](Self::upsert) of a record already made into its row, on whatever
    /// thread the importer chose (see [`ImportRow`]).
    pub async fn upsert_row(&mut self, row: ImportRow) -> Result<(), StoreError> {
        let ImportRow { table, values, .. } = row;
        let width = table.columns.len();
        let key = ..table.key.len();
        let hash = self.hasher.hash_one(&values[key]);
        let Buffer {
            values: buffered,
            rows,
        } = &mut self.buffers[table.index];
        match rows.find(hash, |&row| buffered[row * width..][key] == values[key]) {
            Some(&row) => {
                for (slot, value) in buffered[row * width..(row + 1) * width]
                    .iter_mut()
                    .zip(values)
                {
                    *slot = value;
                }
            }
            None => {
                if buffered.is_empty() {
                    buffered.reserve(table.batch_rows() * width);
                }
                let hasher = &self.hasher;
                rows.insert_unique(hash, rows.len(), |&row| {
                    hasher.hash_one(&buffered[row * width..][key])
                });
                buffered.extend(values);
            }
        }
        if rows.len() >= table.batch_rows() {
            self.send_buffer(table).await?;
        }
        Ok(())
    }

    /// Deletes the record with this key, after every upsert made before. Returns
    /// whether there was one.
    pub async fn delete(&mut self, key: &RecordKey) -> Result<bool, StoreError> {
        self.send_all().await?;
        let key = key.clone();
        self.ask(|reply| Command::Delete(key, reply)).await
    }

    /// Deletes every registry record (not the feed position): a replica about to load
    /// a fresh snapshot.
    pub async fn clear_registry(&mut self) -> Result<(), StoreError> {
        self.ask(Command::ClearRegistry).await
    }

    /// Records that this import loads full records (a new generation of the data: see
    /// `feed_state.loads`).
    pub async fn bump_loads(&mut self) -> Result<(), StoreError> {
        self.ask(Command::BumpLoads).await
    }

    /// Logs an applied change event as its feed line, with the IDs it concerns, for the
    /// terminals' replicas and for checking offline issuances afterwards.
    pub async fn log_change(
        &mut self,
        seq: i64,
        at: &str,
        line: String,
        refs: Vec<String>,
    ) -> Result<(), StoreError> {
        self.commands
            .send(Command::LogChange {
                seq,
                at: at.to_owned(),
                line,
                refs,
            })
            .await
            .map_err(|_| StoreError::Aborted)
    }

    /// Records `seq` (and its `at`) as the last change event applied; it becomes visible
    /// with the rest of the transaction. The instant is stored in UTC.
    pub async fn set_feed_state(&mut self, seq: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        self.ask(|reply| Command::SetFeedState(seq, at, reply))
            .await
    }

    /// Writes what is buffered and commits: everything becomes visible at once.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.send_all().await?;
        self.ask(Command::Commit).await
    }

    /// Discards everything this transaction did.
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        self.ask(Command::Rollback).await
    }

    /// Sends a command and waits for its reply.
    async fn ask<T>(&mut self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| StoreError::Aborted)?;
        answer.await.map_err(|_| StoreError::Aborted)?
    }

    async fn send_all(&mut self) -> Result<(), StoreError> {
        for table in TABLES {
            self.send_buffer(*table).await?;
        }
        Ok(())
    }

    /// Hands one table's buffer to the writer.
    async fn send_buffer(&mut self, table: Table) -> Result<(), StoreError> {
        let buffer = &mut self.buffers[table.index];
        let rows = buffer.rows.len();
        if rows == 0 {
            return Ok(());
        }
        buffer.rows.clear();
        let values = std::mem::take(&mut buffer.values);
        self.commands
            .send(Command::Batch {
                table,
                rows,
                values,
            })
            .await
            .map_err(|_| StoreError::Aborted)
    }
}

/// The task that owns the transaction and runs the commands.
struct Writer {
    tx: Tx,
    /// Per table: whether a bulk load was looked for already.
    bulk_checked: Vec<bool>,
    /// Tables whose secondary indexes were dropped, to build at commit.
    dropped: Vec<Table>,
    /// The error of a batch, until a command reports it.
    failed: Option<StoreError>,
}

impl Writer {
    /// Runs commands until a commit or rollback; if the [`ImportTx`] is dropped first,
    /// the transaction is dropped, which rolls it back.
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Batch {
                    table,
                    rows,
                    values,
                } => {
                    if self.failed.is_none()
                        && let Err(e) = self.write(table, rows, values).await
                    {
                        self.failed = Some(e);
                    }
                }
                Command::LogChange {
                    seq,
                    at,
                    line,
                    refs,
                } => {
                    if self.failed.is_none()
                        && let Err(e) = self.log_change(seq, &at, &line, &refs).await
                    {
                        self.failed = Some(e);
                    }
                }
                Command::Delete(key, reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.delete(&key).await,
                    };
                    if !self.answer(reply, result) {
                        break;
                    }
                }
                Command::BumpLoads(reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.bump_loads().await,
                    };
                    if !self.answer(reply, result) {
                        break;
                    }
                }
                Command::ClearRegistry(reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.clear_registry().await,
                    };
                    if !self.answer(reply, result) {
                        break;
                    }
                }
                Command::LastSeq(reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.last_seq().await,
                    };
                    if !self.answer(reply, result) {
                        break;
                    }
                }
                Command::SetFeedState(seq, at, reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.set_feed_state(seq, at).await,
                    };
                    if !self.answer(reply, result) {
                        break;
                    }
                }
                Command::Commit(reply) => {
                    let result = match self.failed.take() {
                        Some(e) => Err(e),
                        None => self.commit().await,
                    };
                    let _ = reply.send(result);
                    return;
                }
                Command::Rollback(reply) => {
                    let _ = reply.send(self.rollback().await);
                    return;
                }
            }
        }
        // The ImportTx was dropped, or a command failed: roll back.
        let _ = self.rollback().await;
    }

    /// Gives the connection back its normal page cache ([`IMPORT_CACHE`]) and the
    /// sorting settings of [`index_build_settings`]. Lowering the cache's limit evicts
    /// no page a commit has yet to write.
    async fn restore_cache(&mut self) -> Result<(), StoreError> {
        if let Tx::Sqlite(tx, _) = &mut self.tx {
            sqlx::raw_sql(NORMAL_SETTINGS).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Discards the transaction.
    async fn rollback(mut self) -> Result<(), StoreError> {
        self.restore_cache().await?;
        match self.tx {
            Tx::Sqlite(tx, journal) => {
                tx.rollback().await?;
                journal.give_back().await?;
            }
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Replies; returns whether to go on (a failed transaction ends here and rolls back).
    fn answer<T>(&mut self, reply: Reply<T>, result: Result<T, StoreError>) -> bool {
        let ok = result.is_ok();
        let _ = reply.send(result);
        ok
    }

    async fn bump_loads(&mut self) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE feed_state SET loads = loads + 1 WHERE id = 1";
        on_tx!(self.tx, conn => { sqlx::query(SQL).execute(conn).await?; });
        Ok(())
    }

    async fn clear_registry(&mut self) -> Result<(), StoreError> {
        for table in TABLES {
            let sql = format!("DELETE FROM {}", table.name);
            on_tx!(self.tx, conn => {
                sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
            });
        }
        Ok(())
    }

    async fn log_change(
        &mut self,
        seq: i64,
        at: &str,
        line: &str,
        refs: &[String],
    ) -> Result<(), StoreError> {
        const CHANGE: &str = "INSERT INTO registry_changes (seq, at, line) VALUES ($1, $2, $3)";
        const REF: &str = "INSERT INTO registry_change_refs (ref, seq) VALUES ($1, $2) \
                           ON CONFLICT DO NOTHING";
        on_tx!(self.tx, conn => {
            sqlx::query(CHANGE).bind(seq).bind(at).bind(line).execute(&mut *conn).await?;
            for r in refs {
                sqlx::query(REF).bind(r).bind(seq).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    async fn last_seq(&mut self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT last_seq FROM feed_state WHERE id = 1";
        let seq: Option<Option<i64>> = on_tx!(self.tx, conn => {
            sqlx::query_scalar(SQL).fetch_optional(conn).await?
        });
        Ok(seq.flatten())
    }

    async fn delete(&mut self, key: &RecordKey) -> Result<bool, StoreError> {
        let (sql, binds): (&'static str, Vec<Value>) = match key {
            RecordKey::Municipality => ("DELETE FROM municipality", vec![]),
            RecordKey::Resident(id) => (
                "DELETE FROM residents WHERE resident_id = $1",
                vec![text(id)],
            ),
            RecordKey::Seal(id) => ("DELETE FROM seals WHERE resident_id = $1", vec![text(id)]),
            RecordKey::Card(serial) => (
                "DELETE FROM cards WHERE auth_serial = $1",
                vec![text(serial)],
            ),
            RecordKey::Koseki(id) => ("DELETE FROM koseki WHERE koseki_id = $1", vec![text(id)]),
            RecordKey::Fuhyo(id, member_no) => (
                "DELETE FROM fuhyo WHERE koseki_id = $1 AND member_no = $2",
                vec![text(id), Value::I32(schema::member_no(*member_no)?)],
            ),
            RecordKey::Tax(id, year) => (
                "DELETE FROM tax WHERE resident_id = $1 AND fiscal_year = $2",
                vec![text(id), Value::I32(*year)],
            ),
            RecordKey::SupportMeasure(id) => (
                "DELETE FROM support_measures WHERE resident_id = $1",
                vec![text(id)],
            ),
            RecordKey::Suppression(scope, id) => (
                "DELETE FROM suppressions WHERE scope = $1 AND id = $2",
                vec![text(schema::scope_name(*scope)), text(id)],
            ),
        };
        let affected = on_tx!(self.tx, conn => {
            query_with_values(sql, binds)?.execute(conn).await?.rows_affected()
        });
        Ok(affected > 0)
    }

    async fn set_feed_state(&mut self, seq: i64, at: OffsetDateTime) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO feed_state (id, last_seq, last_at) VALUES (1, $1, $2) \
            ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, last_at = excluded.last_at";
        let at = at.to_offset(UtcOffset::UTC);
        on_tx!(self.tx, conn => {
            sqlx::query(SQL).bind(seq).bind(at).execute(conn).await?;
        });
        Ok(())
    }

    async fn commit(mut self) -> Result<(), StoreError> {
        self.rebuild_indexes().await?;
        // Tells use cases that read registry data before this commit to read again.
        on_tx!(self.tx, conn => {
            sqlx::query("UPDATE feed_state SET version = version + 1 WHERE id = 1")
                .execute(conn)
                .await?;
        });
        self.restore_cache().await?;
        match self.tx {
            Tx::Sqlite(tx, journal) => {
                tx.commit().await?;
                journal.give_back().await?;
            }
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Writes one batch as one statement.
    async fn write(
        &mut self,
        table: Table,
        rows: usize,
        values: Vec<Value>,
    ) -> Result<(), StoreError> {
        if rows == table.batch_rows() && !self.bulk_checked[table.index] {
            self.bulk_checked[table.index] = true;
            self.drop_indexes_if_empty(table).await?;
        }
        match &mut self.tx {
            Tx::Sqlite(tx, _) => {
                let sql = AssertSqlSafe(schema::values_batch_sql(&table, rows));
                query_with_values(sql, values)?.execute(&mut **tx).await?;
            }
            Tx::Postgres(tx) => {
                let columns = schema::into_columns(values, table.columns.len())?;
                let sql = AssertSqlSafe(schema::unnest_upsert_sql(&table, &columns));
                schema::bind_columns(sqlx::query(sql), columns)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// A bulk load (a full batch) into an empty table: drops its secondary indexes, to
    /// build them at commit from sorted data instead of row by row (about twice as fast).
    /// The DDL is part of the transaction on both backends; on PostgreSQL it locks the
    /// (empty) table against readers until the commit.
    async fn drop_indexes_if_empty(&mut self, table: Table) -> Result<(), StoreError> {
        if table.indexes.is_empty() {
            return Ok(());
        }
        let probe = format!("SELECT 1 FROM {} LIMIT 1", table.name);
        let occupied = on_tx!(self.tx, conn => {
            sqlx::query(AssertSqlSafe(probe)).fetch_optional(conn).await?.is_some()
        });
        if occupied {
            return Ok(());
        }
        for (name, _) in table.indexes {
            let sql = format!("DROP INDEX {name}");
            on_tx!(self.tx, conn => {
                sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
            });
        }
        self.dropped.push(table);
        Ok(())
    }

    /// Builds the indexes that a bulk load dropped.
    async fn rebuild_indexes(&mut self) -> Result<(), StoreError> {
        if self.dropped.is_empty() {
            return Ok(());
        }
        if let Tx::Sqlite(tx, _) = &mut self.tx {
            sqlx::raw_sql(AssertSqlSafe(index_build_settings()))
                .execute(&mut **tx)
                .await?;
        }
        for table in std::mem::take(&mut self.dropped) {
            for (name, definition) in table.indexes {
                let sql = format!("CREATE INDEX {name} ON {definition}");
                on_tx!(self.tx, conn => {
                    sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
                });
            }
        }
        Ok(())
    }
}
