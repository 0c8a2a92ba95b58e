//! Resident search: the query a clerk fills in, and the SQL it becomes.
//!
//! A name matches by prefix on the stored search keys. The prefix is written as a key
//! range, `key >= P AND key < P'` (P' = P with its last character incremented): the
//! same index range scan on SQLite (BINARY collation) and PostgreSQL (`COLLATE "C"`),
//! and no `LIKE` wildcards or case rules to differ between them.

use kofu_domain::Date;
use kofu_domain::search::NameQuery;

use crate::Backend;
use crate::schema::Value;

/// What a clerk searches residents by. Every criterion given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResidentQuery {
    /// The name as typed (kanji, kana, romaji; either order for two words), matched as a
    /// prefix of the written name, the reading, or the 通称.
    pub name: Option<NameQuery>,
    /// The date of birth.
    pub birth_date: Option<Date>,
    /// Text the address contains.
    pub address: Option<String>,
}

impl ResidentQuery {
    /// A query by typed name only; `None` when nothing searchable was typed.
    pub fn by_name(input: &str) -> Option<Self> {
        NameQuery::parse(input).map(|name| ResidentQuery {
            name: Some(name),
            ..ResidentQuery::default()
        })
    }

    /// Whether no criterion is given.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.birth_date.is_none()
            && self.address.as_deref().is_none_or(str::is_empty)
    }
}

/// The columns a name prefix is looked for in.
const NAME_COLUMNS: [&str; 3] = ["name_key", "reading_key", "alias_key"];

/// The SQL and its parameters, or `None` for a query without criteria.
pub(crate) fn search_sql(
    query: &ResidentQuery,
    limit: u32,
    backend: Backend,
) -> Option<(String, Vec<Value>)> {
    if query.is_empty() {
        return None;
    }
    let mut binds = Vec::new();
    let mut param = |value: Value| {
        binds.push(value);
        format!("${}", binds.len())
    };
    let name_only =
        query.birth_date.is_none() && query.address.as_deref().is_none_or(str::is_empty);
    if let (Some(name), true) = (&query.name, name_only) {
        // A name alone (a family name matches thousands at a million residents): one
        // range scan per key and column over covering indexes (key, reading_key,
        // resident_id), united, sorted and cut on those two small columns, and only the
        // page's documents read.
        let mut ranges = Vec::new();
        for key in std::iter::once(&name.key).chain(name.swapped.as_ref()) {
            let low = param(Value::Text(key.clone()));
            let high = prefix_end(key).map(|end| param(Value::Text(end)));
            for column in NAME_COLUMNS {
                let range = match &high {
                    Some(high) => format!("{column} >= {low} AND {column} < {high}"),
                    None => format!("{column} >= {low}"),
                };
                ranges.push(format!(
                    "SELECT reading_key, resident_id FROM residents WHERE {range}"
                ));
            }
        }
        let limit = param(Value::I32(i32::try_from(limit).unwrap_or(i32::MAX)));
        let sql = format!(
            "SELECT r.doc FROM ({} ORDER BY reading_key, resident_id LIMIT {limit}) h \
             JOIN residents r ON r.resident_id = h.resident_id \
             ORDER BY h.reading_key, h.resident_id",
            ranges.join(" UNION ")
        );
        return Some((sql, binds));
    }
    let mut conditions = Vec::new();
    if let Some(name) = &query.name {
        let mut alternatives = Vec::new();
        for key in std::iter::once(&name.key).chain(name.swapped.as_ref()) {
            let low = param(Value::Text(key.clone()));
            let high = prefix_end(key).map(|end| param(Value::Text(end)));
            for column in NAME_COLUMNS {
                alternatives.push(match &high {
                    Some(high) => format!("({column} >= {low} AND {column} < {high})"),
                    None => format!("{column} >= {low}"),
                });
            }
        }
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    if let Some(birth_date) = query.birth_date {
        conditions.push(format!(
            "birth_date = {}",
            param(Value::Date(birth_date.as_time()))
        ));
    }
    if let Some(address) = query.address.as_deref().filter(|a| !a.is_empty()) {
        let p = param(Value::Text(address.to_owned()));
        conditions.push(match backend {
            Backend::Sqlite => format!("instr(address, {p}) > 0"),
            Backend::Postgres => format!("strpos(address, {p}) > 0"),
        });
    }
    let limit = param(Value::I32(i32::try_from(limit).unwrap_or(i32::MAX)));
    let conditions = conditions.join(" AND ");
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT doc FROM residents WHERE {conditions} ORDER BY reading_key, resident_id LIMIT {limit}"
        ),
        // PostgreSQL's planner prefers walking the reading_key index in order and
        // filtering every row (1.3 s at a million residents); the matches are few
        // next to the table, so collect them first (one bitmap scan per range), then
        // sort and cut them, then fetch the documents: a few ms for a full name.
        Backend::Postgres => format!(
            "WITH hits AS MATERIALIZED (SELECT resident_id, reading_key FROM residents \
             WHERE {conditions}) SELECT r.doc FROM (SELECT resident_id, reading_key FROM hits \
             ORDER BY reading_key, resident_id LIMIT {limit}) h JOIN residents r USING (resident_id) \
             ORDER BY h.reading_key, h.resident_id"
        ),
    };
    Some((sql, binds))
}

/// The least string greater than every string that starts with `prefix`, in code point
/// (= UTF-8 byte) order; `None` if there is none.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end("みほ").as_deref(), Some("みぼ"));
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn empty_query_matches_nobody() {
        assert!(search_sql(&ResidentQuery::default(), 10, Backend::Sqlite).is_none());
        let blank = ResidentQuery {
            address: Some(String::new()),
            ..ResidentQuery::default()
        };
        assert!(search_sql(&blank, 10, Backend::Postgres).is_none());
    }

    #[test]
    fn swapped_names_add_alternatives() {
        let mut q = ResidentQuery::by_name("Taro Mihon").expect("a name");
        let (sql, binds) = search_sql(&q, 20, Backend::Sqlite).expect("criteria");
        assert_eq!(binds.len(), 5);
        assert_eq!(
            sql.matches(" UNION ").count(),
            5,
            "one range per key and column"
        );
        assert!(sql.contains("LIMIT $5"));
        q.birth_date = Some(Date::from_ymd(1980, 1, 2).expect("a date"));
        let (sql, binds) = search_sql(&q, 20, Backend::Sqlite).expect("criteria");
        assert_eq!(binds.len(), 6);
        assert_eq!(sql.matches(" OR ").count(), 5);
        assert!(sql.ends_with("LIMIT $6"));
    }
}
