//! kofu-store: the storage of kofu.
//!
//! The registry data the town hall issues certificates from (the municipality,
//! residents and households, seals, cards, 戸籍 and 附票, tax records, support
//! measures, suppressions) and the position of the registry feed, on either
//!
//! - **SQLite** (`sqlite:PATH`): embedded, one machine, the default; or
//! - **PostgreSQL** (`postgres://…`): a town hall with several counters,
//!
//! with the same behaviour on both. Each backend has its own migrations
//! (`migrations/sqlite/`, `migrations/postgres/`), applied by [`Store::open`].
//!
//! Every record is stored whole, as the JSON of its domain type (names keep their
//! variation selectors byte for byte), next to the columns it is found by. Reads return
//! domain types. Writes go through an [`ImportTx`]: one database transaction that
//! batches upserts into multi-row statements.

use std::str::FromStr;
use std::time::Duration;

use kofu_domain::records::SuppressionScope;
use kofu_domain::{
    Card, Fuhyo, Koseki, Municipality, Resident, Seal, SupportMeasure, Suppression, TaxRecord,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row as _};
use time::OffsetDateTime;

/// A pooled PostgreSQL connection idle this long is pinged again before use (see
/// `Store::open`). One back in the pool for less was found alive by the ping sqlx makes
/// as a connection comes back; under load, connections are reused within milliseconds
/// and skip the second round trip, while a quiet counter's are still tested.
const PG_IDLE_RETEST: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `$body` with `$pool` bound to the concrete pool of the store's backend. The body
/// is written once and compiled for each driver (sqlx's `Any` driver cannot carry
/// PostgreSQL's `timestamptz` and friends).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}

mod error;
mod grants;
mod import;
pub mod ledger;
pub mod offline;
mod schema;
mod seal;
mod search;
pub mod settings;
pub mod staff;
pub mod terminal;

pub use error::StoreError;
pub use import::{ImportRow, ImportTx};
pub use ledger::{AuditAnchor, AuditEntry, AuditProblem, AuditRow, AuditVerdict, Cell, LedgerTx};
pub use search::ResidentQuery;

use schema::{Value, query_with_values};

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL, shared by several counters.
    Postgres,
}

/// The connection pool of one backend.
#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The storage of kofu: a pool of connections to one database. Cloning is cheap and
/// clones share the pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Serializes this process's SQLite write transactions before they take the
    /// database lock, so that waiting ones hold no pool connection.
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// PostgreSQL: the background task that chains committed audit entries.
    sealer: Option<seal::Sealer>,
}

/// How many records of each type the store holds, and the feed position.
///
/// Serializes as `{"residents":25,"households":14,…,"last_seq":1042}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Resident records (any status).
    pub residents: u64,
    /// Distinct households among the residents.
    pub households: u64,
    /// Seal registrations.
    pub seals: u64,
    /// Card serials.
    pub cards: u64,
    /// 戸籍.
    pub koseki: u64,
    /// 附票 (one per 戸籍 member).
    pub fuhyo: u64,
    /// Tax records (one per resident and fiscal year).
    pub tax: u64,
    /// Support measures in force.
    pub support_measures: u64,
    /// Suppressions in force.
    pub suppressions: u64,
    /// 1 once the municipality record is loaded, else 0.
    pub municipality: u64,
    /// The last acknowledged change event, if any.
    pub last_seq: Option<i64>,
}

/// The last change event of the registry feed that the store has applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FeedState {
    /// Its `seq`.
    pub last_seq: i64,
    /// Its `at`, as the same instant in UTC (PostgreSQL keeps no offset).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Rows per statement when reading by a list of keys.
const IN_LIST_CHUNK: usize = 500;

