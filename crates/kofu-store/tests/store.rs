//! kofu-store against both backends: every test runs once on SQLite (a temporary file)
//! and once on PostgreSQL (a fresh schema in the database of `KOFU_TEST_PG_URL`; start
//! one with `eval "$(scripts/pg-test.sh start)"`). `KOFU_SKIP_PG=1` skips the
//! PostgreSQL half, for quick local loops only.
// Tests may unwrap (clippy.toml allows it in tests; helpers here are outside #[test]).
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kofu_domain::koseki::FuhyoEntry;
use kofu_domain::records::{SuppressionLevel, SuppressionScope};
use kofu_domain::search::NameQuery;
use kofu_domain::{
    CertificateKind, Date, Fuhyo, RecordKey, RegistryRecord, Resident, SupportMeasure, Suppression,
    sample,
};
use kofu_store::{Backend, ResidentQuery, Store, StoreError};
use sqlx::Connection as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

// ---------------------------------------------------------------------------------------
// Harness

#[derive(Clone, Copy)]
enum Kind {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary directory, removed on drop (also when the test panics).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("kofu-store-test"));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server to test against, or `None` when skipped on purpose.
fn pg_url() -> Option<String> {
    match std::env::var("KOFU_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("KOFU_SKIP_PG").is_ok_and(|v| v == "1") => None,
        _ => panic!(
            "KOFU_TEST_PG_URL is not set: the PostgreSQL half of these tests needs a server. \
             Run `eval \"$(scripts/pg-test.sh start)\"` first (and `scripts/pg-test.sh stop` \
             after), or set KOFU_SKIP_PG=1 to skip it in a quick local loop."
        ),
    }
}

/// The index definitions of a SQLite database.
async fn sqlite_indexes(url: &str) -> Vec<(String, String)> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let indexes = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    indexes
}

/// The index definitions of a PostgreSQL schema.
async fn pg_indexes(admin: &mut sqlx::PgConnection, schema: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = $1 \
         ORDER BY indexname",
    )
    .bind(schema)
    .fetch_all(admin)
    .await
    .unwrap()
}

/// A fresh schema in the test server's database at `url`: a connection to administer
/// it, its name, and the URL of a store in it.
async fn fresh_pg_schema(url: &str) -> (sqlx::PgConnection, String, String) {
    let schema = unique("t");
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    (admin, schema, store_url)
}

/// Runs `test` on a fresh, empty store of `kind`; afterwards checks that the database
/// has the indexes its migrations made (a bulk load drops and rebuilds some).
async fn run<F, Fut>(kind: Kind, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    match kind {
        Kind::Sqlite => {
            let dir = TempDir::new();
            let url = format!("sqlite:{}", dir.0.join("kofu.db").display());
            let store = Store::open(&url).await.unwrap();
            assert_eq!(store.backend(), Backend::Sqlite);
            let indexes = sqlite_indexes(&url).await;
            assert!(indexes.len() >= 7, "{indexes:?}");
            test(store.clone()).await;
            store.close().await;
            assert_eq!(
                sqlite_indexes(&url).await,
                indexes,
                "indexes after the test"
            );
        }
        Kind::Postgres => {
            let Some(url) = pg_url() else {
                eprintln!("KOFU_SKIP_PG=1: PostgreSQL half skipped");
                return;
            };
            let (mut admin, schema, store_url) = fresh_pg_schema(&url).await;
            let store = Store::open(&store_url).await.unwrap();
            assert_eq!(store.backend(), Backend::Postgres);
            let indexes = pg_indexes(&mut admin, &schema).await;
            assert!(indexes.len() >= 7, "{indexes:?}");
            test(store.clone()).await;
            store.close().await;
            let after = pg_indexes(&mut admin, &schema).await;
            assert_eq!(after, indexes, "indexes after the test");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

/// Declares each test once per backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Kind::Sqlite, super::$name).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::run(super::Kind::Postgres, super::$name).await;
                }
            )+
        }
    };
}

on_both_backends!(
    upsert_replace_delete_every_type,
    ivs_names_round_trip_byte_exact,
    search_by_kana_romaji_kanji_birth_date_address,
    stats_count_every_type,
    feed_state_is_kept,
    rollback_leaves_nothing,
    upsert_and_delete_keep_their_order,
    large_import_in_batches,
    household_lists_head_first,
    koseki_for_finds_the_members_register,
    tax_support_and_suppression_readers,
    resident_records_agree_with_the_single_readers,
    card_holder_agrees_with_the_single_readers,
    imports_are_serialized,
    audit_chain_takes_concurrent_use_cases,
    audit_verified_while_use_cases_commit,
);

