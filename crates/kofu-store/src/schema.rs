//! The registry tables as data: their columns, keys and indexes, how a record becomes a
//! row, and the batch upserts written from that: multi-row `INSERT … VALUES … ON
//! CONFLICT DO UPDATE` on SQLite, `INSERT … SELECT * FROM UNNEST(arrays) ON CONFLICT DO
//! UPDATE` on PostgreSQL (one parameter per column instead of one per value).

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, OnceLock};

use kofu_domain::RegistryRecord;
use kofu_domain::records::SuppressionScope;
use kofu_domain::resident::ResidentStatus;
use serde::Serialize;
use sqlx::query::Query;
use sqlx::{Arguments, Database, Encode, IntoArguments, SqlSafeStr, Type};

use crate::error::StoreError;

/// At most this many bind parameters in one statement: below SQLite's default limit
/// (32,766) and PostgreSQL's (65,535).
const MAX_PARAMS: usize = 30_000;

/// At most this many rows in one multi-row insert.
const MAX_ROWS: usize = 2_000;

/// One registry table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    /// Position in [`TABLES`].
    pub index: usize,
    /// SQL name.
    pub name: &'static str,
    /// Columns in bind order.
    pub columns: &'static [&'static str],
    /// The primary key columns: the first of `columns`.
    pub key: &'static [&'static str],
    /// Secondary indexes: name, and what follows `ON` in their `CREATE INDEX`.
    pub indexes: &'static [(&'static str, &'static str)],
}

impl Table {
    /// Rows per full batch, within the bind limits.
    pub fn batch_rows(&self) -> usize {
        (MAX_PARAMS / self.columns.len()).min(MAX_ROWS)
    }
}

macro_rules! tables {
    ($(
        $konst:ident = $index:literal, $name:literal, [$($col:literal),+], key [$($key:literal),+],
        indexes [$(($iname:literal, $idef:literal)),*];
    )+) => {
        $(
            pub(crate) const $konst: Table = Table {
                index: $index,
                name: $name,
                columns: &[$($col),+],
                key: &[$($key),+],
                indexes: &[$(($iname, $idef)),*],
            };
        )+
        /// Every registry table, by index.
        pub(crate) const TABLES: &[Table] = &[$($konst),+];
    };
}

// The secondary indexes are those of the migrations (a test compares them): a bulk load
// into an empty table drops them and builds them again at commit.
tables! {
    MUNICIPALITY = 0, "municipality", ["id", "code", "doc"], key ["id"], indexes [];
    RESIDENTS = 1, "residents",
        ["resident_id", "household_id", "name_key", "reading_key", "alias_key", "birth_date",
         "address", "status", "doc"],
        key ["resident_id"],
        indexes [
            ("residents_household", "residents (household_id)"),
            ("residents_name_key", "residents (name_key, reading_key, resident_id)"),
            ("residents_reading_key", "residents (reading_key, resident_id)"),
            ("residents_alias_key",
             "residents (alias_key, reading_key, resident_id) WHERE alias_key IS NOT NULL"),
            ("residents_birth_date", "residents (birth_date)")
        ];
    SEALS = 2, "seals", ["resident_id", "doc"], key ["resident_id"], indexes [];
    CARDS = 3, "cards", ["auth_serial", "resident_id", "doc"], key ["auth_serial"],
        indexes [("cards_resident", "cards (resident_id)")];
    KOSEKI = 4, "koseki", ["koseki_id", "honseki", "doc"], key ["koseki_id"],
        indexes [("koseki_honseki", "koseki (honseki)")];
    FUHYO = 5, "fuhyo", ["koseki_id", "member_no", "doc"], key ["koseki_id", "member_no"],
        indexes [];
    TAX = 6, "tax", ["resident_id", "fiscal_year", "doc"], key ["resident_id", "fiscal_year"],
        indexes [];
    SUPPORT_MEASURES = 7, "support_measures", ["resident_id", "doc"], key ["resident_id"],
        indexes [];
    SUPPRESSIONS = 8, "suppressions", ["scope", "id", "doc"], key ["scope", "id"], indexes [];
}

