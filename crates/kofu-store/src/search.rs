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
        // A name alone (a family name matches tens of thousands at a million
        // residents): one range scan per key and column over covering indexes (key,
        // reading_key, resident_id), and only the page's documents read.
        let ranges = name_ranges(name, &mut param);
        let limit = param(Value::I32(i32::try_from(limit).unwrap_or(i32::MAX)));
        let page = match backend {
            // SQLite: the ranges united, then sorted and cut on the two small columns.
            Backend::Sqlite => format!(
                "{} ORDER BY reading_key, resident_id LIMIT {limit}",
                ranges
                    .iter()
                    .map(|r| format!("SELECT reading_key, resident_id FROM residents WHERE {r}"))
                    .collect::<Vec<_>>()
                    .join(" UNION ")
            ),
            // PostgreSQL: each range cut to a page on its own by a top-N sort, so the
            // union and its final sort see a few pages, not every match (which spilled
            // to disk). `OFFSET 0` keeps each range's scan apart from its ordering:
            // left to itself the planner walks the reading_key index in order and
            // filters a million rows (seconds); a MATERIALIZED CTE does the same but
            // copies every match into a tuple store first (twice as slow).
            Backend::Postgres => format!(
                "SELECT reading_key, resident_id FROM ({}) u \
                 ORDER BY reading_key, resident_id LIMIT {limit}",
                ranges
                    .iter()
                    .map(|r| format!(
                        "(SELECT reading_key, resident_id FROM (SELECT reading_key, resident_id \
                         FROM residents WHERE {r} OFFSET 0) m \
                         ORDER BY reading_key, resident_id LIMIT {limit})"
                    ))
                    .collect::<Vec<_>>()
                    .join(" UNION ")
            ),
        };
        let sql = format!(
            "SELECT r.doc FROM ({page}) h JOIN residents r ON r.resident_id = h.resident_id \
             ORDER BY h.reading_key, h.resident_id"
        );
        return Some((sql, binds));
    }
    let mut conditions = Vec::new();
    if let Some(name) = &query.name {
        let alternatives = name_ranges(name, &mut param);
        conditions.push(format!("(({}))", alternatives.join(") OR (")));
    }
    let born = query
        .birth_date
        .map(|birth_date| param(Value::Date(birth_date.as_time())));
    if let Some(address) = query.address.as_deref().filter(|a| !a.is_empty()) {
        let p = param(Value::Text(address.into()));
        conditions.push(match backend {
            Backend::Sqlite => format!("instr(address, {p}) > 0"),
            Backend::Postgres => format!("strpos(address, {p}) > 0"),
        });
    }
    let limit = param(Value::I32(i32::try_from(limit).unwrap_or(i32::MAX)));
    let sql = match (backend, born) {
        (Backend::Sqlite, born) => {
            conditions.extend(born.map(|p| format!("birth_date = {p}")));
            format!(
                "SELECT doc FROM residents WHERE {} ORDER BY reading_key, resident_id LIMIT {limit}",
                conditions.join(" AND ")
            )
        }
        // PostgreSQL with a date of birth: the people born that day first (a few dozen
        // at a million residents, by the birth_date index), then the other criteria
        // on them. MATERIALIZED keeps that order: the planner cannot estimate a kana
        // prefix range (it takes thousands of matches for one) and would otherwise
        // collect every 「こやま…」 and filter them by date.
        (Backend::Postgres, Some(born)) => format!(
            "WITH born AS MATERIALIZED (SELECT resident_id, reading_key, name_key, alias_key, \
             address FROM residents WHERE birth_date = {born}) SELECT r.doc FROM \
             (SELECT resident_id, reading_key FROM born WHERE {} \
             ORDER BY reading_key, resident_id LIMIT {limit}) h JOIN residents r USING (resident_id) \
             ORDER BY h.reading_key, h.resident_id",
            if conditions.is_empty() {
                "TRUE".to_owned()
            } else {
                conditions.join(" AND ")
            }
        ),
        // PostgreSQL's planner prefers walking the reading_key index in order and
        // filtering every row (1.3 s at a million residents); the matches are few
        // next to the table, so collect them first (one bitmap scan per range), then
        // sort and cut them, then fetch the documents.
        (Backend::Postgres, None) => format!(
            "WITH hits AS MATERIALIZED (SELECT resident_id, reading_key FROM residents \
             WHERE {}) SELECT r.doc FROM (SELECT resident_id, reading_key FROM hits \
             ORDER BY reading_key, resident_id LIMIT {limit}) h JOIN residents r USING (resident_id) \
             ORDER BY h.reading_key, h.resident_id",
            conditions.join(" AND ")
        ),
    };
    Some((sql, binds))
}

/// One condition per search key (the name as typed, and swapped) and name column:
/// the key as a prefix, written as a range on the column; `param` numbers the bounds.
fn name_ranges(name: &NameQuery, param: &mut impl FnMut(Value) -> String) -> Vec<String> {
    let mut ranges = Vec::new();
    for key in std::iter::once(&name.key).chain(name.swapped.as_ref()) {
        let low = param(Value::Text(key.as_str().into()));
        let high = prefix_end(key).map(|end| param(Value::Text(end.into())));
        for column in NAME_COLUMNS {
            ranges.push(match &high {
                Some(high) => format!("{column} >= {low} AND {column} < {high}"),
                None => format!("{column} >= {low}"),
            });
        }
    }
    ranges
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
        let (sql, binds) = search_sql(&q, 20, Backend::Postgres).expect("criteria");
        assert_eq!(binds.len(), 5);
        assert_eq!(sql.matches("OFFSET 0").count(), 6, "one per range");
        assert_eq!(
            sql.matches("LIMIT $5").count(),
            7,
            "each range and the union"
        );
        q.birth_date = Some(Date::from_ymd(1980, 1, 2).expect("a date"));
        let (sql, binds) = search_sql(&q, 20, Backend::Sqlite).expect("criteria");
        assert_eq!(binds.len(), 6);
        assert_eq!(sql.matches(" OR ").count(), 5);
        assert!(sql.ends_with("LIMIT $6"));
        let (sql, binds) = search_sql(&q, 20, Backend::Postgres).expect("criteria");
        assert_eq!(binds.len(), 6);
        assert!(sql.starts_with("WITH born AS MATERIALIZED"), "{sql}");
        assert!(sql.contains("birth_date = $5"));
    }
}