impl Store {
    /// Opens the database at `url` and applies pending migrations.
    ///
    /// - `sqlite:PATH` or `sqlite://PATH`: the file is created if missing (16 KiB
    ///   pages); WAL journal, `synchronous=NORMAL`, foreign keys on, a 128 MiB page
    ///   cache per connection.
    /// - `postgres://…` or `postgresql://…`: the database must exist. Its parameters
    ///   are sqlx's (e.g. `?options=-c search_path=kofu` to use a schema).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("sqlite:") {
            // 16 KiB pages for a new file (an existing one keeps its size): a town's
            // import writes and scans a third fewer pages' worth of overhead, and the
            // file is smaller. An encrypted replica keeps SQLCipher's own page size.
            Store::open_sqlite(SqliteConnectOptions::from_str(url)?.page_size(16384)).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                // sqlx pings a connection as it returns to the pool; pinging it again as
                // it leaves, a moment later, cost a round trip per statement (about a
                // dozen per kiosk session, 10 % of the load's throughput).
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PG_IDLE_RETEST {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(options)
                .await?;
            let migrator = sqlx::migrate!("migrations/postgres");
            // A server role without CREATE on the schema (see `grant_server_role`) cannot
            // even ask sqlx to migrate: skip it when every migration is applied already.
            if !pg_migrations_applied(&pool, &migrator).await? {
                migrator.run(&pool).await?;
            }
            Ok(Store {
                sealer: Some(seal::Sealer::start(pool.clone())),
                pool: Pool::Postgres(pool),
                sqlite_writer: Default::default(),
            })
        } else {
            let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
            Err(StoreError::UnsupportedUrl(scheme.to_owned()))
        }
    }

    /// Opens an SQLite database with kofu's settings over `options` (file, key).
    pub(crate) async fn open_sqlite(options: SqliteConnectOptions) -> Result<Store, StoreError> {
        // No `journal_mode` here: each connection would set it as it opens, and switching
        // a database's mode takes a lock no busy timeout waits for, so a connection opened
        // while a first load runs under the rollback journal (see `import`) would fail.
        // WAL mode is a property of the file, set once below.
        create_owner_only(options.get_filename())?;
        let options = options
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-131072")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Fails only while another process's first load holds the file, and that
            // load switches to WAL mode at its end.
            let _ = sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await;
        }
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
            sqlite_writer: Default::default(),
            sealer: None,
        })
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the database's own bookkeeping up to date after a large import, so the
    /// first searches after a full load are as fast as the later ones.
    ///
    /// On PostgreSQL: `VACUUM (ANALYZE)` of the registry tables. The planner's
    /// statistics come from ANALYZE, and the name search's index-only scans skip the
    /// table only for pages the visibility map (set by VACUUM) marks all-visible;
    /// until autovacuum comes by, a family name alone costs a heap visit per match.
    /// On SQLite there is nothing to refresh: it has no visibility map, and its
    /// planner's defaults already pick the name and birth-date indexes.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            // One statement outside any transaction: VACUUM refuses to run inside one.
            sqlx::raw_sql(
                "VACUUM (ANALYZE) residents, koseki, fuhyo, seals, cards, tax, \
                 support_measures, suppressions",
            )
            .execute(pool)
            .await?;
        }
        Ok(())
    }

    /// Closes every connection of the pool (shared by all clones), waiting for those in use.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }

    /// Starts an import: one database transaction, serialized against other imports
    /// (SQLite `BEGIN IMMEDIATE`; PostgreSQL locks the feed-state row), so that checking
    /// [`ImportTx::last_seq`] and applying the next events cannot race. Its writes run
    /// in a task spawned on the current tokio runtime.
    pub async fn begin_import(&self) -> Result<ImportTx, StoreError> {
        ImportTx::begin(&self.pool).await
    }

    /// Counts of each record type and the feed position.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        const SQL: &str = "SELECT \
            (SELECT COUNT(*) FROM residents), \
            (SELECT COUNT(DISTINCT household_id) FROM residents), \
            (SELECT COUNT(*) FROM seals), \
            (SELECT COUNT(*) FROM cards), \
            (SELECT COUNT(*) FROM koseki), \
            (SELECT COUNT(*) FROM fuhyo), \
            (SELECT COUNT(*) FROM tax), \
            (SELECT COUNT(*) FROM support_measures), \
            (SELECT COUNT(*) FROM suppressions), \
            (SELECT COUNT(*) FROM municipality), \
            (SELECT last_seq FROM feed_state WHERE id = 1)";
        let (counts, last_seq) = on_pool!(self, pool => {
            let row = sqlx::query(SQL).fetch_one(pool).await?;
            let mut counts = [0u64; 10];
            for (i, count) in counts.iter_mut().enumerate() {
                // COUNT(*) is never negative.
                *count = u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0);
            }
            (counts, row.try_get::<Option<i64>, _>(10)?)
        });
        let [
            residents,
            households,
            seals,
            cards,
            koseki,
            fuhyo,
            tax,
            support_measures,
            suppressions,
            municipality,
        ] = counts;
        Ok(Stats {
            residents,
            households,
            seals,
            cards,
            koseki,
            fuhyo,
            tax,
            support_measures,
            suppressions,
            municipality,
            last_seq,
        })
    }

    /// The last acknowledged change event, or `None` before the first.
    pub async fn feed_state(&self) -> Result<Option<FeedState>, StoreError> {
        const SQL: &str = "SELECT last_seq, last_at FROM feed_state WHERE id = 1";
        let row: Option<(Option<i64>, Option<OffsetDateTime>)> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_optional(pool).await?);
        Ok(match row {
            Some((Some(last_seq), Some(at))) => Some(FeedState { last_seq, at }),
            _ => None,
        })
    }

    /// The municipality record as the feed last sent it (see [`Store::municipality`] for
    /// the one certificates are issued with).
    pub async fn feed_municipality(&self) -> Result<Option<Municipality>, StoreError> {
        self.one(
            "municipality",
            "",
            "SELECT doc FROM municipality WHERE id = 1",
            vec![],
        )
        .await
    }

    /// A resident by resident ID, whatever their status.
    pub async fn resident(&self, resident_id: &str) -> Result<Option<Resident>, StoreError> {
        self.one(
            "resident",
            resident_id,
            "SELECT doc FROM residents WHERE resident_id = $1",
            vec![text(resident_id)],
        )
        .await
    }

    /// The members of a household, head of household (世帯主) first, then by resident ID.
    /// Empty if no resident has this household ID.
    pub async fn household(&self, household_id: &str) -> Result<Vec<Resident>, StoreError> {
        let mut members: Vec<Resident> = self
            .all(
                "resident",
                household_id,
                "SELECT doc FROM residents WHERE household_id = $1 ORDER BY resident_id",
                vec![text(household_id)],
            )
            .await?;
        head_first(&mut members);
        Ok(members)
    }

    /// A resident with everything the eligibility rules read about them, in one
    /// statement (so one snapshot, and one round trip instead of five): their
    /// household as [`Store::household`] orders it, seal registration, suppressions as
    /// [`Store::suppressions`] orders them, and the support measures on them or any
    /// member of their household, by resident ID. `None` if there is no such resident.
    pub async fn resident_records(
        &self,
        resident_id: &str,
    ) -> Result<Option<ResidentRecords>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(self, pool => {
            sqlx::query_as(RESIDENT_RECORDS_SQL).bind(resident_id).fetch_all(pool).await?
        });
        resident_records_of(resident_id, rows)
    }

    /// [`Store::municipality`] and [`Store::resident_records`] in one statement: what
    /// every certificate of a resident reads first, in one snapshot and one round trip.
    pub async fn town_and_resident_records(
        &self,
        resident_id: &str,
    ) -> Result<(Option<Municipality>, Option<ResidentRecords>), StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "{} UNION ALL {}",
                town_parts_sql("'town' AS part"),
                records_parts_sql("$1")
            )
        });
        let parts = self.parts(&SQL, &[resident_id]).await?;
        Ok((
            settings::town_of(parts.town, parts.settings)?,
            resident_records_of(resident_id, parts.records)?,
        ))
    }

    /// What a kiosk request reads first, in one statement: the card with serial
    /// `serial` (or else `other_spelling`, the same serial in another case), the town
    /// as [`Store::municipality`] answers it, and the card holder's records as
    /// [`Store::resident_records`] answers them. For an issuance (`issuance_request`:
    /// its request ID), also the registry version and whether that request was issued
    /// before, all in the same snapshot.
    pub async fn card_holder(
        &self,
        serial: &str,
        other_spelling: &str,
        issuance_request: Option<&str>,
    ) -> Result<CardHolder, StoreError> {
        fn sql(issuance: bool) -> String {
            let mut sql = format!(
                "WITH holder_card AS (SELECT resident_id, doc FROM cards \
                     WHERE auth_serial = $1 OR auth_serial = $2 \
                     ORDER BY auth_serial = $1 DESC LIMIT 1) \
                 SELECT 'card' AS part, '' AS setting, 0 AS revision, doc AS value, \
                     '' AS reason, '' AS staff, '' AS at FROM holder_card \
                 UNION ALL {} UNION ALL {}",
                town_parts_sql("'town'"),
                records_parts_sql("(SELECT resident_id FROM holder_card)")
            );
            if issuance {
                // The version rides in the integer column.
                sql.push_str(
                    " UNION ALL SELECT 'version', '', version, '', '', '', '' \
                     FROM feed_state WHERE id = 1 \
                     UNION ALL SELECT 'earlier', '', 0, issuance_id, '', '', '' \
                     FROM issuances WHERE request_id = $3",
                );
            }
            sql
        }
        static INQUIRY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql(false));
        static ISSUANCE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| sql(true));
        let parts = match issuance_request {
            None => self.parts(&INQUIRY, &[serial, other_spelling]).await?,
            Some(request) => {
                self.parts(&ISSUANCE, &[serial, other_spelling, request])
                    .await?
            }
        };
        let card: Option<Card> = parts
            .card
            .map(|doc| decode("card", serial, &doc))
            .transpose()?;
        let records = match &card {
            Some(c) => resident_records_of(&c.resident_id, parts.records)?,
            None => None,
        };
        Ok(CardHolder {
            card,
            town: settings::town_of(parts.town, parts.settings)?,
            records,
            registry_version: parts.version,
            issued_before: parts.earlier.is_some(),
        })
    }

    /// Runs a statement of [`town_parts_sql`] and [`records_parts_sql`] rows (and a
    /// `card` row), and sorts its rows by part.
    async fn parts(&self, sql: &str, binds: &[&str]) -> Result<Parts, StoreError> {
        type Row = (String, String, i64, String, String, String, String);
        let rows: Vec<Row> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for b in binds {
                query = query.bind(*b);
            }
            query.fetch_all(pool).await?
        });
        let mut parts = Parts::default();
        for (part, setting, revision, value, reason, staff, at) in rows {
            match part.as_str() {
                "card" => parts.card = Some(value),
                "town" => parts.town = Some(value),
                "version" => parts.version = Some(revision),
                "earlier" => parts.earlier = Some(value),
                "setting" => parts.settings.push(settings::SettingRow {
                    setting,
                    revision,
                    value,
                    reason,
                    staff,
                    at,
                }),
                _ => parts.records.push((part, value)),
            }
        }
        Ok(parts)
    }

    /// The seal registration of a resident.
    pub async fn seal(&self, resident_id: &str) -> Result<Option<Seal>, StoreError> {
        self.one(
            "seal",
            resident_id,
            "SELECT doc FROM seals WHERE resident_id = $1",
            vec![text(resident_id)],
        )
        .await
    }

    /// A card by the serial of its 利用者証明用電子証明書.
    pub async fn card(&self, auth_serial: &str) -> Result<Option<Card>, StoreError> {
        self.one(
            "card",
            auth_serial,
            "SELECT doc FROM cards WHERE auth_serial = $1",
            vec![text(auth_serial)],
        )
        .await
    }

    /// A 戸籍 by ID.
    pub async fn koseki(&self, koseki_id: &str) -> Result<Option<Koseki>, StoreError> {
        self.one(
            "koseki",
            koseki_id,
            "SELECT doc FROM koseki WHERE koseki_id = $1",
            vec![text(koseki_id)],
        )
        .await
    }

    /// The 戸籍 a resident is in: among the 戸籍 of the resident's 本籍 (by ID order), the
    /// first of which [`Koseki::member_for`] finds the resident a member. `None` for a
    /// resident without 本籍 (foreign residents).
    pub async fn koseki_for(&self, resident: &Resident) -> Result<Option<Koseki>, StoreError> {
        let Some(honseki) = &resident.honseki else {
            return Ok(None);
        };
        let candidates: Vec<Koseki> = self
            .all(
                "koseki",
                honseki,
                "SELECT doc FROM koseki WHERE honseki = $1 ORDER BY koseki_id",
                vec![text(honseki)],
            )
            .await?;
        Ok(candidates
            .into_iter()
            .find(|k| k.member_for(resident).is_some()))
    }

    /// The resident records of the members of a 戸籍 that are residents of this town,
    /// as (member number, resident), in member order: a member linked explicitly by
    /// resident ID, else the resident [`Koseki::member_for`] matches (same 本籍, name and
    /// birth date). Members with no resident record here are left out.
    pub async fn koseki_residents(
        &self,
        koseki: &Koseki,
        member_nos: &[u32],
    ) -> Result<Vec<(u32, Resident)>, StoreError> {
        let wanted: Vec<&kofu_domain::koseki::KosekiMember> = koseki
            .members
            .iter()
            .filter(|m| member_nos.contains(&m.member_no))
            .collect();
        let mut candidates: Vec<Resident> = Vec::new();
        let linked: Vec<Value> = wanted
            .iter()
            .filter_map(|m| m.resident_id.as_deref().map(text))
            .collect();
        if !linked.is_empty() {
            let sql = format!(
                "SELECT doc FROM residents WHERE resident_id IN ({})",
                placeholders(1, linked.len())
            );
            candidates.extend(self.all::<Resident>("resident", "", sql, linked).await?);
        }
        let mut births: Vec<kofu_domain::Date> = wanted
            .iter()
            .filter(|m| m.resident_id.is_none())
            .map(|m| m.birth_date)
            .collect();
        births.sort();
        births.dedup();
        if !births.is_empty() {
            let sql = format!(
                "SELECT doc FROM residents WHERE birth_date IN ({})",
                placeholders(1, births.len())
            );
            let binds = births.iter().map(|d| Value::Date(d.as_time())).collect();
            candidates.extend(self.all::<Resident>("resident", "", sql, binds).await?);
        }
        Ok(wanted
            .iter()
            .filter_map(|m| {
                candidates
                    .iter()
                    .find(|r| koseki.member_for(r).map(|k| k.member_no) == Some(m.member_no))
                    .map(|r| (m.member_no, r.clone()))
            })
            .collect())
    }

    /// The 附票 of one member of a 戸籍.
    pub async fn fuhyo(
        &self,
        koseki_id: &str,
        member_no: u32,
    ) -> Result<Option<Fuhyo>, StoreError> {
        self.one(
            "fuhyo",
            &format!("{koseki_id}/{member_no}"),
            "SELECT doc FROM fuhyo WHERE koseki_id = $1 AND member_no = $2",
            vec![text(koseki_id), Value::I32(schema::member_no(member_no)?)],
        )
        .await
    }

    /// A resident's tax record for one fiscal year (年度).
    pub async fn tax(
        &self,
        resident_id: &str,
        fiscal_year: i32,
    ) -> Result<Option<TaxRecord>, StoreError> {
        self.one(
            "tax",
            &format!("{resident_id}/{fiscal_year}"),
            "SELECT doc FROM tax WHERE resident_id = $1 AND fiscal_year = $2",
            vec![text(resident_id), Value::I32(fiscal_year)],
        )
        .await
    }

    /// The fiscal years for which a resident has a tax record, oldest first.
    pub async fn tax_years(&self, resident_id: &str) -> Result<Vec<i32>, StoreError> {
        const SQL: &str = "SELECT fiscal_year FROM tax WHERE resident_id = $1 ORDER BY fiscal_year";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(SQL).bind(resident_id).fetch_all(pool).await?
        }))
    }

    /// The support measures on any of these residents (e.g. a household's members),
    /// by resident ID.
    pub async fn support_measures(
        &self,
        resident_ids: &[String],
    ) -> Result<Vec<SupportMeasure>, StoreError> {
        let mut measures: Vec<SupportMeasure> = Vec::new();
        for chunk in resident_ids.chunks(IN_LIST_CHUNK) {
            let sql = format!(
                "SELECT doc FROM support_measures WHERE resident_id IN ({})",
                placeholders(1, chunk.len())
            );
            let binds = chunk.iter().map(|id| text(id)).collect();
            measures.extend(
                self.all::<SupportMeasure>("support_measure", "", sql, binds)
                    .await?,
            );
        }
        by_resident(&mut measures);
        Ok(measures)
    }

    /// The suppressions on a person or on their household: person-scoped first.
    pub async fn suppressions(
        &self,
        resident_id: &str,
        household_id: &str,
    ) -> Result<Vec<Suppression>, StoreError> {
        self.all(
            "suppression",
            resident_id,
            "SELECT doc FROM suppressions \
             WHERE (scope = $1 AND id = $2) OR (scope = $3 AND id = $4) \
             ORDER BY scope DESC, id",
            vec![
                text(schema::scope_name(SuppressionScope::Person)),
                text(resident_id),
                text(schema::scope_name(SuppressionScope::Household)),
                text(household_id),
            ],
        )
        .await
    }

    /// The members of each of these households, as (household ID, resident ID) pairs
    /// ordered by household then resident; no document is read.
    pub async fn household_member_ids(
        &self,
        household_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut pairs = Vec::new();
        for chunk in household_ids.chunks(IN_LIST_CHUNK) {
            let sql = format!(
                "SELECT household_id, resident_id FROM residents WHERE household_id IN ({}) \
                 ORDER BY household_id, resident_id",
                placeholders(1, chunk.len())
            );
            let binds: Vec<Value> = chunk.iter().map(|id| text(id)).collect();
            let rows: Vec<(String, String)> = on_pool!(self, pool => {
                query_with_values(AssertSqlSafe(sql), binds)?
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            });
            pairs.extend(rows);
        }
        Ok(pairs)
    }

    /// The suppressions on any of these persons or any of these households (the
    /// batch form of [`Store::suppressions`], for a page of search results).
    pub async fn suppressions_of(
        &self,
        resident_ids: &[String],
        household_ids: &[String],
    ) -> Result<Vec<Suppression>, StoreError> {
        let mut found: Vec<Suppression> = Vec::new();
        for (scope, ids) in [
            (SuppressionScope::Person, resident_ids),
            (SuppressionScope::Household, household_ids),
        ] {
            for chunk in ids.chunks(IN_LIST_CHUNK) {
                let sql = format!(
                    "SELECT doc FROM suppressions WHERE scope = $1 AND id IN ({}) ORDER BY id",
                    placeholders(2, chunk.len())
                );
                let mut binds = vec![text(schema::scope_name(scope))];
                binds.extend(chunk.iter().map(|id| text(id)));
                found.extend(
                    self.all::<Suppression>("suppression", "", sql, binds)
                        .await?,
                );
            }
        }
        Ok(found)
    }

    /// Residents matching every criterion given, ordered by reading then resident ID, at
    /// most `limit`. A query without criteria matches nobody.
    ///
    /// - `name`: the typed name's key (or its swapped form) is a prefix of the written
    ///   name's key, the reading's key, or the 通称's key (an index range on each);
    /// - `birth_date`: equal;
    /// - `address`: contains the text as given (case- and width-sensitive).
    pub async fn search(
        &self,
        query: &ResidentQuery,
        limit: u32,
    ) -> Result<Vec<Resident>, StoreError> {
        let Some((sql, binds)) = search::search_sql(query, limit, self.backend()) else {
            return Ok(Vec::new());
        };
        self.all("resident", "", sql, binds).await
    }

    async fn one<T: DeserializeOwned>(
        &self,
        kind: &'static str,
        key: &str,
        sql: &'static str,
        binds: Vec<Value>,
    ) -> Result<Option<T>, StoreError> {
        let doc: Option<String> = on_pool!(self, pool => {
            match query_with_values(sql, binds)?.fetch_optional(pool).await? {
                Some(row) => Some(row.try_get::<String, _>(0)?),
                None => None,
            }
        });
        doc.map(|doc| decode(kind, key, &doc)).transpose()
    }

    async fn all<T: DeserializeOwned>(
        &self,
        kind: &'static str,
        key: &str,
        sql: impl Into<SqlText>,
        binds: Vec<Value>,
    ) -> Result<Vec<T>, StoreError> {
        let sql = sql.into();
        let docs: Vec<String> = on_pool!(self, pool => {
            let rows = match sql {
                SqlText::Static(s) => query_with_values(s, binds)?.fetch_all(pool).await?,
                SqlText::Owned(s) => {
                    query_with_values(AssertSqlSafe(s), binds)?.fetch_all(pool).await?
                }
            };
            rows.iter()
                .map(|row| row.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?
        });
        docs.iter().map(|doc| decode(kind, key, doc)).collect()
    }
}