/// A value bound to a statement parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Value {
    /// `TEXT`. Shared, not a `String`: SQLite's driver binds an `Arc<str>` as it is, and
    /// wraps a `String` in an `Arc` of its own, one allocation more per value, made
    /// on the writer's thread and freed on the database's (a million-resident load binds
    /// some 14 million texts).
    Text(Arc<str>),
    /// A record's JSON document, `TEXT`: the `String` it was read into, bound as it is.
    /// Made into an `Arc<str>` it would be copied, a whole feed's bytes over a load; the
    /// driver's own `Arc` around it is one small allocation.
    Doc(String),
    /// Nullable `TEXT`.
    OptText(Option<String>),
    /// `INTEGER` (PostgreSQL `integer`).
    I32(i32),
    /// A date: `TEXT` `YYYY-MM-DD` on SQLite, `date` on PostgreSQL.
    Date(time::Date),
}

/// A statement with its values bound in order: the one place where a [`Value`] meets a
/// driver. The argument list takes its room at once: bound one by one, a batch's 18,000
/// values grew it a dozen times, each time into new memory.
pub(crate) fn query_with_values<'q, DB>(
    sql: impl SqlSafeStr,
    values: Vec<Value>,
) -> Result<Query<'q, DB, <DB as Database>::Arguments>, StoreError>
where
    DB: Database,
    <DB as Database>::Arguments: IntoArguments<DB>,
    Arc<str>: Encode<'static, DB> + Type<DB>,
    String: Encode<'static, DB> + Type<DB>,
    Option<String>: Encode<'static, DB> + Type<DB>,
    i32: Encode<'static, DB> + Type<DB>,
    time::Date: Encode<'static, DB> + Type<DB>,
{
    let mut args = <DB as Database>::Arguments::default();
    args.reserve(values.len(), 0);
    for value in values {
        match value {
            Value::Text(v) => args.add(v),
            Value::Doc(v) => args.add(v),
            Value::OptText(v) => args.add(v),
            Value::I32(v) => args.add(v),
            Value::Date(v) => args.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(sqlx::query_with(sql, args))
}

/// The wire name of a resident status.
pub(crate) fn status_name(status: ResidentStatus) -> &'static str {
    match status {
        ResidentStatus::Active => "active",
        ResidentStatus::MovedOut => "moved_out",
        ResidentStatus::MovingOut => "moving_out",
        ResidentStatus::Deceased => "deceased",
    }
}

/// The wire name of a suppression scope.
pub(crate) fn scope_name(scope: SuppressionScope) -> &'static str {
    match scope {
        SuppressionScope::Person => "person",
        SuppressionScope::Household => "household",
    }
}

/// A 附票 member number as the `integer` column holds it.
pub(crate) fn member_no(n: u32) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| StoreError::OutOfRange {
        field: "member_no",
        value: n.to_string(),
    })
}

/// The `doc` column: the JSON the registry sent if given, else the record written out.
fn doc<T: Serialize>(
    json: Option<String>,
    kind: &'static str,
    value: &T,
) -> Result<Value, StoreError> {
    if let Some(json) = json {
        return Ok(Value::Doc(json));
    }
    serde_json::to_string(value)
        .map(Value::Doc)
        .map_err(|source| StoreError::Encode { kind, source })
}