// ---------------------------------------------------------------------------------------
// Fixtures and helpers

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn instant(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

fn fuhyo() -> Fuhyo {
    Fuhyo {
        koseki_id: "K0001".into(),
        member_no: 1,
        entries: vec![
            FuhyoEntry {
                address: "東京都千代田区霞が関二丁目1番2号".into(),
                from: date("1980-04-01"),
            },
            FuhyoEntry {
                address: "見本県見本市中央一丁目2番3号".into(),
                from: date("2010-04-01"),
            },
        ],
    }
}

fn support_measure() -> SupportMeasure {
    SupportMeasure {
        resident_id: "00000000027".into(),
        from: date("2026-01-10"),
        to: Some(date("2027-01-09")),
    }
}

fn suppression(scope: SuppressionScope, id: &str) -> Suppression {
    Suppression {
        scope,
        id: id.into(),
        certificates: vec![CertificateKind::Juminhyo],
        level: SuppressionLevel::Error,
        from: date("2026-03-01"),
        to: None,
        reason: Some("調査中".into()),
    }
}

/// The whole sample town: one record of every type.
fn sample_town() -> Vec<RegistryRecord> {
    vec![
        RegistryRecord::Municipality(sample::municipality()),
        RegistryRecord::Resident(sample::head_of_household()),
        RegistryRecord::Resident(sample::spouse()),
        RegistryRecord::Resident(sample::child()),
        RegistryRecord::Resident(sample::foreign_resident()),
        RegistryRecord::Seal(sample::seal()),
        RegistryRecord::Card(sample::card()),
        RegistryRecord::Koseki(sample::koseki()),
        RegistryRecord::Fuhyo(fuhyo()),
        RegistryRecord::Tax(sample::tax()),
        RegistryRecord::SupportMeasure(support_measure()),
        RegistryRecord::Suppression(suppression(SuppressionScope::Household, "H0002")),
    ]
}

async fn import(store: &Store, records: &[RegistryRecord]) {
    let mut tx = store.begin_import().await.unwrap();
    for record in records {
        tx.upsert(record).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn delete(store: &Store, key: &RecordKey) -> bool {
    let mut tx = store.begin_import().await.unwrap();
    let deleted = tx.delete(key).await.unwrap();
    tx.commit().await.unwrap();
    deleted
}

/// Reads the record with `key` through the store's reader for its type.
async fn read(store: &Store, key: &RecordKey) -> Option<RegistryRecord> {
    use RegistryRecord as R;
    match key {
        RecordKey::Municipality => store.municipality().await.unwrap().map(R::Municipality),
        RecordKey::Resident(id) => store.resident(id).await.unwrap().map(R::Resident),
        RecordKey::Seal(id) => store.seal(id).await.unwrap().map(R::Seal),
        RecordKey::Card(serial) => store.card(serial).await.unwrap().map(R::Card),
        RecordKey::Koseki(id) => store.koseki(id).await.unwrap().map(R::Koseki),
        RecordKey::Fuhyo(id, no) => store.fuhyo(id, *no).await.unwrap().map(R::Fuhyo),
        RecordKey::Tax(id, year) => store.tax(id, *year).await.unwrap().map(R::Tax),
        RecordKey::SupportMeasure(id) => store
            .support_measures(std::slice::from_ref(id))
            .await
            .unwrap()
            .into_iter()
            .next()
            .map(R::SupportMeasure),
        RecordKey::Suppression(scope, id) => store
            .suppressions(id, id)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.scope == *scope)
            .map(R::Suppression),
    }
}

fn ids(residents: &[Resident]) -> Vec<&str> {
    residents.iter().map(|r| r.resident_id.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Tests

/// For each record type: insert, read back equal; replace, read back the new one;
/// delete (true), gone; delete again (false).
async fn upsert_replace_delete_every_type(store: Store) {
    let mut municipality = sample::municipality();
    municipality.mayor = "見本 三郎".into();
    let mut resident = sample::head_of_household();
    resident.address = "見本県見本市港町一丁目1番1号".into();
    let mut seal = sample::seal();
    seal.status = kofu_domain::records::SealStatus::Revoked;
    let mut card = sample::card();
    card.status = kofu_domain::records::CardStatus::Suspended;
    let mut koseki = sample::koseki();
    koseki.members.truncate(2);
    let mut fuhyo2 = fuhyo();
    fuhyo2.entries.truncate(1);
    let mut tax = sample::tax();
    tax.municipal_tax += 100;
    let mut measure = support_measure();
    measure.to = None;
    let mut suppressed = suppression(SuppressionScope::Person, "00000000019");
    suppressed.level = SuppressionLevel::Warning;

    use RegistryRecord as R;
    let cases: Vec<(RegistryRecord, RegistryRecord)> = vec![
        (
            R::Municipality(sample::municipality()),
            R::Municipality(municipality),
        ),
        (
            R::Resident(sample::head_of_household()),
            R::Resident(resident),
        ),
        (R::Seal(sample::seal()), R::Seal(seal)),
        (R::Card(sample::card()), R::Card(card)),
        (R::Koseki(sample::koseki()), R::Koseki(koseki)),
        (R::Fuhyo(fuhyo()), R::Fuhyo(fuhyo2)),
        (R::Tax(sample::tax()), R::Tax(tax)),
        (
            R::SupportMeasure(support_measure()),
            R::SupportMeasure(measure),
        ),
        (
            R::Suppression(suppression(SuppressionScope::Person, "00000000019")),
            R::Suppression(suppressed),
        ),
    ];
    for (first, second) in cases {
        let key = first.key();
        assert_eq!(key, second.key());
        let what = first.type_name();
        assert_eq!(read(&store, &key).await, None, "{what} before");
        import(&store, std::slice::from_ref(&first)).await;
        assert_eq!(
            read(&store, &key).await.as_ref(),
            Some(&first),
            "{what} inserted"
        );
        import(&store, std::slice::from_ref(&second)).await;
        assert_eq!(
            read(&store, &key).await.as_ref(),
            Some(&second),
            "{what} replaced"
        );
        assert!(delete(&store, &key).await, "{what} deleted");
        assert_eq!(read(&store, &key).await, None, "{what} gone");
        assert!(!delete(&store, &key).await, "{what} deleted twice");
    }
    assert_eq!(store.stats().await.unwrap(), kofu_store::Stats::default());
}

/// Names with ideographic variation selectors come back byte for byte, and still match
/// a search typed without them.
async fn ivs_names_round_trip_byte_exact(store: Store) {
    let mut resident = sample::head_of_household();
    resident.family = "葛\u{E0102}西".into();
    resident.given = "辻\u{E0100}".into();
    resident.family_kana = "カサイ".into();
    resident.given_kana = "ツジ".into();
    resident.alias = Some("𠮷\u{E0100}田 花".into());
    let mut koseki = sample::koseki();
    koseki.members[0].family = "葛\u{E0102}西".into();
    koseki.hitto = "葛\u{E0102}西 辻\u{E0100}".into();
    import(
        &store,
        &[
            RegistryRecord::Resident(resident.clone()),
            RegistryRecord::Resident(sample::spouse()),
            RegistryRecord::Koseki(koseki.clone()),
        ],
    )
    .await;

    let back = store
        .resident(&resident.resident_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.family.as_bytes(), "葛\u{E0102}西".as_bytes());
    assert_eq!(back.given.as_bytes(), "辻\u{E0100}".as_bytes());
    assert_eq!(back, resident);
    let spouse = store.resident("00000000027").await.unwrap().unwrap();
    assert_eq!(
        spouse.former_family.as_deref().map(str::as_bytes),
        Some("葛\u{E0102}西".as_bytes())
    );
    assert_eq!(store.koseki("K0001").await.unwrap().unwrap(), koseki);

    for typed in [
        "葛西",
        "葛\u{E0102}西 辻\u{E0100}",
        "かさい",
        "Kasai Tsuji",
        "𠮷田",
    ] {
        let found = store
            .search(&ResidentQuery::by_name(typed).unwrap(), 10)
            .await
            .unwrap();
        assert_eq!(ids(&found), ["00000000019"], "{typed}");
        assert_eq!(found[0], resident);
    }
}

/// Search by name in every script, by birth date, by address, and combined.
async fn search_by_kana_romaji_kanji_birth_date_address(store: Store) {
    let mut aliased = sample::head_of_household();
    aliased.resident_id = "00000000051".into();
    aliased.household_id = "H0003".into();
    aliased.family = "李".into();
    aliased.given = "明".into();
    aliased.family_kana = "リ".into();
    aliased.given_kana = "メイ".into();
    aliased.alias = Some("山田 明".into());
    aliased.birth_date = date("1975-12-24");
    aliased.address = "見本県見本市ＡＢＣ町1番".into();
    import(
        &store,
        &[
            RegistryRecord::Resident(sample::head_of_household()),
            RegistryRecord::Resident(sample::spouse()),
            RegistryRecord::Resident(sample::child()),
            RegistryRecord::Resident(sample::foreign_resident()),
            RegistryRecord::Resident(aliased),
        ],
    )
    .await;
    let (head, spouse, child, smith, li) = (
        "00000000019",
        "00000000027",
        "00000000035",
        "00000000043",
        "00000000051",
    );
    let name = |s: &str| NameQuery::parse(s);
    let q = |name: Option<NameQuery>, birth: Option<&str>, address: Option<&str>| ResidentQuery {
        name,
        birth_date: birth.map(date),
        address: address.map(str::to_owned),
    };
    // Results are ordered by reading: みほんいちろ, みほんたろ, みほんはなこ.
    let cases: Vec<(&str, ResidentQuery, u32, Vec<&str>)> = vec![
        (
            "katakana",
            q(name("ミホン"), None, None),
            10,
            vec![child, head, spouse],
        ),
        (
            "hiragana",
            q(name("みほん たろう"), None, None),
            10,
            vec![head],
        ),
        (
            "half-width",
            q(name("ﾐﾎﾝ ﾊﾅｺ"), None, None),
            10,
            vec![spouse],
        ),
        ("romaji", q(name("Mihon Taro"), None, None), 10, vec![head]),
        (
            "romaji swapped",
            q(name("Taro Mihon"), None, None),
            10,
            vec![head],
        ),
        (
            "full-width romaji",
            q(name("ＭＩＨＯＮ　ＨＡＮＡＫＯ"), None, None),
            10,
            vec![spouse],
        ),
        ("kanji", q(name("見本 花"), None, None), 10, vec![spouse]),
        (
            "kanji family",
            q(name("見本"), None, None),
            10,
            vec![child, head, spouse],
        ),
        ("foreign", q(name("スミス"), None, None), 10, vec![smith]),
        (
            "foreign latin",
            q(name("SMITH"), None, None),
            10,
            vec![smith],
        ),
        ("alias", q(name("山田"), None, None), 10, vec![li]),
        (
            "alias in full",
            q(name("山田 明"), None, None),
            10,
            vec![li],
        ),
        ("real name", q(name("李"), None, None), 10, vec![li]),
        ("limit", q(name("ミホン"), None, None), 2, vec![child, head]),
        ("nobody", q(name("Tanaka"), None, None), 10, vec![]),
        (
            "birth date",
            q(None, Some("1980-04-01"), None),
            10,
            vec![head],
        ),
        (
            "name and birth date",
            q(name("ミホン"), Some("2016-05-05"), None),
            10,
            vec![child],
        ),
        (
            "name, wrong birth date",
            q(name("ミホン"), Some("2016-05-06"), None),
            10,
            vec![],
        ),
        ("address", q(None, None, Some("港町")), 10, vec![smith]),
        (
            "address prefix",
            q(None, None, Some("見本県見本市中央")),
            10,
            vec![child, head, spouse],
        ),
        (
            "address is literal",
            q(None, None, Some("中央%")),
            10,
            vec![],
        ),
        (
            "address width-sensitive",
            q(None, None, Some("ＡＢＣ")),
            10,
            vec![li],
        ),
        (
            "address case-sensitive",
            q(None, None, Some("ａｂｃ")),
            10,
            vec![],
        ),
        (
            "all three",
            q(name("みほん"), Some("1982-08-15"), Some("中央")),
            10,
            vec![spouse],
        ),
        ("empty query", q(None, None, None), 10, vec![]),
    ];
    for (what, query, limit, expected) in cases {
        let found = store.search(&query, limit).await.unwrap();
        assert_eq!(ids(&found), expected, "{what}");
    }
}

/// Stats count every type and serialize as the CLI prints them.
async fn stats_count_every_type(store: Store) {
    assert_eq!(
        serde_json::to_string(&store.stats().await.unwrap()).unwrap(),
        r#"{"residents":0,"households":0,"seals":0,"cards":0,"koseki":0,"fuhyo":0,"tax":0,"support_measures":0,"suppressions":0,"municipality":0,"last_seq":null}"#
    );
    import(&store, &sample_town()).await;
    let mut tx = store.begin_import().await.unwrap();
    tx.set_feed_state(7, instant("2026-05-02T10:15:00+09:00"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        serde_json::to_string(&store.stats().await.unwrap()).unwrap(),
        r#"{"residents":4,"households":2,"seals":1,"cards":1,"koseki":1,"fuhyo":1,"tax":1,"support_measures":1,"suppressions":1,"municipality":1,"last_seq":7}"#
    );
}

/// The feed position is absent at first, kept by commit, visible in the transaction.
async fn feed_state_is_kept(store: Store) {
    assert_eq!(store.feed_state().await.unwrap(), None);
    let mut tx = store.begin_import().await.unwrap();
    assert_eq!(tx.last_seq().await.unwrap(), None);
    let at = instant("2026-05-02T10:15:00.25+09:00");
    tx.set_feed_state(1042, at).await.unwrap();
    assert_eq!(tx.last_seq().await.unwrap(), Some(1042));
    tx.commit().await.unwrap();

    let state = store.feed_state().await.unwrap().unwrap();
    assert_eq!(state.last_seq, 1042);
    assert_eq!(state.at, at, "the same instant");
    assert_eq!(state.at.offset(), time::UtcOffset::UTC);
    assert_eq!(
        serde_json::to_string(&state).unwrap(),
        r#"{"last_seq":1042,"at":"2026-05-02T01:15:00.25Z"}"#
    );

    let mut tx = store.begin_import().await.unwrap();
    assert_eq!(tx.last_seq().await.unwrap(), Some(1042));
    tx.set_feed_state(1043, instant("2026-05-02T10:15:01+09:00"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.stats().await.unwrap().last_seq, Some(1043));
}

/// Neither rollback nor a dropped transaction leaves anything behind, even after
/// batches were written.
async fn rollback_leaves_nothing(store: Store) {
    let many = residents(4_500);
    for explicit in [true, false] {
        let mut tx = store.begin_import().await.unwrap();
        for record in sample_town().iter().chain(&many) {
            tx.upsert(record).await.unwrap();
        }
        assert!(
            tx.delete(&RecordKey::Resident("00000000019".into()))
                .await
                .unwrap()
        );
        tx.set_feed_state(5, instant("2026-05-02T10:15:00+09:00"))
            .await
            .unwrap();
        if explicit {
            tx.rollback().await.unwrap();
        } else {
            drop(tx);
        }
        assert_eq!(store.stats().await.unwrap(), kofu_store::Stats::default());
        assert_eq!(store.feed_state().await.unwrap(), None);
        assert_eq!(store.municipality().await.unwrap(), None);
    }
}

/// An upsert then a delete of one key in one transaction ends deleted; a delete then an
/// upsert ends present; repeated upserts of one key in one batch keep the last.
async fn upsert_and_delete_keep_their_order(store: Store) {
    let head = sample::head_of_household();
    let key = RecordKey::Resident(head.resident_id.clone());
    let mut moved = head.clone();
    moved.address = "見本県見本市港町九丁目9番9号".into();

    let mut tx = store.begin_import().await.unwrap();
    tx.upsert(&RegistryRecord::Resident(head.clone()))
        .await
        .unwrap();
    assert!(
        tx.delete(&key).await.unwrap(),
        "the buffered upsert is deleted"
    );
    tx.commit().await.unwrap();
    assert_eq!(store.resident(&head.resident_id).await.unwrap(), None);

    let mut tx = store.begin_import().await.unwrap();
    assert!(!tx.delete(&key).await.unwrap());
    tx.upsert(&RegistryRecord::Resident(head.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.resident(&head.resident_id).await.unwrap(),
        Some(head.clone())
    );

    // Delete, upsert, upsert again (same batch), then delete something else.
    let mut tx = store.begin_import().await.unwrap();
    assert!(tx.delete(&key).await.unwrap());
    tx.upsert(&RegistryRecord::Resident(head.clone()))
        .await
        .unwrap();
    tx.upsert(&RegistryRecord::Resident(moved.clone()))
        .await
        .unwrap();
    tx.upsert(&RegistryRecord::Card(sample::card()))
        .await
        .unwrap();
    tx.upsert(&RegistryRecord::Card(sample::card()))
        .await
        .unwrap();
    assert!(
        !tx.delete(&RecordKey::Seal("00000000019".into()))
            .await
            .unwrap()
    );
    tx.upsert(&RegistryRecord::Resident(moved.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.resident(&head.resident_id).await.unwrap(),
        Some(moved)
    );
    assert_eq!(store.stats().await.unwrap().residents, 1);
    assert_eq!(store.stats().await.unwrap().cards, 1);
}

/// `n` residents in households of three, each with a card and every third with a seal
/// and a tax record.
fn residents(n: usize) -> Vec<RegistryRecord> {
    let mut records = Vec::new();
    for i in 0..n {
        let mut r = sample::spouse();
        r.resident_id = format!("{:011}", 100_000 + i);
        r.household_id = format!("B{:07}", i / 3);
        r.relationship = if i % 3 == 0 { "世帯主" } else { "子" }.into();
        r.given = format!("花子{i}");
        records.push(RegistryRecord::Resident(r));
        let mut card = sample::card();
        card.resident_id = format!("{:011}", 100_000 + i);
        card.auth_serial = format!("{:08X}", 0x1000_0000 + i);
        records.push(RegistryRecord::Card(card));
        if i % 3 == 0 {
            let mut seal = sample::seal();
            seal.resident_id = format!("{:011}", 100_000 + i);
            records.push(RegistryRecord::Seal(seal));
            let mut tax = sample::tax();
            tax.resident_id = format!("{:011}", 100_000 + i);
            records.push(RegistryRecord::Tax(tax));
        }
    }
    records
}

/// More rows than one statement takes: full batches, a partial one, and a re-import of
/// the same records that replaces rather than duplicates.
async fn large_import_in_batches(store: Store) {
    let records = residents(4_500);
    import(&store, &records).await;
    import(&store, &records).await;
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (
            stats.residents,
            stats.households,
            stats.cards,
            stats.seals,
            stats.tax
        ),
        (4_500, 1_500, 4_500, 1_500, 1_500)
    );
    let last = store
        .resident(&format!("{:011}", 100_000 + 4_499))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.given, "花子4499");
    let card = store
        .card(&format!("{:08X}", 0x1000_0000 + 2_345))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.resident_id, format!("{:011}", 100_000 + 2_345));
    let found = store
        .search(&ResidentQuery::by_name("見本 花子449").unwrap(), 100)
        .await
        .unwrap();
    assert_eq!(found.len(), 11, "花子449 and 花子4490–4499");
    // After a large load the statistics are refreshed (VACUUM on PostgreSQL, which
    // refuses to run inside a transaction), and the answers stay the same.
    store.refresh_statistics().await.unwrap();
    let again = store
        .search(&ResidentQuery::by_name("見本 花子449").unwrap(), 100)
        .await
        .unwrap();
    assert_eq!(ids(&again), ids(&found));
}

/// A household lists its head first, then the others by resident ID.
async fn household_lists_head_first(store: Store) {
    let mut head = sample::head_of_household();
    head.resident_id = "00000000099".into();
    import(
        &store,
        &[
            RegistryRecord::Resident(sample::child()),
            RegistryRecord::Resident(head),
            RegistryRecord::Resident(sample::spouse()),
            RegistryRecord::Resident(sample::foreign_resident()),
        ],
    )
    .await;
    let members = store.household("H0001").await.unwrap();
    assert_eq!(ids(&members), ["00000000099", "00000000027", "00000000035"]);
    assert!(members[0].is_head());
    assert_eq!(
        ids(&store.household("H0002").await.unwrap()),
        ["00000000043"]
    );
    assert!(store.household("H9999").await.unwrap().is_empty());

    // The batch form a page of search results uses: IDs only, by household then ID.
    let households: Vec<String> = ["H0002", "H9999", "H0001"].map(String::from).into();
    let pairs = store.household_member_ids(&households).await.unwrap();
    let pairs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(h, r)| (h.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("H0001", "00000000027"),
            ("H0001", "00000000035"),
            ("H0001", "00000000099"),
            ("H0002", "00000000043"),
        ]
    );
    assert!(store.household_member_ids(&[]).await.unwrap().is_empty());
}

/// `koseki_for` looks among the 戸籍 of the resident's 本籍 for the one they are in.
async fn koseki_for_finds_the_members_register(store: Store) {
    // Another 戸籍 at the same 本籍, sorting first, in which nobody of the sample is.
    let mut other = sample::koseki();
    other.koseki_id = "K0000".into();
    other.hitto = "見本 次郎".into();
    for m in &mut other.members {
        m.given = format!("{}二", m.given);
    }
    // A 戸籍 elsewhere that links the foreign resident explicitly is not found: foreign
    // residents have no 本籍.
    let mut linked = sample::koseki();
    linked.koseki_id = "K0009".into();
    linked.honseki = "東京都千代田区霞が関二丁目1番".into();
    linked.members[0].resident_id = Some("00000000043".into());
    import(
        &store,
        &[
            RegistryRecord::Koseki(other),
            RegistryRecord::Koseki(sample::koseki()),
            RegistryRecord::Koseki(linked),
        ],
    )
    .await;
    for resident in [
        sample::head_of_household(),
        sample::spouse(),
        sample::child(),
    ] {
        let koseki = store.koseki_for(&resident).await.unwrap();
        assert_eq!(
            koseki.map(|k| k.koseki_id),
            Some("K0001".into()),
            "{}",
            resident.given
        );
    }
    assert_eq!(
        store.koseki_for(&sample::foreign_resident()).await.unwrap(),
        None
    );
    let mut stranger = sample::head_of_household();
    stranger.given = "五郎".into();
    assert_eq!(store.koseki_for(&stranger).await.unwrap(), None);
    // An explicit link wins over name matching.
    let mut relinked = sample::koseki();
    relinked.koseki_id = "K0002".into();
    relinked.members[2].resident_id = Some("00000000035".into());
    relinked.members[2].given = "改名".into();
    import(&store, &[RegistryRecord::Koseki(relinked)]).await;
    assert_eq!(
        store
            .koseki_for(&sample::child())
            .await
            .unwrap()
            .map(|k| k.koseki_id),
        Some("K0001".into()),
        "K0001 still matches by name and sorts first"
    );
    assert!(delete(&store, &RecordKey::Koseki("K0001".into())).await);
    assert_eq!(
        store
            .koseki_for(&sample::child())
            .await
            .unwrap()
            .map(|k| k.koseki_id),
        Some("K0002".into())
    );
}

/// Tax years, support measures for a household, suppressions of a person and household.
async fn tax_support_and_suppression_readers(store: Store) {
    let mut records = sample_town();
    for year in [2024, 2026, 2025] {
        let mut tax = sample::tax();
        tax.fiscal_year = year;
        records.push(RegistryRecord::Tax(tax));
    }
    let mut measure = support_measure();
    measure.resident_id = "00000000035".into();
    records.push(RegistryRecord::SupportMeasure(measure));
    records.push(RegistryRecord::Suppression(suppression(
        SuppressionScope::Person,
        "00000000019",
    )));
    records.push(RegistryRecord::Suppression(suppression(
        SuppressionScope::Household,
        "H0001",
    )));
    import(&store, &records).await;

    assert_eq!(
        store.tax_years("00000000019").await.unwrap(),
        [2024, 2025, 2026]
    );
    assert!(store.tax_years("00000000027").await.unwrap().is_empty());
    assert_eq!(store.tax("00000000019", 2023).await.unwrap(), None);
    assert_eq!(
        store
            .tax("00000000019", 2025)
            .await
            .unwrap()
            .map(|t| t.fiscal_year),
        Some(2025)
    );

    let household: Vec<String> = ["00000000019", "00000000027", "00000000035"]
        .map(String::from)
        .into();
    let measures = store.support_measures(&household).await.unwrap();
    let protected: Vec<&str> = measures.iter().map(|m| m.resident_id.as_str()).collect();
    assert_eq!(protected, ["00000000027", "00000000035"]);
    assert!(store.support_measures(&[]).await.unwrap().is_empty());
    // More IDs than one statement takes (with 27 and 35 among them, and 35 twice).
    let mut many: Vec<String> = (0..1_200).rev().map(|i| format!("{i:011}")).collect();
    many.push("00000000035".into());
    let measures = store.support_measures(&many).await.unwrap();
    let protected: Vec<&str> = measures.iter().map(|m| m.resident_id.as_str()).collect();
    assert_eq!(protected, ["00000000027", "00000000035"]);

    let scopes = |list: Vec<Suppression>| -> Vec<(SuppressionScope, String)> {
        list.into_iter().map(|s| (s.scope, s.id)).collect()
    };
    assert_eq!(
        scopes(store.suppressions("00000000019", "H0001").await.unwrap()),
        [
            (SuppressionScope::Person, "00000000019".to_owned()),
            (SuppressionScope::Household, "H0001".to_owned())
        ]
    );
    assert_eq!(
        scopes(store.suppressions("00000000043", "H0002").await.unwrap()),
        [(SuppressionScope::Household, "H0002".to_owned())]
    );
    assert!(
        store
            .suppressions("00000000027", "H0009")
            .await
            .unwrap()
            .is_empty()
    );
    // A person suppression on ID X does not apply to a household whose ID is X.
    assert!(
        store
            .suppressions("X", "00000000019")
            .await
            .unwrap()
            .is_empty()
    );

    // The batch form: persons then households, each by ID; an ID counts only in its
    // own scope.
    let persons: Vec<String> = ["H0001", "00000000043", "00000000019"]
        .map(String::from)
        .into();
    let households: Vec<String> = ["00000000019", "H0002", "H0001"].map(String::from).into();
    assert_eq!(
        scopes(store.suppressions_of(&persons, &households).await.unwrap()),
        [
            (SuppressionScope::Person, "00000000019".to_owned()),
            (SuppressionScope::Household, "H0001".to_owned()),
            (SuppressionScope::Household, "H0002".to_owned()),
        ]
    );
    assert!(store.suppressions_of(&[], &[]).await.unwrap().is_empty());
}

/// `resident_records` (one statement) answers what the single readers answer, and
/// `town_and_resident_records` what that and `municipality` answer, for a head of household with a seal, household members with a support measure and with a
/// person suppression, a resident whose household is suppressed, and nobody.
async fn resident_records_agree_with_the_single_readers(store: Store) {
    let mut records = sample_town();
    let mut measure = support_measure();
    measure.resident_id = "00000000035".into();
    records.push(RegistryRecord::SupportMeasure(measure));
    records.push(RegistryRecord::Suppression(suppression(
        SuppressionScope::Person,
        "00000000027",
    )));
    records.push(RegistryRecord::Suppression(suppression(
        SuppressionScope::Household,
        "H0001",
    )));
    // A suppression whose ID is a resident ID in household scope concerns nobody here.
    records.push(RegistryRecord::Suppression(suppression(
        SuppressionScope::Household,
        "00000000019",
    )));
    import(&store, &records).await;
    // A fee set by the administration: the town as issued differs from its record.
    let fees = r#"{"counter":{"juminhyo":250},"kiosk":{"juminhyo":120}}"#;
    store
        .replace_replica_settings(&[kofu_store::settings::SettingRow {
            setting: "fees".into(),
            revision: 1,
            value: fees.into(),
            reason: "改定".into(),
            staff: "S001".into(),
            at: "2026-05-01T09:00:00+09:00".into(),
        }])
        .await
        .unwrap();
    let town = store.municipality().await.unwrap().unwrap();
    assert_eq!(town.kiosk_fees_yen[&CertificateKind::Juminhyo], 120);

    let check = async |resident_id: &str, expected_household: &[&str]| {
        let found = store.resident_records(resident_id).await.unwrap();
        // The same records, and the same town, read in one statement.
        let (both_town, both) = store.town_and_resident_records(resident_id).await.unwrap();
        assert_eq!(both_town.as_ref(), Some(&town), "{resident_id}: town");
        assert_eq!(format!("{both:?}"), format!("{found:?}"), "{resident_id}");
        let Some(me) = store.resident(resident_id).await.unwrap() else {
            assert!(found.is_none(), "{resident_id}: nobody, so no records");
            return;
        };
        let found = found.unwrap_or_else(|| panic!("{resident_id}: records expected"));
        assert_eq!(found.resident, me, "{resident_id}");
        let household = store.household(&me.household_id).await.unwrap();
        assert_eq!(ids(&found.household), expected_household, "{resident_id}");
        assert_eq!(found.household, household, "{resident_id}: household");
        assert_eq!(
            found.seal,
            store.seal(resident_id).await.unwrap(),
            "{resident_id}: seal"
        );
        assert_eq!(
            found.suppressions,
            store
                .suppressions(resident_id, &me.household_id)
                .await
                .unwrap(),
            "{resident_id}: suppressions"
        );
        let member_ids: Vec<String> = household.iter().map(|m| m.resident_id.clone()).collect();
        assert_eq!(
            found.support_measures,
            store.support_measures(&member_ids).await.unwrap(),
            "{resident_id}: support measures"
        );
    };
    let h0001 = ["00000000019", "00000000027", "00000000035"];
    check("00000000019", &h0001).await;
    check("00000000027", &h0001).await;
    check("00000000035", &h0001).await;
    check("00000000043", &["00000000043"]).await;
    check("99999999999", &[]).await;

    // The parts themselves, for the spouse: both suppressions (person-scoped first),
    // the household's two support measures, no seal (the head has it).
    let spouse = store
        .resident_records("00000000027")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spouse.seal, None);
    let scopes: Vec<(SuppressionScope, &str)> = spouse
        .suppressions
        .iter()
        .map(|s| (s.scope, s.id.as_str()))
        .collect();
    assert_eq!(
        scopes,
        [
            (SuppressionScope::Person, "00000000027"),
            (SuppressionScope::Household, "H0001")
        ]
    );
    let protected: Vec<&str> = spouse
        .support_measures
        .iter()
        .map(|m| m.resident_id.as_str())
        .collect();
    assert_eq!(protected, ["00000000027", "00000000035"]);
}

/// `card_holder` (one statement) answers what `card`, `municipality` and
/// `resident_records` answer: for a card asked in its registered spelling, in another
/// spelling given as the alternative, for a card whose holder is not registered, and
/// for an unknown card (the town still read).
async fn card_holder_agrees_with_the_single_readers(store: Store) {
    let mut records = sample_town();
    let mut orphan = sample::card();
    orphan.auth_serial = "ffee0001".into();
    orphan.resident_id = "99999999999".into();
    records.push(RegistryRecord::Card(orphan.clone()));
    import(&store, &records).await;
    let town = store.municipality().await.unwrap();
    assert!(town.is_some());
    let card = sample::card();
    for (serial, other, expected) in [
        (&*card.auth_serial, "0a1b2c3d", Some(&card)),
        ("0a1b2c3d", &*card.auth_serial, Some(&card)),
        ("FFEE0001", "ffee0001", Some(&orphan)),
        ("DEADBEEF", "deadbeef", None),
    ] {
        let found = store.card_holder(serial, other, None).await.unwrap();
        assert_eq!((found.registry_version, found.issued_before), (None, false));
        let for_issuance = store
            .card_holder(serial, other, Some("req-none"))
            .await
            .unwrap();
        assert_eq!(
            for_issuance.registry_version,
            Some(store.registry_version().await.unwrap())
        );
        assert!(
            !for_issuance.issued_before,
            "no issuance has that request ID"
        );
        assert_eq!(for_issuance.card, found.card, "{serial}");
        assert_eq!(for_issuance.town, found.town, "{serial}");
        assert_eq!(
            format!("{:?}", for_issuance.records),
            format!("{:?}", found.records),
            "{serial}"
        );
        assert_eq!(found.card.as_ref(), expected, "{serial}");
        assert_eq!(found.town, town, "{serial}: town");
        let holder = match expected {
            Some(c) => store.resident_records(&c.resident_id).await.unwrap(),
            None => None,
        };
        assert_eq!(
            format!("{:?}", found.records),
            format!("{holder:?}"),
            "{serial}: records"
        );
        assert_eq!(
            found.records.is_some(),
            expected.is_some_and(|c| c.resident_id == card.resident_id),
            "{serial}"
        );
    }
}

/// A second import waits for the first to finish, then sees its result.
async fn imports_are_serialized(store: Store) {
    let mut first = store.begin_import().await.unwrap();
    first
        .set_feed_state(1, instant("2026-05-02T10:00:00+09:00"))
        .await
        .unwrap();
    let other = store.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin_import().await.unwrap();
        let seen = tx.last_seq().await.unwrap();
        tx.set_feed_state(2, instant("2026-05-02T10:00:01+09:00"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        seen
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second import waits");
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), Some(1));
    assert_eq!(
        store.feed_state().await.unwrap().map(|s| s.last_seq),
        Some(2)
    );
}

#[tokio::test]
async fn open_refuses_unknown_urls() {
    for url in ["mysql://localhost/kofu", "kofu.db", "file:kofu.db"] {
        match Store::open(url).await {
            Err(StoreError::UnsupportedUrl(_)) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
    let err = Store::open("mysql://user:secret@localhost/kofu")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
}

/// A PostgreSQL connection that the server dropped while it sat in the pool is not
/// handed to a use case: one idle for a second or more is tested before use (busy
/// connections skip that test, the one sqlx made as they came back being enough).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_dropped_while_idle_are_replaced() {
    let Some(url) = pg_url() else {
        return;
    };
    let (mut admin, schema, store_url) = fresh_pg_schema(&url).await;
    let store = Store::open(&format!("{store_url}&application_name={schema}"))
        .await
        .unwrap();
    store.stats().await.unwrap();
    let dropped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1) t",
    )
    .bind(&schema)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(dropped >= 1, "the store's connections were found");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        store.stats().await.unwrap();
    }
    store.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// The page size of the SQLite file at `path`.
async fn page_size(path: &std::path::Path) -> i64 {
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// A new file gets 16 KiB pages; a file made with another page size keeps it, and
/// works as before.
#[tokio::test]
async fn sqlite_new_files_get_16k_pages_and_old_ones_keep_theirs() {
    let dir = TempDir::new();
    let new = dir.0.join("new.db");
    let store = Store::open(&format!("sqlite:{}", new.display()))
        .await
        .unwrap();
    store.close().await;
    assert_eq!(page_size(&new).await, 16384);

    let old = dir.0.join("old.db");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=rwc", old.display()))
        .await
        .unwrap();
    sqlx::raw_sql("PRAGMA page_size = 4096; CREATE TABLE made_before (x)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let store = Store::open(&format!("sqlite:{}", old.display()))
        .await
        .unwrap();
    import(&store, &[RegistryRecord::Resident(sample::child())]).await;
    assert_eq!(store.stats().await.unwrap().residents, 1);
    store.close().await;
    assert_eq!(page_size(&old).await, 4096);
}

#[tokio::test]
async fn sqlite_url_forms_create_the_file() {
    let dir = TempDir::new();
    for (i, prefix) in ["sqlite:", "sqlite://"].iter().enumerate() {
        let path = dir.0.join(format!("created{i}.db"));
        let store = Store::open(&format!("{prefix}{}", path.display()))
            .await
            .unwrap();
        import(&store, &[RegistryRecord::Resident(sample::child())]).await;
        store.close().await;
        assert!(path.exists(), "{prefix}");
        // Reopening keeps the data and re-runs no migration.
        let store = Store::open(&format!("{prefix}{}", path.display()))
            .await
            .unwrap();
        assert_eq!(store.stats().await.unwrap().residents, 1);
        store.close().await;
    }
}

/// The journal mode of the SQLite file at `path`, and the size of its WAL file (to look
/// at while the store is open: the last connection to close removes the WAL).
async fn journal(path: &std::path::Path) -> (String, u64) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    conn.close().await.unwrap();
    (mode, wal)
}

/// A first load into an empty SQLite database, with no other connection open, writes its
/// pages once, past the rollback journal, instead of into the WAL (which stays empty);
/// the database is in WAL mode again afterwards. A second load (not a first), and a
/// first one while another connection is open, go through the WAL, with the same result.
#[tokio::test]
async fn sqlite_first_load_bypasses_the_wal() {
    let dir = TempDir::new();
    let records = residents(2_500);
    let url = |path: &std::path::Path| format!("sqlite:{}", path.display());
    let loaded = |stats: kofu_store::Stats| {
        assert_eq!((stats.residents, stats.cards), (2_500, 2_500));
    };

    let alone = dir.0.join("alone.db");
    let store = Store::open(&url(&alone)).await.unwrap();
    import(&store, &records).await;
    loaded(store.stats().await.unwrap());
    // The store goes on working: its pool opens connections again.
    let first = format!("{:011}", 100_000);
    assert!(store.resident(&first).await.unwrap().is_some());
    let (mode, wal) = journal(&alone).await;
    assert_eq!(mode, "wal");
    assert!(
        wal < 64 * 1024,
        "the load bypassed the WAL, which holds {wal} bytes"
    );

    // Loading again (not into an empty database) goes through the WAL.
    import(&store, &records).await;
    loaded(store.stats().await.unwrap());
    let (mode, wal) = journal(&alone).await;
    assert_eq!(mode, "wal");
    assert!(wal > 100_000, "a second load writes the WAL ({wal} bytes)");
    store.close().await;

    // Another connection holds the WAL open: the first load goes through it.
    let shared = dir.0.join("shared.db");
    let store = Store::open(&url(&shared)).await.unwrap();
    let mut reader = sqlx::SqliteConnection::connect(&url(&shared))
        .await
        .unwrap();
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM residents")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    assert_eq!(none, 0);
    import(&store, &records).await;
    loaded(store.stats().await.unwrap());
    let (mode, wal) = journal(&shared).await;
    assert_eq!(mode, "wal");
    assert!(
        wal > 1_000_000,
        "with a reader the load goes through the WAL ({wal} bytes)"
    );
    reader.close().await.unwrap();
    store.close().await;
}

// ---------------------------------------------------------------------------------------
// The audit chain

/// A use case's transaction that appends one 交付履歴 event and commits its entry.
async fn use_case(store: &Store, i: usize, registry_bound: bool) {
    use kofu_store::ledger::ISSUANCE_EVENTS;
    use kofu_store::{AuditEntry, Cell};
    let mut tx = if registry_bound {
        store.begin_ledger().await.unwrap()
    } else {
        store.begin_audit().await.unwrap()
    };
    let text = |s: &str| Cell::Text(s.to_owned());
    tx.append(
        &ISSUANCE_EVENTS,
        vec![
            text(&format!("EV-{i:04}")),
            text(&format!("ISS-{i:04}")),
            text("outcome"),
            text("{}"),
            Cell::Null,
            text("2026-05-07T01:15:00Z"),
        ],
    )
    .await
    .unwrap();
    tx.commit(AuditEntry {
        at: "2026-05-07T01:15:00Z".into(),
        actor: format!("kiosk:K-{i:05}"),
        action: "kiosk.outcome".into(),
        target: format!("ISS-{i:04}"),
        detail: "{}".into(),
    })
    .await
    .unwrap();
}

/// Use cases committing at once each get their entry into one unbroken chain that
/// notarises every row, and a day close's head covers every entry committed before it
/// (on PostgreSQL the entries are chained by the sealer, not by the use cases).
async fn audit_chain_takes_concurrent_use_cases(store: Store) {
    const N: usize = 24;
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { use_case(&store, i, i % 2 == 0).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // A day close reads the head in its own transaction (here rolled back).
    let mut close = store.begin_ledger().await.unwrap();
    let head = close.audit_head().await.unwrap();
    drop(close);
    let rows = store.audit_rows().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=N as i64).collect::<Vec<_>>()
    );
    assert_eq!(rows.last().unwrap().hash, head);
    let mut actors: Vec<&str> = rows.iter().map(|r| r.actor.as_str()).collect();
    actors.sort_unstable();
    let expected: Vec<String> = (0..N).map(|i| format!("kiosk:K-{i:05}")).collect();
    assert_eq!(actors, expected);
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problems, []);
    assert_eq!((verdict.entries, verdict.rows), (N, N));
    assert_eq!(verdict.head, head);
    assert_eq!(store.seal_audit().await.unwrap(), 0, "nothing left pending");
}

/// Verifying while use cases keep committing reports nothing wrong: a row written after
/// the chain was read is notarised by an entry committed since, not slipped in.
async fn audit_verified_while_use_cases_commit(store: Store) {
    const N: usize = 60;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..N {
                use_case(&store, i, false).await;
            }
        })
    };
    let mut readings = 0;
    while !writer.is_finished() && readings < 200 {
        let verdict = store.verify_audit().await.unwrap();
        assert_eq!(verdict.problems, [], "reading {readings}");
        readings += 1;
    }
    writer.await.unwrap();
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problems, []);
    assert_eq!((verdict.entries, verdict.rows), (N, N));
}

/// A database file the store creates, plain or an encrypted replica, is readable and
/// writable by its owner only; an existing file keeps the permissions it has.
#[cfg(unix)]
#[tokio::test]
async fn new_database_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = std::env::temp_dir().join(unique("kofu-store-mode"));
    std::fs::create_dir_all(&dir).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let plain = dir.join("kofu.sqlite");
    let store = Store::open(&format!("sqlite:{}", plain.display()))
        .await
        .unwrap();
    store.close().await;
    assert_eq!(mode(&plain), 0o600);
    let replica = dir.join("replica.sqlite");
    let store = Store::open_encrypted(&replica, &[7u8; 32]).await.unwrap();
    store.close().await;
    assert_eq!(mode(&replica), 0o600);
    let shared = dir.join("shared.sqlite");
    std::fs::write(&shared, b"").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = Store::open(&format!("sqlite:{}", shared.display()))
        .await
        .unwrap();
    store.close().await;
    assert_eq!(mode(&shared), 0o640, "an existing file is left as it is");
    std::fs::remove_dir_all(&dir).unwrap();
}