/// `count` numbered parameters from `$first`, comma-separated, for an `IN` list.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether every migration of `migrator` is recorded as applied in this database.
async fn pg_migrations_applied(
    pool: &PgPool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<bool, StoreError> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(migrator.iter().all(|m| applied.contains(&m.version)))
}

/// A household's members in its order: the head of household (世帯主) first, the others
/// in the order given (by resident ID).
fn head_first(members: &mut [Resident]) {
    members.sort_by_key(|m| !m.is_head());
}

/// Support measures by resident ID, one per resident.
fn by_resident(measures: &mut Vec<SupportMeasure>) {
    measures.sort_by(|a, b| a.resident_id.cmp(&b.resident_id));
    measures.dedup_by(|a, b| a.resident_id == b.resident_id);
}

/// The rows of a statement that reads several parts at once (see [`Store::parts`]).
#[derive(Default)]
struct Parts {
    card: Option<String>,
    town: Option<String>,
    version: Option<i64>,
    earlier: Option<String>,
    settings: Vec<settings::SettingRow>,
    records: Vec<(String, String)>,
}

/// SQL for the town's rows in a statement of parts: its record as part `town`, then
/// the settings in force as part `setting`. `first_part` is the first column of the
/// record's row (which names the columns when it comes first in the statement).
fn town_parts_sql(first_part: &str) -> String {
    format!(
        "SELECT {first_part}, '' AS setting, 0 AS revision, doc AS value, '' AS reason, \
         '' AS staff, '' AS at FROM municipality WHERE id = 1 \
         UNION ALL SELECT 'setting', s.* FROM ({}) s",
        settings::CURRENT_SQL
    )
}