/// The table and column values of a record, in the table's column order. `json`, when
/// given, is the record's JSON as the registry sent it, stored as is. The record's own
/// strings move into the row (a million-resident load clones none of them).
pub(crate) fn row_of(
    record: RegistryRecord,
    json: Option<String>,
) -> Result<(Table, Vec<Value>), StoreError> {
    let kind = record.type_name();
    let text = |s: String| Value::Text(s.into());
    Ok(match record {
        RegistryRecord::Municipality(m) => {
            let doc = doc(json, kind, &m)?;
            (MUNICIPALITY, vec![Value::I32(1), text(m.code), doc])
        }
        RegistryRecord::Resident(r) => {
            // The 通称 has its own column so that it is prefix-searchable like the name.
            let name_key = r.name_key();
            let reading_key = r.reading_key();
            let alias_key = r.alias_key();
            let doc = doc(json, kind, &r)?;
            (
                RESIDENTS,
                vec![
                    text(r.resident_id),
                    text(r.household_id),
                    text(name_key),
                    text(reading_key),
                    Value::OptText(alias_key),
                    Value::Date(r.birth_date.as_time()),
                    text(r.address),
                    text(status_name(r.status).to_owned()),
                    doc,
                ],
            )
        }
        RegistryRecord::Seal(s) => {
            let doc = doc(json, kind, &s)?;
            (SEALS, vec![text(s.resident_id), doc])
        }
        RegistryRecord::Card(c) => {
            let doc = doc(json, kind, &c)?;
            (CARDS, vec![text(c.auth_serial), text(c.resident_id), doc])
        }
        RegistryRecord::Koseki(k) => {
            let doc = doc(json, kind, &k)?;
            (KOSEKI, vec![text(k.koseki_id), text(k.honseki), doc])
        }
        RegistryRecord::Fuhyo(f) => {
            let doc = doc(json, kind, &f)?;
            let member_no = Value::I32(member_no(f.member_no)?);
            (FUHYO, vec![text(f.koseki_id), member_no, doc])
        }
        RegistryRecord::Tax(t) => {
            let doc = doc(json, kind, &t)?;
            (
                TAX,
                vec![text(t.resident_id), Value::I32(t.fiscal_year), doc],
            )
        }
        RegistryRecord::SupportMeasure(s) => {
            let doc = doc(json, kind, &s)?;
            (SUPPORT_MEASURES, vec![text(s.resident_id), doc])
        }
        RegistryRecord::Suppression(s) => {
            let doc = doc(json, kind, &s)?;
            (
                SUPPRESSIONS,
                vec![text(scope_name(s.scope).to_owned()), text(s.id), doc],
            )
        }
    })
}

/// SQLite's upsert of `rows` rows: `INSERT INTO t (…) VALUES (?,…),(…) ON CONFLICT (key)
/// DO UPDATE SET …`.
///
/// Anonymous `?` parameters, not `$N`: SQLite looks a named parameter up by a linear
/// scan, which made binding an 18,000-parameter statement quadratic.
pub(crate) fn values_upsert_sql(table: &Table, rows: usize) -> String {
    let cols = table.columns.len();
    let mut sql = String::with_capacity(96 + rows * (cols * 2 + 3));
    let _ = write!(
        sql,
        "INSERT INTO {} ({}) VALUES ",
        table.name,
        table.columns.join(", ")
    );
    let row = format!("({})", vec!["?"; cols].join(","));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    sql.push_str(&on_conflict(table));
    sql
}

/// SQLite's upsert of a full batch per table, written once per process: the same text
/// every time, so each connection prepares it once and reuses it.
static FULL_BATCH_SQL: LazyLock<Vec<Arc<str>>> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|t| Arc::from(values_upsert_sql(t, t.batch_rows())))
        .collect()
});

/// SQLite's upsert of `rows` rows of `table`: shared text for a full batch.
pub(crate) fn values_batch_sql(table: &Table, rows: usize) -> Arc<str> {
    if rows == table.batch_rows() {
        Arc::clone(&FULL_BATCH_SQL[table.index])
    } else {
        Arc::from(values_upsert_sql(table, rows))
    }
}

/// One column of a batch, for PostgreSQL's `UNNEST`: the values of every row.
pub(crate) enum Column {
    /// `text[]`.
    Text(Vec<String>),
    /// `text[]` with NULLs.
    OptText(Vec<Option<String>>),
    /// `integer[]`.
    I32(Vec<i32>),
    /// `date[]`.
    Date(Vec<time::Date>),
}

impl Column {
    fn for_value(value: &Value, rows: usize) -> Column {
        match value {
            Value::Text(_) | Value::Doc(_) => Column::Text(Vec::with_capacity(rows)),
            Value::OptText(_) => Column::OptText(Vec::with_capacity(rows)),
            Value::I32(_) => Column::I32(Vec::with_capacity(rows)),
            Value::Date(_) => Column::Date(Vec::with_capacity(rows)),
        }
    }

    /// The PostgreSQL array type.
    fn pg_array_type(&self) -> &'static str {
        match self {
            Column::Text(_) | Column::OptText(_) => "text[]",
            Column::I32(_) => "integer[]",
            Column::Date(_) => "date[]",
        }
    }
}

/// Turns rows (row after row, `width` values each) into one array per column.
pub(crate) fn into_columns(values: Vec<Value>, width: usize) -> Result<Vec<Column>, StoreError> {
    let rows = values.len() / width.max(1);
    let mut columns: Vec<Column> = values
        .iter()
        .take(width)
        .map(|v| Column::for_value(v, rows))
        .collect();
    for (i, value) in values.into_iter().enumerate() {
        match (&mut columns[i % width], value) {
            (Column::Text(c), Value::Text(v)) => c.push(v.to_string()),
            (Column::Text(c), Value::Doc(v)) => c.push(v),
            (Column::OptText(c), Value::OptText(v)) => c.push(v),
            (Column::I32(c), Value::I32(v)) => c.push(v),
            (Column::Date(c), Value::Date(v)) => c.push(v),
            _ => {
                return Err(StoreError::Database(sqlx::Error::Encode(
                    format!("column {} mixes value types", i % width).into(),
                )));
            }
        }
    }
    Ok(columns)
}

/// Binds one array per column (PostgreSQL).
pub(crate) fn bind_columns<'q>(
    mut query: Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    columns: Vec<Column>,
) -> Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for column in columns {
        query = match column {
            Column::Text(v) => query.bind(v),
            Column::OptText(v) => query.bind(v),
            Column::I32(v) => query.bind(v),
            Column::Date(v) => query.bind(v),
        };
    }
    query
}

/// PostgreSQL's upsert of any number of rows: `INSERT INTO t (…) SELECT * FROM
/// UNNEST($1::text[], …) ON CONFLICT (key) DO UPDATE SET …`. One parameter per column,
/// so the statement is small, planned once, and takes batches of any size.
pub(crate) fn unnest_upsert_sql(table: &Table, columns: &[Column]) -> Arc<str> {
    static SQL: [OnceLock<Arc<str>>; TABLES.len()] = [const { OnceLock::new() }; TABLES.len()];
    let build = || {
        let arrays: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, c.pg_array_type()))
            .collect();
        Arc::from(format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){}",
            table.name,
            table.columns.join(", "),
            arrays.join(", "),
            on_conflict(table)
        ))
    };
    match SQL.get(table.index) {
        Some(cell) => Arc::clone(cell.get_or_init(build)),
        None => build(),
    }
}

fn on_conflict(table: &Table) -> String {
    let updates: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !table.key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        table.key.join(", "),
        updates.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_indexed_in_order() {
        for (i, t) in TABLES.iter().enumerate() {
            assert_eq!(t.index, i, "{}", t.name);
            assert!(t.batch_rows() * t.columns.len() <= MAX_PARAMS);
            // An import finds a buffered row by its first values (`ImportTx::upsert_row`).
            assert_eq!(&t.columns[..t.key.len()], t.key, "{}", t.name);
        }
    }

    #[test]
    fn writes_multi_row_upserts() {
        assert_eq!(
            values_upsert_sql(&TAX, 2),
            "INSERT INTO tax (resident_id, fiscal_year, doc) VALUES (?,?,?),(?,?,?) \
             ON CONFLICT (resident_id, fiscal_year) DO UPDATE SET doc = excluded.doc"
        );
        assert_eq!(
            values_upsert_sql(&CARDS, 2),
            "INSERT INTO cards (auth_serial, resident_id, doc) VALUES (?,?,?),(?,?,?) \
             ON CONFLICT (auth_serial) DO UPDATE SET resident_id = excluded.resident_id, \
             doc = excluded.doc"
        );
        let full = values_batch_sql(&RESIDENTS, RESIDENTS.batch_rows());
        assert!(Arc::ptr_eq(
            &full,
            &values_batch_sql(&RESIDENTS, RESIDENTS.batch_rows())
        ));
    }

    #[test]
    fn writes_unnest_upserts() {
        let values = vec![
            Value::Text("K1".into()),
            Value::I32(1),
            Value::Text("{}".into()),
            Value::Text("K1".into()),
            Value::I32(2),
            Value::Text("{}".into()),
        ];
        let columns = into_columns(values, 3).expect("consistent rows");
        assert!(matches!(&columns[1], Column::I32(v) if v == &[1, 2]));
        assert_eq!(
            &*unnest_upsert_sql(&FUHYO, &columns),
            "INSERT INTO fuhyo (koseki_id, member_no, doc) \
             SELECT * FROM UNNEST($1::text[], $2::integer[], $3::text[]) \
             ON CONFLICT (koseki_id, member_no) DO UPDATE SET doc = excluded.doc"
        );
        let mixed = vec![Value::I32(1), Value::Text("x".into())];
        assert!(into_columns(mixed, 1).is_err());
    }
}