/// SQL for a resident's records in a statement of parts, the resident being the value
/// of the SQL expression `resident_id`.
fn records_parts_sql(resident_id: &str) -> String {
    format!(
        "SELECT r.part, '', 0, r.doc, '', '', '' FROM ({}) r",
        RESIDENT_RECORDS_SQL.replace("$1", resident_id)
    )
}

/// A card and its holder, as a kiosk request reads them ([`Store::card_holder`]).
#[derive(Clone, Debug)]
pub struct CardHolder {
    /// The card, if the serial is registered.
    pub card: Option<Card>,
    /// The municipality as issued ([`Store::municipality`]).
    pub town: Option<Municipality>,
    /// The card holder's records, if the card and its holder are there.
    pub records: Option<ResidentRecords>,
    /// For an issuance: the registry version ([`Store::registry_version`]) when these
    /// were read.
    pub registry_version: Option<i64>,
    /// For an issuance: whether its request ID was issued before (a retry).
    pub issued_before: bool,
}

/// One statement for a resident's records, rows `(part, doc)`: see
/// [`Store::resident_records`].
const RESIDENT_RECORDS_SQL: &str = "\
    SELECT 'resident' AS part, doc FROM residents WHERE resident_id = $1 \
    UNION ALL SELECT 'member', doc FROM residents WHERE household_id = \
        (SELECT household_id FROM residents WHERE resident_id = $1) \
    UNION ALL SELECT 'seal', doc FROM seals WHERE resident_id = $1 \
    UNION ALL SELECT 'suppression', doc FROM suppressions \
        WHERE (scope = 'person' AND id = $1) OR (scope = 'household' AND id = \
            (SELECT household_id FROM residents WHERE resident_id = $1)) \
    UNION ALL SELECT 'support_measure', doc FROM support_measures \
        WHERE resident_id = $1 OR resident_id IN (SELECT m.resident_id FROM residents m \
            WHERE m.household_id = (SELECT household_id FROM residents WHERE resident_id = $1))";

/// A resident's records from the rows of [`RESIDENT_RECORDS_SQL`], in the orders that
/// [`Store::resident_records`] promises.
fn resident_records_of(
    resident_id: &str,
    rows: Vec<(String, String)>,
) -> Result<Option<ResidentRecords>, StoreError> {
    let mut resident: Option<Resident> = None;
    let mut household: Vec<Resident> = Vec::new();
    let mut seal: Option<Seal> = None;
    let mut suppressions: Vec<Suppression> = Vec::new();
    let mut support_measures: Vec<SupportMeasure> = Vec::new();
    for (part, doc) in rows {
        match part.as_str() {
            "resident" => resident = Some(decode("resident", resident_id, &doc)?),
            "member" => household.push(decode("resident", resident_id, &doc)?),
            "seal" => seal = Some(decode("seal", resident_id, &doc)?),
            "suppression" => suppressions.push(decode("suppression", resident_id, &doc)?),
            _ => support_measures.push(decode("support_measure", resident_id, &doc)?),
        }
    }
    let Some(resident) = resident else {
        return Ok(None);
    };
    household.sort_by(|a, b| a.resident_id.cmp(&b.resident_id));
    head_first(&mut household);
    // Person-scoped first ("person" sorts after "household"), then by ID, as the
    // `ORDER BY scope DESC, id` of `Store::suppressions`.
    let scope = |s: &Suppression| schema::scope_name(s.scope);
    suppressions.sort_by(|a, b| scope(b).cmp(scope(a)).then_with(|| a.id.cmp(&b.id)));
    by_resident(&mut support_measures);
    Ok(Some(ResidentRecords {
        resident,
        household,
        seal,
        suppressions,
        support_measures,
    }))
}

/// Creates a missing database file readable and writable by its owner only (a
/// registry, or a terminal's replica, is nobody else's to read; SQLite gives its
/// journal and WAL files the same permissions). An existing file is left as it is;
/// `:memory:` and empty names are nothing to create.
fn create_owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || path.exists() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        file.mode(0o600);
    }
    match file.open(path) {
        // Another process created it meanwhile: its file, its permissions.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Create {
            path: name.into_owned(),
            source,
        }),
        Ok(_) => Ok(()),
    }
}

/// A resident and what the eligibility rules read about them ([`Store::resident_records`]).
#[derive(Clone, Debug)]
pub struct ResidentRecords {
    /// The resident.
    pub resident: Resident,
    /// Their household: head of household first, then by resident ID.
    pub household: Vec<Resident>,
    /// Their seal registration.
    pub seal: Option<Seal>,
    /// Suppressions on them or their household: person-scoped first.
    pub suppressions: Vec<Suppression>,
    /// Support measures on them or a member of their household, by resident ID.
    pub support_measures: Vec<SupportMeasure>,
}

/// SQL text: a constant, or built from a fixed shape (never from user input).
enum SqlText {
    Static(&'static str),
    Owned(String),
}

impl From<&'static str> for SqlText {
    fn from(s: &'static str) -> Self {
        SqlText::Static(s)
    }
}

impl From<String> for SqlText {
    fn from(s: String) -> Self {
        SqlText::Owned(s)
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn decode<T: DeserializeOwned>(kind: &'static str, key: &str, doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|source| StoreError::Corrupt {
        kind,
        key: key.to_owned(),
        source,
    })
}
