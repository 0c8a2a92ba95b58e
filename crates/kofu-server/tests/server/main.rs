//! The issuance server against both backends: the LGWAN endpoints (every answer and
//! every refusal reason), idempotency, the time limit, bad input, the audit chain with
//! tampering, append-only ledgers, mutual TLS, and the counter API (staff, login,
//! lock-out, idle expiry, resident search, audit verification). Every data test runs
//! once on SQLite and once on PostgreSQL (`KOFU_TEST_PG_URL`; `KOFU_SKIP_PG=1` skips
//! that half).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use kofu_app::{Office, OfficeSettings};
use kofu_store::{AuditProblem, Store};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;
use tower::ServiceExt as _;

mod forged;
mod options;
use forged::offline_uploads_are_rederived_and_every_forgery_is_refused;
mod protected;

use options::{
    every_accepted_option_is_printed_and_every_other_refused, printed_forms_carry_the_legal_items,
};

use protected::{
    every_person_shown_is_checked_in_every_form, kiosk_refuses_a_protected_member_of_the_koseki,
};

// ---------------------------------------------------------------------------------------
// Harness

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn feed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/feeds")
        .join(name)
}

/// A database with the kiosk town imported, and how to reach it with raw SQL.
struct Db {
    store: Store,
    /// A URL for raw connections (SQLite file, or PostgreSQL with the test's schema).
    raw_url: String,
    postgres: bool,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    /// Runs raw SQL as an intruder with database access would (triggers are off).
    async fn tamper(&self, sql: &str) {
        // PostgreSQL: entries the sealer has not chained yet are chained first.
        self.store.seal_audit().await.unwrap();
        if self.postgres {
            let mut c = sqlx::PgConnection::connect(&self.raw_url).await.unwrap();
            sqlx::query("SET session_replication_role = replica")
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.raw_url)
                .await
                .unwrap();
            // Drop the append-only triggers first, as an intruder would.
            let triggers: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
            for (t,) in triggers {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}")))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }

    /// Runs raw SQL as the server's own connection would; returns the error text.
    async fn try_sql(&self, sql: &str) -> Result<(), String> {
        let r = if self.postgres {
            let mut c = sqlx::PgConnection::connect(&self.raw_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .map(|_| ())
        } else {
            let mut c = sqlx::SqliteConnection::connect(&self.raw_url)
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await
                .map(|_| ())
        };
        r.map_err(|e| e.to_string())
    }

    async fn count(&self, table: &str) -> i64 {
        self.store.seal_audit().await.unwrap();
        let rows = self
            .store
            .ledger_query(
                match table {
                    "issuances" => "SELECT COUNT(*) FROM issuances",
                    "issued_copies" => "SELECT COUNT(*) FROM issued_copies",
                    "fees" => "SELECT COUNT(*) FROM fees",
                    "number_serials" => "SELECT COUNT(*) FROM number_serials",
                    _ => "SELECT COUNT(*) FROM audit_log",
                },
                &[],
                &[true],
            )
            .await
            .unwrap();
        match rows[0][0] {
            kofu_store::Cell::Int(n) => n,
            _ => -1,
        }
    }
}

async fn open(postgres: bool) -> Option<Db> {
    open_with(postgres, "kiosk-town.jsonl").await
}

/// A database with the named feed of `tests/feeds` imported.
async fn open_with(postgres: bool, feed_name: &str) -> Option<Db> {
    let (store, raw_url, dir) = if postgres {
        let url = match std::env::var("KOFU_TEST_PG_URL") {
            Ok(u) if !u.is_empty() => u,
            _ if std::env::var("KOFU_SKIP_PG").as_deref() == Ok("1") => return None,
            _ => panic!(
                "KOFU_TEST_PG_URL is not set: run `eval \"$(bash scripts/pg-test.sh start)\"`"
            ),
        };
        let schema = unique("srv");
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
        (Store::open(&scoped).await.unwrap(), scoped, None)
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("kofu.sqlite").display());
        (Store::open(&url).await.unwrap(), url, Some(dir))
    };
    let file = std::fs::File::open(feed(feed_name)).unwrap();
    kofu_app::import_feed(&store, std::io::BufReader::new(file))
        .await
        .unwrap();
    Some(Db {
        store,
        raw_url,
        postgres,
        _dir: dir,
    })
}

fn fonts() -> Arc<kofu_render::FontBook> {
    static FONTS: std::sync::OnceLock<Arc<kofu_render::FontBook>> = std::sync::OnceLock::new();
    FONTS
        .get_or_init(|| {
            Arc::new(kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).unwrap())
        })
        .clone()
}

async fn office(db: &Db, settings: OfficeSettings) -> Office {
    Office::new(db.store.clone(), fonts(), settings, "test-secret")
        .await
        .unwrap()
}

/// A server over the database, called in-process.
struct Server {
    router: axum::Router,
}

impl Server {
    async fn new(db: &Db) -> Server {
        Server::with(db, OfficeSettings::default()).await
    }

    async fn with(db: &Db, settings: OfficeSettings) -> Server {
        Server {
            router: kofu_server::lgwan::router(office(db, settings).await),
        }
    }

    async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
        (status, value)
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.raw(
            "POST",
            path,
            "application/json",
            serde_json::to_vec(body).unwrap(),
        )
        .await
    }
}

/// Declares each test once per backend.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::open(false).await.unwrap();
                    super::$name(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::open(true).await {
                        Some(db) => super::$name(db).await,
                        None => eprintln!("KOFU_SKIP_PG=1: PostgreSQL half skipped"),
                    }
                }
            )+
        }
    };
}

on_both_backends!(
    health_answers_ok,
    inquiry_offers_members_and_options,
    inquiry_refusals_name_their_reason,
    issuance_returns_a_bound_pdf_per_copy,
    issuance_is_idempotent_per_request_id,
    issuance_rechecks_eligibility,
    stale_data_is_never_issued,
    timeout_issues_and_numbers_nothing,
    outcomes_are_recorded_once_and_failures_reverse_the_fee,
    bad_input_is_a_stable_4xx,
    audit_detects_altered_removed_and_inserted_rows,
    ledgers_refuse_update_and_delete,
    staff_add_refuses_duplicates_and_weak_passwords,
    counter_login_starts_a_session_and_logout_ends_it,
    counter_login_input_is_bounded_before_anything_is_written,
    counter_locks_an_account_after_five_failures,
    counter_slows_down_repeated_failures_on_one_account,
    counter_successful_login_resets_the_failure_count,
    counter_sessions_expire_when_idle,
    counter_search_flags_residents_and_is_audited,
    counter_issues_numbered_copies_with_fee_and_receipt,
    counter_support_measure_is_overridden_only_by_the_support_officer,
    counter_preview_numbers_nothing_and_void_reverses_the_fee,
    counter_day_close_counts_cash_by_method_and_seals_the_day,
    counter_retry_answers_the_same_issuance,
    counter_closed_day_takes_no_issuance_or_void,
    counter_denied_actions_are_audited,
    counter_admin_manages_staff_accounts,
    counter_report_surfaces_overrides_voids_and_kiosk_problems,
    counter_report_pdf_in_japanese_and_english,
    counter_audit_verify_answers_the_verdict_to_supervisor_and_admin,
    offline_terminal_issues_and_its_upload_lands_exactly_once,
    counter_admin_changes_settings_and_issuance_follows,
    every_accepted_option_is_printed_and_every_other_refused,
    printed_forms_carry_the_legal_items,
    counter_render_failures_are_named_to_the_clerk_and_reviewed,
    every_counter_route_checks_its_door_before_its_body,
    terminals_are_enrolled_register_their_own_key_and_are_revoked,
    replica_snapshots_are_rate_limited_per_terminal,
    replica_snapshots_are_paged_and_end_exact,
    replicas_carry_my_number_only_when_the_administrator_allows,
    print_outcomes_reach_the_supervisor,
    issuances_are_found_by_number_receipt_resident_and_day,
    offline_uploads_are_rederived_and_every_forgery_is_refused,
    counter_failed_logins_are_slowed_down_per_source,
    counter_staff_change_their_own_password,
    concurrent_duplicates_record_one_reversal,
    audit_anchors_tell_a_chain_cut_short_or_rewritten,
);

/// Declares each test once per backend, over the feed `protected-town.jsonl`.
macro_rules! on_both_backends_protected {
    ($($name:ident),+ $(,)?) => {
        mod protected_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::open_with(false, "protected-town.jsonl").await.unwrap();
                    super::$name(db).await;
                }
            )+
        }
        mod protected_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::open_with(true, "protected-town.jsonl").await {
                        Some(db) => super::$name(db).await,
                        None => eprintln!("KOFU_SKIP_PG=1: PostgreSQL half skipped"),
                    }
                }
            )+
        }
    };
}

on_both_backends_protected!(
    every_person_shown_is_checked_in_every_form,
    kiosk_refuses_a_protected_member_of_the_koseki,
);

// ---------------------------------------------------------------------------------------
// Requests

/// A weekday morning inside kiosk hours (Thursday 7 May 2026).
const MORNING: &str = "2026-05-07T10:15:00+09:00";

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn inquiry(id: &str, serial: &str, kind: &str, at: &str) -> Value {
    json!({"request_id": id, "card_serial": serial, "certificate": kind,
           "kiosk": {"id": "K-12345", "chain": "sample-mart"}, "requested_at": at})
}

fn issuance(id: &str, serial: &str, kind: &str, options: Value, copies: u32) -> Value {
    json!({"request_id": id, "card_serial": serial, "certificate": kind, "options": options,
           "copies": copies, "kiosk": {"id": "K-12345", "chain": "sample-mart"},
           "requested_at": MORNING})
}

fn pdf_of(doc: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(doc["pdf_base64"].as_str().unwrap())
        .unwrap()
}

/// The text of a PDF, as poppler's pdftotext reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------
// Tests

async fn health_answers_ok(db: Db) {
    let s = Server::new(&db).await;
    let (status, body) = s
        .raw("GET", "/lgwan/v1/health", "application/json", Vec::new())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

async fn inquiry_offers_members_and_options(db: Db) {
    let s = Server::new(&db).await;
    let id = new_id();
    let (status, body) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&id, "0A1B2C3D", "juminhyo", MORNING),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request_id"], json!(id));
    assert_eq!(body["available"], json!(true));
    assert_eq!(body["fee_yen"], json!(200), "the kiosk 住民票 fee");
    let members = body["choices"]["household_members"].as_array().unwrap();
    let names: Vec<&str> = members
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["見本 太郎", "見本 花子", "見本 次郎"]);
    assert_eq!(members[0]["self"], json!(true));
    assert_eq!(members[1]["self"], json!(false));
    for m in members {
        let token = m["member"].as_str().unwrap();
        assert!(
            !token.contains("000000"),
            "a token never reveals a resident number: {token}"
        );
    }
    assert_eq!(
        body["choices"]["options"],
        json!([
            "show_relationship",
            "show_honseki",
            "show_my_number",
            "show_former_surname"
        ])
    );
    // Tokens are valid for their request only.
    let (_, other) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&new_id(), "0A1B2C3D", "juminhyo", MORNING),
        )
        .await;
    assert_ne!(
        other["choices"]["household_members"][0]["member"],
        members[0]["member"]
    );
    // 課税証明書: the years held.
    let (_, tax) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&new_id(), "0A1B2C3D", "shotoku_kazei", MORNING),
        )
        .await;
    assert_eq!(tax["available"], json!(true), "{tax}");
    assert_eq!(tax["choices"]["tax_years"], json!([2026]));
    // Every inquiry is in the audit log.
    assert_eq!(db.count("audit_log").await, 3);
}

async fn inquiry_refusals_name_their_reason(db: Db) {
    let s = Server::new(&db).await;
    let check = async |serial: &str, kind: &str, at: &str, reason: &str| {
        let (status, body) = s
            .post("/lgwan/v1/inquiries", &inquiry(&new_id(), serial, kind, at))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["available"], json!(false), "{serial} {kind}: {body}");
        assert_eq!(body["reason"], json!(reason), "{serial} {kind}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
        assert!(body.get("choices").is_none());
    };
    check("FFFF0000", "juminhyo", MORNING, "unknown_card").await;
    check("0A0A0A0A", "juminhyo", MORNING, "unknown_card").await; // revoked card
    check("2A2A2A2A", "juminhyo", MORNING, "not_resident").await;
    check("1B1B1B1B", "juminhyo", MORNING, "moved_out").await;
    check("0D0D0D0D", "juminhyo", MORNING, "deceased").await;
    check("0C0C0C0C", "juminhyo", MORNING, "support_measure").await;
    check("0F0F0F0F", "juminhyo", MORNING, "suppressed").await;
    check("0E0E0E0E", "inkan", MORNING, "seal_not_registered").await;
    check("0B0B0B0B", "inkan", MORNING, "seal_revoked").await;
    check("1A1A1A1A", "juminhyo", MORNING, "under_age").await;
    check(
        "0A1B2C3D",
        "juminhyo",
        "2026-05-07T02:00:00+09:00",
        "out_of_hours",
    )
    .await;
    check(
        "0A1B2C3D",
        "juminhyo",
        "2026-12-30T10:00:00+09:00",
        "out_of_hours",
    )
    .await;
    check(
        "0A1B2C3D",
        "koseki_zenbu",
        "2026-05-07T18:00:00+09:00",
        "out_of_hours",
    )
    .await;
    check("1C1C1C1C", "juminhyo", MORNING, "not_yet_reflected").await;
    check("0E0E0E0E", "shotoku_kazei", MORNING, "no_tax_record").await;
    check("0E0E0E0E", "koseki_zenbu", MORNING, "domicile_not_here").await;
}

async fn issuance_returns_a_bound_pdf_per_copy(db: Db) {
    let s = Server::new(&db).await;
    let id = new_id();
    let (_, inq) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&id, "0A1B2C3D", "juminhyo", MORNING),
        )
        .await;
    let members = inq["choices"]["household_members"].as_array().unwrap();
    let chosen = json!([members[0]["member"], members[1]["member"]]);
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(
                &id,
                "0A1B2C3D",
                "juminhyo",
                json!({"household": chosen, "show_relationship": true, "show_former_surname": true}),
                2,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    assert_eq!(body["request_id"], json!(id));
    assert_eq!(body["fee_yen"], json!(400), "2 copies at the kiosk fee");
    uuid::Uuid::parse_str(body["issuance_id"].as_str().unwrap()).unwrap();
    let docs = body["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d["copy"], json!(i + 1));
        assert_eq!(
            d["issue_number"],
            json!(format!("20260507 見本市 KIOSK K-12345 {:06}", i + 1))
        );
        let pdf = pdf_of(d);
        assert_eq!(d["sha256"], json!(hex(&Sha256::digest(&pdf))));
        assert_eq!(d["pages"], json!(1));
        let text = pdf_text(&pdf);
        for item in [
            "見本 太郎",
            "見本 花子",
            "世帯主",
            "妻",
            "葛",
            &format!("{:06} 1/1", i + 1),
        ] {
            assert!(text.contains(item), "copy {} lacks {item}:\n{text}", i + 1);
        }
        assert!(
            !text.contains("次郎"),
            "a member not chosen is on the page:\n{text}"
        );
    }
    assert_ne!(
        pdf_of(&docs[0]),
        pdf_of(&docs[1]),
        "each copy has its own number"
    );
    assert_eq!(db.count("issuances").await, 1);
    assert_eq!(db.count("issued_copies").await, 2);
    assert_eq!(db.count("fees").await, 1);
    // A member token of another request is refused.
    let (_, other) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&new_id(), "0A1B2C3D", "juminhyo", MORNING),
        )
        .await;
    let foreign_token = other["choices"]["household_members"][0]["member"].clone();
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(
                &new_id(),
                "0A1B2C3D",
                "juminhyo",
                json!({"household": [foreign_token]}),
                1,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("invalid_request"));
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn issuance_is_idempotent_per_request_id(db: Db) {
    let s = Server::new(&db).await;
    let id = new_id();
    let req = issuance(&id, "0A1B2C3D", "juminhyo", json!({"household": "all"}), 1);
    let (status, first) = s.post("/lgwan/v1/issuances", &req).await;
    assert_eq!(status, StatusCode::OK, "{}", first["error"]);
    let (status, again) = s.post("/lgwan/v1/issuances", &req).await;
    assert_eq!(status, StatusCode::OK, "{}", again["error"]);
    assert!(first == again, "same issuance_id, numbers and PDF bytes");
    assert_eq!(db.count("issuances").await, 1);
    assert_eq!(db.count("issued_copies").await, 1);
    // The same request ID with another body.
    let other = issuance(&id, "0A1B2C3D", "juminhyo", json!({"household": "self"}), 1);
    let (status, body) = s.post("/lgwan/v1/issuances", &other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], json!("request_id_reused"));
    // Concurrent twins: one issuance.
    let twin_id = new_id();
    let twin = issuance(&twin_id, "0A1B2C3D", "juminhyo", json!({}), 1);
    let (a, b) = tokio::join!(
        s.post("/lgwan/v1/issuances", &twin),
        s.post("/lgwan/v1/issuances", &twin)
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1["error"]);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1["error"]);
    assert!(a.1 == b.1, "concurrent twins got different answers");
    assert_eq!(db.count("issuances").await, 2);
}

async fn issuance_rechecks_eligibility(db: Db) {
    let s = Server::new(&db).await;
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0B0B0B0B", "inkan", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], json!("seal_revoked"));
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(
                &new_id(),
                "0A1B2C3D",
                "inkan",
                json!({"show_honseki": true}),
                1,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], json!("invalid_options"));
    assert_eq!(db.count("issuances").await, 0);
    assert_eq!(db.count("number_serials").await, 0, "nothing numbered");
}

async fn stale_data_is_never_issued(db: Db) {
    let s = Server::new(&db).await;
    let (status, _) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "inkan", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The registry revokes the seal and moves the resident; the event is acknowledged…
    let feed_text = std::fs::read_to_string(feed("kiosk-town.jsonl")).unwrap();
    let mut seal: Value = feed_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "seal" && v["resident_id"] == "00000000019")
        .unwrap();
    seal["status"] = json!("revoked");
    seal["revoked_on"] = json!("2026-05-07");
    let mut resident: Value = feed_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "resident" && v["resident_id"] == "00000000019")
        .unwrap();
    resident["address"] = json!("見本県見本市北二丁目5番8号");
    resident["address_since"] = json!("2026-05-01");
    resident["notified_on"] = json!("2026-05-01");
    let events = [
        json!({"type": "change", "seq": 1, "at": "2026-05-07T09:00:00+09:00", "op": "upsert", "record": seal}),
        json!({"type": "change", "seq": 2, "at": "2026-05-07T09:00:01+09:00", "op": "upsert", "record": resident}),
    ];
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    kofu_app::import_feed(&db.store, std::io::Cursor::new(text.into_bytes()))
        .await
        .unwrap();
    // …and the kiosk asks at once.
    let (_, inq) = s
        .post(
            "/lgwan/v1/inquiries",
            &inquiry(&new_id(), "0A1B2C3D", "inkan", MORNING),
        )
        .await;
    assert_eq!(inq["reason"], json!("seal_revoked"), "{inq}");
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "inkan", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    let text = pdf_text(&pdf_of(&body["documents"][0]));
    assert!(text.contains("北二丁目5番8号"), "the new address:\n{text}");
    assert!(
        !text.contains("中央一丁目2番3号"),
        "never the old address:\n{text}"
    );
}

async fn timeout_issues_and_numbers_nothing(db: Db) {
    let slow = Server::with(
        &db,
        OfficeSettings {
            issue_time_limit: Duration::from_millis(300),
            render_stall: Some(Duration::from_millis(1500)),
            ..OfficeSettings::default()
        },
    )
    .await;
    let id = new_id();
    let req = issuance(&id, "0A1B2C3D", "juminhyo", json!({}), 1);
    let (status, body) = slow.post("/lgwan/v1/issuances", &req).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], json!("timeout"));
    assert_eq!(db.count("issuances").await, 0);
    assert_eq!(db.count("fees").await, 0);
    assert_eq!(db.count("number_serials").await, 0, "no number was taken");
    // The failure is recorded for the supervisor's review, with its reason.
    let failed = audited(&db, "kiosk.issue_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "kiosk:K-12345");
    assert_eq!(failed[0].1, id);
    assert_eq!(failed[0].2["code"], "timeout");
    // A retry of the same request ID starts afresh and gets the first number.
    let (status, body) = Server::new(&db)
        .await
        .post("/lgwan/v1/issuances", &req)
        .await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    assert_eq!(
        body["documents"][0]["issue_number"],
        json!("20260507 見本市 KIOSK K-12345 000001")
    );
}

async fn outcomes_are_recorded_once_and_failures_reverse_the_fee(db: Db) {
    let s = Server::new(&db).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = new_id();
        let (_, body) = s
            .post(
                "/lgwan/v1/issuances",
                &issuance(&id, "0A1B2C3D", "juminhyo", json!({}), 1),
            )
            .await;
        ids.push((id, body["issuance_id"].as_str().unwrap().to_owned()));
    }
    let notice = |(rid, iid): &(String, String), outcome: &str| {
        json!({"request_id": rid, "issuance_id": iid, "outcome": outcome, "pages_printed": 1,
               "fee_collected_yen": 200, "reported_at": "2026-05-07T10:16:02+09:00"})
    };
    for _ in 0..2 {
        let (status, body) = s
            .post("/lgwan/v1/outcomes", &notice(&ids[0], "printed"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"request_id": ids[0].0, "recorded": true}));
    }
    let (status, _) = s
        .post("/lgwan/v1/outcomes", &notice(&ids[1], "paper_jam"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = db
        .store
        .ledger_query("SELECT COUNT(*) FROM issuance_events", &[], &[true])
        .await
        .unwrap();
    assert_eq!(
        events[0][0],
        kofu_store::Cell::Int(2),
        "a repeated notice records nothing"
    );
    let net = db
        .store
        .ledger_query(
            "SELECT CAST(SUM(amount_yen) AS BIGINT) FROM fees",
            &[],
            &[true],
        )
        .await
        .unwrap();
    assert_eq!(
        net[0][0],
        kofu_store::Cell::Int(200),
        "the jammed copy's fee is reversed"
    );
    let reversal = db
        .store
        .ledger_query(
            "SELECT kind, CAST(amount_yen AS BIGINT), method FROM fees WHERE amount_yen < 0",
            &[],
            &[false, true, false],
        )
        .await
        .unwrap();
    assert_eq!(
        reversal,
        [vec![
            kofu_store::Cell::Text("juminhyo".into()),
            kofu_store::Cell::Int(-200),
            kofu_store::Cell::Text("kiosk_settlement".into()),
        ]],
        "the reversal names the certificate's kind"
    );
    let unknown = (ids[0].0.clone(), new_id());
    let (status, body) = s
        .post("/lgwan/v1/outcomes", &notice(&unknown, "printed"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], json!("unknown_issuance"));
    let (status, body) = s
        .post("/lgwan/v1/outcomes", &notice(&ids[0], "exploded"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn bad_input_is_a_stable_4xx(db: Db) {
    let s = Server::new(&db).await;
    let check = async |content_type: &str,
                       body: Vec<u8>,
                       status: StatusCode,
                       code: &str,
                       mentions: &str| {
        for path in [
            "/lgwan/v1/inquiries",
            "/lgwan/v1/issuances",
            "/lgwan/v1/outcomes",
        ] {
            let (got, answer) = s.raw("POST", path, content_type, body.clone()).await;
            assert_eq!(got, status, "{path}: {answer}");
            assert_eq!(answer["error"]["code"], json!(code), "{path}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(mentions),
                "{path}: {message:?} should mention {mentions:?}"
            );
        }
    };
    let ct = "application/json";
    check(
        ct,
        b"{not json".to_vec(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
        "JSON",
    )
    .await;
    check(
        ct,
        b"[]".to_vec(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "",
    )
    .await;
    check(
        ct,
        br#"{"request_id": "x"}"#.to_vec(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "",
    )
    .await;
    check(
        "text/plain",
        b"{}".to_vec(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "application/json",
    )
    .await;
    check(
        ct,
        vec![b' '; 200 * 1024],
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "",
    )
    .await;
    let field = async |body: Value, path: &str, field: &str| {
        let (got, answer) = s.post(path, &body).await;
        assert_eq!(got, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(
            answer["error"]["code"],
            json!("invalid_request"),
            "{answer}"
        );
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field),
            "{answer} should name {field}"
        );
    };
    let mut b = inquiry("not-a-uuid", "0A1B2C3D", "juminhyo", MORNING);
    field(b.clone(), "/lgwan/v1/inquiries", "request_id").await;
    b["request_id"] = json!(new_id());
    b["card_serial"] = json!("XYZ!");
    field(b.clone(), "/lgwan/v1/inquiries", "card_serial").await;
    b["card_serial"] = json!("0A1B2C3D");
    b["certificate"] = json!("passport");
    field(b.clone(), "/lgwan/v1/inquiries", "certificate").await;
    b["certificate"] = json!("juminhyo");
    b["requested_at"] = json!("yesterday");
    field(b.clone(), "/lgwan/v1/inquiries", "requested_at").await;
    b["requested_at"] = json!(MORNING);
    b["kiosk"] = json!({"id": ""});
    field(b, "/lgwan/v1/inquiries", "kiosk").await;
    for copies in [0, 11] {
        field(
            issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), copies),
            "/lgwan/v1/issuances",
            "copies",
        )
        .await;
    }
    field(
        issuance(
            &new_id(),
            "0A1B2C3D",
            "juminhyo",
            json!({"household": 7}),
            1,
        ),
        "/lgwan/v1/issuances",
        "options.household",
    )
    .await;
    field(
        issuance(
            &new_id(),
            "0A1B2C3D",
            "juminhyo",
            json!({"colour": true}),
            1,
        ),
        "/lgwan/v1/issuances",
        "options",
    )
    .await;
    let (status, body) = s.raw("DELETE", "/lgwan/v1/issuances", ct, Vec::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    let (status, body) = s.raw("GET", "/lgwan/v2/nothing", ct, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(db.count("issuances").await, 0);
    // Still healthy, still issuing.
    let (status, _) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn audit_detects_altered_removed_and_inserted_rows(db: Db) {
    let s = Server::new(&db).await;
    for _ in 0..3 {
        let (status, _) = s
            .post(
                "/lgwan/v1/issuances",
                &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let clean = db.store.verify_audit().await.unwrap();
    assert!(clean.problems.is_empty(), "{:?}", clean.problems);
    assert_eq!(clean.entries, 3);
    assert_eq!(clean.rows, 9, "3 issuances, 3 copies, 3 fees");

    let first_problem = async |sql: &str| {
        db.tamper(sql).await;
        let v = db.store.verify_audit().await.unwrap();
        v.problems
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("{sql}: not detected"))
    };
    // Altering a fee.
    let p = first_problem(
        "UPDATE fees SET amount_yen = 0 WHERE fee_id = (SELECT MIN(fee_id) FROM fees)",
    )
    .await;
    assert!(
        matches!(p, AuditProblem::RowAltered { ref key, .. } if key.starts_with("fees/")),
        "{p:?}"
    );
    db.tamper("UPDATE fees SET amount_yen = 200").await; // put it back
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
    // Removing a copy's row.
    let p = first_problem("DELETE FROM issued_copies WHERE issue_number LIKE '% 000002'").await;
    assert!(
        matches!(p, AuditProblem::RowRemoved { ref key, seq: 2 } if key.starts_with("issued_copies/")),
        "{p:?}"
    );
    // Inserting a fee nobody recorded (a second row for the first issuance).
    let p = first_problem(
        "INSERT INTO fees SELECT 'forged', issuance_id, kind, channel, amount_yen, method, exemption, \
         receipt_no, staff, at FROM fees WHERE fee_id = (SELECT MIN(fee_id) FROM fees)",
    )
    .await;
    // The removal (entry 2) still comes first; the forged row is listed too.
    assert!(matches!(p, AuditProblem::RowRemoved { .. }), "{p:?}");
    let v = db.store.verify_audit().await.unwrap();
    assert!(
        v.problems
            .iter()
            .any(|p| matches!(p, AuditProblem::RowInserted { key } if key == "fees/forged")),
        "{:?}",
        v.problems
    );
    // Altering, then removing, audit entries.
    let p = first_problem("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1").await;
    assert_eq!(p, AuditProblem::AuditAltered { seq: 1 });
    db.tamper("DELETE FROM audit_log WHERE seq = 1").await;
    let v = db.store.verify_audit().await.unwrap();
    assert_eq!(
        v.problems[0],
        AuditProblem::AuditRemoved {
            first_missing: 1,
            seq: 2
        },
        "{:?}",
        v.problems
    );
}

async fn ledgers_refuse_update_and_delete(db: Db) {
    let s = Server::new(&db).await;
    let (status, _) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Chain the pending audit entries now (PostgreSQL's sealer waits a moment to batch
    // them), so that audit_log has rows to refuse changing.
    db.store.seal_audit().await.unwrap();
    for sql in [
        "UPDATE issuances SET subject_id = 'x'",
        "DELETE FROM issuances",
        "UPDATE issued_copies SET sha256 = 'x'",
        "DELETE FROM issued_copies",
        "UPDATE fees SET amount_yen = 0",
        "DELETE FROM fees",
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
    ] {
        let err = db.try_sql(sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// Counter API

/// The counter API over the database, called in-process, with a bearer token.
struct Counter {
    router: axum::Router,
}

/// A counter terminal with its own key, enrolled and registered on the server.
struct TestTerminal {
    name: String,
    key: kofu_app::terminal::TerminalKey,
}

impl TestTerminal {
    /// Enrols `name` at the console and registers a fresh key with its code through
    /// the counter API, as the app does.
    async fn registered(db: &Db, c: &Counter, name: &str) -> TestTerminal {
        let now = time::OffsetDateTime::now_utc();
        let enrolment = kofu_app::terminal::enrol_terminal(&db.store, name, "cli", now)
            .await
            .unwrap();
        let key = kofu_app::terminal::TerminalKey::generate().unwrap();
        let body = json!({"name": name, "code": enrolment.code, "public_key": key.public_hex()});
        let (status, answer) = c
            .call("POST", "/counter/v1/terminal/register", None, Some(&body))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["state"], "active", "{answer}");
        TestTerminal {
            name: name.to_owned(),
            key,
        }
    }
}

impl Counter {
    async fn new(db: &Db) -> Counter {
        Counter::with(db, OfficeSettings::default()).await
    }

    async fn with(db: &Db, settings: OfficeSettings) -> Counter {
        Counter {
            router: kofu_server::counter::router(office(db, settings).await),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.call_as(None, method, path, token, body).await
    }

    /// A request signed by `terminal` (the offline routes' door).
    async fn call_signed(
        &self,
        terminal: &TestTerminal,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        self.call_as(Some(terminal), method, path, Some(token), body)
            .await
    }

    async fn call_as(
        &self,
        terminal: Option<&TestTerminal>,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        if let Some(t) = terminal {
            let proof = t.key.sign(
                &t.name,
                method,
                path,
                token.unwrap_or_default(),
                bytes.as_deref().unwrap_or_default(),
                time::OffsetDateTime::now_utc(),
            );
            for (name, value) in kofu_server::door::proof_headers(&proof) {
                req = req.header(name, value);
            }
        }
        let req = match bytes {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 26)
            .await
            .unwrap();
        if bytes.is_empty() {
            return (status, Value::Null);
        }
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON ({status}): {}", String::from_utf8_lossy(&bytes)));
        (status, value)
    }

    /// Logs in with the password and the TOTP code of `step_offset` steps from now
    /// (a code is accepted once, so a second login in the same 30 s uses the next).
    async fn login(
        &self,
        staff: &Enrolled,
        password: &str,
        step_offset: i64,
    ) -> (StatusCode, Value) {
        self.login_with_code(staff, password, &staff.code(step_offset))
            .await
    }

    async fn login_with_code(
        &self,
        staff: &Enrolled,
        password: &str,
        code: &str,
    ) -> (StatusCode, Value) {
        let body = json!({"login": staff.login, "password": password, "totp": code});
        self.call("POST", "/counter/v1/login", None, Some(&body))
            .await
    }
}

const PASSWORD: &str = "correct horse battery staple";

struct Enrolled {
    login: String,
    secret: Vec<u8>,
}

impl Enrolled {
    fn code(&self, step_offset: i64) -> String {
        let step = kofu_app::staff::totp_step(time::OffsetDateTime::now_utc()) + step_offset;
        let code = kofu_app::staff::hotp(&self.secret, u64::try_from(step).unwrap(), 6).unwrap();
        format!("{code:06}")
    }
}

async fn enrol(db: &Db, login: &str, role: kofu_app::staff::Role) -> Enrolled {
    let e = kofu_app::staff::add_staff(
        &db.store,
        &kofu_app::staff::NewStaff {
            login: login.to_owned(),
            role,
            password: PASSWORD.to_owned(),
        },
        "test",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert!(
        e.otpauth_uri.starts_with(&format!(
            "otpauth://totp/kofu:{login}?secret={}",
            e.totp_secret
        )),
        "{}",
        e.otpauth_uri
    );
    Enrolled {
        login: login.to_owned(),
        secret: kofu_app::staff::base32_decode(&e.totp_secret).unwrap(),
    }
}

/// The audit entries of an action, as (actor, target, detail).
async fn audited(db: &Db, action: &str) -> Vec<(String, String, Value)> {
    db.store
        .audit_rows()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| (r.actor, r.target, serde_json::from_str(&r.detail).unwrap()))
        .collect()
}

async fn sessions_with(db: &Db, digest: &str) -> i64 {
    let rows = db
        .store
        .ledger_query(
            "SELECT COUNT(*) FROM staff_sessions WHERE token_sha256 = $1",
            &[kofu_store::Cell::Text(digest.to_owned())],
            &[true],
        )
        .await
        .unwrap();
    match rows[0][0] {
        kofu_store::Cell::Int(n) => n,
        _ => -1,
    }
}

async fn staff_add_refuses_duplicates_and_weak_passwords(db: Db) {
    use kofu_app::staff::{NewStaff, Role, add_staff};
    let now = time::OffsetDateTime::now_utc();
    let new = |login: &str, password: &str| NewStaff {
        login: login.to_owned(),
        role: Role::Clerk,
        password: password.to_owned(),
    };
    add_staff(&db.store, &new("sato", PASSWORD), "test", now)
        .await
        .unwrap();
    let dup = add_staff(
        &db.store,
        &new("sato", "another long password"),
        "test",
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(dup.code(), "duplicate_login", "{dup}");
    let weak = add_staff(&db.store, &new("suzuki", "elevenchars"), "test", now)
        .await
        .unwrap_err();
    assert_eq!(weak.code(), "weak_password", "{weak}");
    let bad = add_staff(&db.store, &new("Sato Taro", PASSWORD), "test", now)
        .await
        .unwrap_err();
    assert_eq!(bad.code(), "invalid_request", "{bad}");
    assert!(db.store.staff("suzuki").await.unwrap().is_none());
    let row = db.store.staff("sato").await.unwrap().unwrap();
    assert!(row.password_hash.starts_with("$argon2id$"));
    assert!(!row.password_hash.contains(PASSWORD));
    let adds = audited(&db, "staff.add").await;
    assert_eq!(adds.len(), 1, "only the account created is audited");
    assert_eq!(adds[0].1, "sato");
    assert_eq!(adds[0].2, json!({"role": "clerk"}));
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

/// A login no account can have, a password past its bound or an overlong code is bad
/// input: 400 naming the field, and nothing is written (no audit entry carrying it).
async fn counter_login_input_is_bounded_before_anything_is_written(db: Db) {
    enrol(&db, "tanaka", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let entries = db.count("audit_log").await;
    let long = "a".repeat(60_000);
    for (body, field) in [
        (
            json!({"login": long, "password": PASSWORD, "totp": "123456"}),
            "login",
        ),
        (
            json!({"login": "TANAKA; DROP", "password": PASSWORD, "totp": "123456"}),
            "login",
        ),
        (
            json!({"login": "tanaka", "password": long, "totp": "123456"}),
            "password",
        ),
        (
            json!({"login": "tanaka", "password": PASSWORD, "totp": long}),
            "totp",
        ),
    ] {
        let (status, err) = c.call("POST", "/counter/v1/login", None, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {err}");
        assert_eq!(err["error"]["code"], "invalid_request");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(field),
            "the message names {field}: {err}"
        );
    }
    assert_eq!(db.count("audit_log").await, entries, "nothing audited");
}

/// A day close's anchor (the chain's head it sealed), kept outside the database, tells
/// a chain rewritten at the anchored entry, or cut short before it, even when the
/// rest verifies.
async fn audit_anchors_tell_a_chain_cut_short_or_rewritten(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "mori", Role::Clerk).await;
    let boss = enrol(&db, "boss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let boss_token = logged_in(&c, &boss).await;
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, issued) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let close = format!("/counter/v1/days/{today}/close");
    let counted = json!({"counted_cash_yen": issued["fee_yen"]});
    let (status, sealed) = c
        .call("POST", &close, Some(&boss_token), Some(&counted))
        .await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    let anchors = db.store.audit_anchors().await.unwrap();
    assert_eq!(
        anchors,
        [kofu_store::AuditAnchor {
            day: today.to_string(),
            audit_head: sealed["audit_head"].as_str().unwrap().to_owned(),
        }]
    );
    assert!(db.store.missing_anchors(&anchors).await.unwrap().is_empty());
    let head = &anchors[0].audit_head;
    // Rewritten: the anchored entry's hash is no longer the one on paper (`g` is no
    // hex digit, so the hash surely changes).
    db.tamper(&format!(
        "UPDATE audit_log SET hash = 'g' || substr(hash, 2) WHERE hash = '{head}'"
    ))
    .await;
    assert_eq!(db.store.missing_anchors(&anchors).await.unwrap(), anchors);
    db.tamper(&format!(
        "UPDATE audit_log SET hash = '{head}' WHERE hash = 'g' || substr('{head}', 2)"
    ))
    .await;
    assert!(db.store.missing_anchors(&anchors).await.unwrap().is_empty());
    // Cut short: the anchored entry and everything after it removed.
    db.tamper(&format!(
        "DELETE FROM audit_log WHERE seq >= (SELECT seq FROM audit_log WHERE hash = '{head}')"
    ))
    .await;
    assert_eq!(db.store.missing_anchors(&anchors).await.unwrap(), anchors);
    // The same answer from the one read `kofu audit verify --anchors` makes.
    let (_, missing) = db.store.verify_audit_anchored(&anchors).await.unwrap();
    assert_eq!(missing, anchors);
}

/// Two identical outcome notices, or two voids of one issuance, sent at the same
/// instant to two servers on one database: one reversal each, never two.
async fn concurrent_duplicates_record_one_reversal(db: Db) {
    use kofu_app::staff::Role;
    let count =
        async |sql: &'static str| match db.store.ledger_query(sql, &[], &[true]).await.unwrap()[0]
            [0]
        {
            kofu_store::Cell::Int(n) => n,
            _ => -1,
        };
    let (a, b) = (Server::new(&db).await, Server::new(&db).await);
    let rounds = 8;
    for _ in 0..rounds {
        let id = new_id();
        let (status, body) = a
            .post(
                "/lgwan/v1/issuances",
                &issuance(&id, "0A1B2C3D", "juminhyo", json!({}), 1),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let notice = json!({"request_id": id, "issuance_id": body["issuance_id"],
            "outcome": "paper_jam", "pages_printed": 0, "fee_collected_yen": 0,
            "reported_at": "2026-05-07T10:16:02+09:00"});
        let ((s1, _), (s2, _)) = tokio::join!(
            a.post("/lgwan/v1/outcomes", &notice),
            b.post("/lgwan/v1/outcomes", &notice)
        );
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM fees WHERE amount_yen < 0").await,
        rounds,
        "one reversal per jammed issuance"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM issuance_events WHERE event = 'outcome'").await,
        rounds
    );

    let clerk = enrol(&db, "mori", Role::Clerk).await;
    let boss = enrol(&db, "boss", Role::Supervisor).await;
    let (c1, c2) = (Counter::new(&db).await, Counter::new(&db).await);
    let clerk_token = logged_in(&c1, &clerk).await;
    let boss_token = logged_in(&c1, &boss).await;
    for _ in 0..4 {
        let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
        let (status, issued) = c1
            .call(
                "POST",
                "/counter/v1/issuances",
                Some(&clerk_token),
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        let path = format!(
            "/counter/v1/issuances/{}/voids",
            issued["issuance_id"].as_str().unwrap()
        );
        let reason = json!({"reason": "誤交付"});
        let ((s1, _), (s2, _)) = tokio::join!(
            c1.call("POST", &path, Some(&boss_token), Some(&reason)),
            c2.call("POST", &path, Some(&boss_token), Some(&reason))
        );
        let mut statuses = [s1, s2];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "one void, one 'already voided'"
        );
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM issuance_events WHERE event = 'void'").await,
        4
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM fees WHERE amount_yen < 0").await,
        rounds + 4,
        "one reversal per void"
    );
}

/// Staff change their own password: only with the current one, never to a weak one;
/// the new one logs in, the old one no longer does, and the account's other sessions
/// end while this one goes on.
async fn counter_staff_change_their_own_password(db: Db) {
    let clerk = enrol(&db, "tanaka", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    // A second session of the same account (as on another terminal).
    let other = "5e".repeat(32);
    let mut tx = db.store.begin_ledger().await.unwrap();
    tx.start_session(
        &hex(&Sha256::digest(other.as_bytes())),
        "tanaka",
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .await
    .unwrap();
    tx.commit(kofu_store::AuditEntry {
        at: "2026-05-07T01:00:00.000000Z".into(),
        actor: "tanaka".into(),
        action: "staff.login".into(),
        target: "tanaka".into(),
        detail: "{}".into(),
    })
    .await
    .unwrap();
    let path = "/counter/v1/session/password";
    let new = "a new and long password 2026";
    for (body, status, code) in [
        (
            json!({"current_password": "not it at all!!", "new_password": new}),
            401,
            "invalid_credentials",
        ),
        (
            json!({"current_password": PASSWORD, "new_password": "short"}),
            400,
            "weak_password",
        ),
        (
            json!({"current_password": PASSWORD, "new_password": PASSWORD}),
            400,
            "invalid_request",
        ),
    ] {
        let (got, err) = c.call("POST", path, Some(&token), Some(&body)).await;
        assert_eq!(got.as_u16(), status, "{body}: {err}");
        assert_eq!(err["error"]["code"], code, "{body}: {err}");
    }
    let body = json!({"current_password": PASSWORD, "new_password": new});
    let (status, _) = c.call("POST", path, Some(&token), Some(&body)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .call("GET", "/counter/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "this session goes on");
    let (status, _) = c
        .call("GET", "/counter/v1/session", Some(&other), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the other session ended");
    let (status, _) = c.login(&clerk, PASSWORD, 1).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer logs in"
    );
    let (status, _) = c.login(&clerk, new, 1).await;
    assert_eq!(status, StatusCode::OK, "the new one does");
    let changed = audited(&db, "staff.password_changed").await;
    assert_eq!(changed.len(), 1);
    assert!(!changed[0].2.to_string().contains("new and long"));
}

/// Failed logins from one address, spread over accounts so that none locks, are free
/// ten times; then the address is answered 429 with `Retry-After` and nothing is
/// checked or audited, while another address is unaffected.
async fn counter_failed_logins_are_slowed_down_per_source(db: Db) {
    use axum::extract::ConnectInfo;
    enrol(&db, "tanaka", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let attempt = async |from: [u8; 4], login: &str| {
        let body = json!({"login": login, "password": "wrong password!!", "totp": "123456"});
        let mut req = Request::builder()
            .method("POST")
            .uri("/counter/v1/login")
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((from, 40000))));
        let resp = c.router.clone().oneshot(req).await.unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (resp.status(), retry)
    };
    let guesser = [192, 0, 2, 7];
    for i in 0..10 {
        // A different (unknown) login each time: no account gets near its lockout.
        let (status, _) = attempt(guesser, &format!("guess{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, _) = attempt(guesser, "tanaka").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the 11th is still checked"
    );
    let entries = db.count("audit_log").await;
    let (status, retry) = attempt(guesser, "tanaka").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&secs), "Retry-After {secs}");
    assert_eq!(
        db.count("audit_log").await,
        entries,
        "nothing checked or audited"
    );
    let (status, _) = attempt([192, 0, 2, 8], "tanaka").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another address is not slowed"
    );
}

/// Who may use each counter route, written out here independently of the server: the
/// matrix the route table must match. A route added to the server without a row here
/// fails the test, and so does a row whose door differs.
fn expected_doors() -> Vec<(&'static str, &'static str, kofu_server::door::Door)> {
    use kofu_app::staff::Action as A;
    use kofu_server::door::Door::{Open, Role, Staff, Terminal};
    vec![
        ("POST", "/counter/v1/login", Open),
        ("POST", "/counter/v1/terminal/register", Open),
        ("POST", "/counter/v1/staff/enrol", Open),
        (
            "GET",
            "/counter/v1/admin/terminals",
            Role(A::ManageSettings),
        ),
        (
            "POST",
            "/counter/v1/admin/terminals",
            Role(A::ManageSettings),
        ),
        (
            "POST",
            "/counter/v1/admin/terminals/{name}/revoke",
            Role(A::ManageSettings),
        ),
        ("POST", "/counter/v1/logout", Open),
        ("GET", "/counter/v1/health", Open),
        ("GET", "/counter/v1/session", Staff),
        ("POST", "/counter/v1/session/password", Staff),
        ("GET", "/counter/v1/options", Staff),
        ("GET", "/counter/v1/residents", Role(A::SearchResidents)),
        ("POST", "/counter/v1/issuances", Role(A::IssueCertificate)),
        ("GET", "/counter/v1/issuances", Role(A::IssueCertificate)),
        ("POST", "/counter/v1/previews", Role(A::PreviewCertificate)),
        (
            "POST",
            "/counter/v1/issuances/{id}/voids",
            Role(A::VoidIssuance),
        ),
        (
            "POST",
            "/counter/v1/issuances/{id}/print-outcomes",
            Role(A::IssueCertificate),
        ),
        ("GET", "/counter/v1/days/{day}", Role(A::CountCash)),
        ("POST", "/counter/v1/days/{day}/close", Role(A::SignOffDay)),
        ("GET", "/counter/v1/reports/{day}", Role(A::ViewReport)),
        ("GET", "/counter/v1/reports/{day}/pdf", Role(A::ViewReport)),
        ("GET", "/counter/v1/audit", Role(A::VerifyAudit)),
        ("GET", "/counter/v1/staff", Role(A::ManageStaff)),
        ("POST", "/counter/v1/staff", Role(A::ManageStaff)),
        (
            "POST",
            "/counter/v1/staff/{login}/unlock",
            Role(A::ManageStaff),
        ),
        (
            "POST",
            "/counter/v1/staff/{login}/deactivate",
            Role(A::ManageStaff),
        ),
        (
            "GET",
            "/counter/v1/offline/replica",
            Terminal(A::WorkOffline),
        ),
        ("POST", "/counter/v1/offline/kit", Terminal(A::WorkOffline)),
        ("POST", "/counter/v1/offline/sync", Terminal(A::WorkOffline)),
        ("GET", "/counter/v1/offline/review", Role(A::ReviewOffline)),
        (
            "POST",
            "/counter/v1/offline/flags/{id}/resolution",
            Role(A::ReviewOffline),
        ),
        ("GET", "/counter/v1/admin/settings", Role(A::ManageSettings)),
        (
            "POST",
            "/counter/v1/admin/settings/{setting}",
            Role(A::ManageSettings),
        ),
    ]
}

/// The counter's route table, walked row by row with no token and with every role:
/// no token is 401 and a role without the route's right is 403 (audited), both before
/// the body (here one that no route accepts) is read or parsed; a role with the right
/// gets past the door — on a terminal door only with the proof of an enrolled, active
/// terminal (a staff session alone is 401). Every row must match [`expected_doors`].
async fn every_counter_route_checks_its_door_before_its_body(db: Db) {
    use kofu_app::staff::{Role, allowed};
    use kofu_server::door::Door;
    let table: Vec<(String, &'static str, Door)> = kofu_server::counter::route_table()
        .into_iter()
        .map(|r| (r.method.as_str().to_owned(), r.path, r.door))
        .collect();
    let mut got: Vec<(&str, &str, Door)> =
        table.iter().map(|(m, p, d)| (m.as_str(), *p, *d)).collect();
    let mut expected = expected_doors();
    let key = |r: &(&str, &str, Door)| (r.1.to_owned(), r.0.to_owned());
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(
        got, expected,
        "the route table and the expected doors differ"
    );

    let c = Counter::new(&db).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let who = enrol(
            &db,
            &format!("door-{}", role.code().replace('_', "-")),
            role,
        )
        .await;
        tokens.push((role, logged_in(&c, &who).await));
    }
    let terminal = TestTerminal::registered(&db, &c, "本庁1").await;
    let revoked = TestTerminal::registered(&db, &c, "支所9").await;
    kofu_app::terminal::revoke_terminal(&db.store, "支所9", "cli", time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let bad_body = json!({"no_route_takes_this_field": true});
    let mut failures = Vec::new();
    for (method, route_path, door) in expected_doors() {
        if door == Door::Open {
            continue;
        }
        let path = route_path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{day}", "2026-05-07")
            .replace("{login}", "nobody")
            .replace("{name}", "nowhere")
            .replace("{setting}", "fees");
        let body = (method == "POST").then_some(&bad_body);
        let row = format!("{method} {route_path}");
        let (status, answer) = c.call(method, &path, None, body).await;
        if status != StatusCode::UNAUTHORIZED {
            failures.push(format!("{row}, no token: {status} {answer}"));
        }
        for (role, token) in &tokens {
            let may = match door {
                Door::Role(action) | Door::Terminal(action) => allowed(*role, action),
                _ => true,
            };
            let (status, answer) = c.call(method, &path, Some(token), body).await;
            let ok = match (may, door) {
                (true, Door::Terminal(_)) => {
                    status == StatusCode::UNAUTHORIZED
                        && answer["error"]["code"] == "terminal_unverified"
                }
                (true, _) => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                (false, _) => {
                    status == StatusCode::FORBIDDEN && answer["error"]["code"] == "forbidden"
                }
            };
            if !ok {
                failures.push(format!("{row}, {}: {status} {answer}", role.code()));
            }
            if let Door::Terminal(_) = door {
                // With the proof, a role with the right gets past; a signed request from
                // a revoked terminal, or to another path, does not.
                let (status, answer) = c.call_signed(&terminal, method, &path, token, body).await;
                let ok = if may {
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                } else {
                    status == StatusCode::FORBIDDEN && answer["error"]["code"] == "forbidden"
                };
                if !ok {
                    failures.push(format!("{row}, {} signed: {status} {answer}", role.code()));
                }
                let (status, answer) = c.call_signed(&revoked, method, &path, token, body).await;
                let ok = if may {
                    status == StatusCode::UNAUTHORIZED
                        && answer["error"]["message"]
                            .as_str()
                            .unwrap()
                            .contains("revoked")
                } else {
                    status == StatusCode::FORBIDDEN
                };
                if !ok {
                    failures.push(format!("{row}, {} revoked: {status} {answer}", role.code()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} door(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The largest body a route takes (the 32 MiB upload), and more, from nobody: the
    // door answers 401 without reading it (a read would have answered 413).
    let huge = Request::builder()
        .method("POST")
        .uri("/counter/v1/offline/sync")
        .header("content-type", "application/json")
        .body(Body::from(vec![b' '; 40 << 20]))
        .unwrap();
    let resp = c.router.clone().oneshot(huge).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Nor from a clerk's session alone: the terminal's proof is missing.
    let clerk = &tokens.iter().find(|(r, _)| *r == Role::Clerk).unwrap().1;
    let huge = Request::builder()
        .method("POST")
        .uri("/counter/v1/offline/sync")
        .header("authorization", format!("Bearer {clerk}"))
        .header("content-type", "application/json")
        .body(Body::from(vec![b' '; 40 << 20]))
        .unwrap();
    let resp = c.router.clone().oneshot(huge).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

/// An administrator enrols a terminal and gets a one-time code; the terminal registers
/// its own key with it (once: a used, wrong or expired code is refused the same way);
/// its signed requests get in, a staff session alone or another terminal's name in
/// the body does not; a revoked terminal is stopped at its next request; enrolled
/// again, it gets a new replica key.
async fn terminals_are_enrolled_register_their_own_key_and_are_revoked(db: Db) {
    use kofu_app::staff::Role;
    let admin = enrol(&db, "term-admin", Role::Admin).await;
    let clerk = enrol(&db, "term-clerk", Role::Clerk).await;
    let c = Counter::new(&db).await;
    let admin_token = logged_in(&c, &admin).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let (status, denied) = c
        .call(
            "POST",
            "/counter/v1/admin/terminals",
            Some(&clerk_token),
            Some(&json!({"name": "支所2"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a clerk enrols nothing: {denied}"
    );
    let (status, enrolment) = c
        .call(
            "POST",
            "/counter/v1/admin/terminals",
            Some(&admin_token),
            Some(&json!({"name": "支所2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let code = enrolment["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 19, "XXXX-XXXX-XXXX-XXXX: {code}");
    let key = kofu_app::terminal::TerminalKey::generate().unwrap();
    let register = |code: &str, public_key: &str| json!({"name": "支所2", "code": code, "public_key": public_key});
    let check_register = |body: Value, expected: StatusCode| {
        let c = &c;
        async move {
            let (status, answer) = c
                .call("POST", "/counter/v1/terminal/register", None, Some(&body))
                .await;
            assert_eq!(status, expected, "{body} → {answer}");
            answer
        }
    };
    let wrong = "AAAA-BBBB-CCCC-DDDD";
    let answer = check_register(register(wrong, &key.public_hex()), StatusCode::UNAUTHORIZED).await;
    assert_eq!(answer["error"]["code"], "terminal_unverified");
    check_register(register(&code, "00"), StatusCode::BAD_REQUEST).await;
    // Typed in lower case with spaces, as a person reads it out.
    let typed = code.to_lowercase().replace('-', " ");
    let answer = check_register(register(&typed, &key.public_hex()), StatusCode::OK).await;
    assert_eq!(answer["state"], "active");
    let other = kofu_app::terminal::TerminalKey::generate().unwrap();
    check_register(
        register(&code, &other.public_hex()),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let terminal = TestTerminal {
        name: "支所2".into(),
        key,
    };
    async fn kit_of(
        c: &Counter,
        token: &str,
        t: &TestTerminal,
        named: &str,
    ) -> (StatusCode, Value) {
        let body = json!({"terminal": named, "numbers_left": 0});
        c.call_signed(t, "POST", "/counter/v1/offline/kit", token, Some(&body))
            .await
    }
    let kit = |t, named| kit_of(&c, &clerk_token, t, named);
    let (status, first) = kit(&terminal, "支所2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, answer) = kit(&terminal, "本庁1").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another terminal's kit: {answer}"
    );
    let (status, answer) = c
        .call(
            "POST",
            "/counter/v1/offline/kit",
            Some(&clerk_token),
            Some(&json!({"terminal": "支所2", "numbers_left": 0})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a session alone: {answer}"
    );
    // A signature made for another body does not carry this one.
    let impostor = TestTerminal {
        name: "支所2".into(),
        key: other,
    };
    let (status, answer) = kit(&impostor, "支所2").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a key not registered: {answer}"
    );

    let (status, list) = c
        .call(
            "GET",
            "/counter/v1/admin/terminals",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["terminals"][0]["name"], "支所2");
    assert_eq!(list["terminals"][0]["state"], "active");
    assert!(
        !list.to_string().contains(&code),
        "the code is shown once: {list}"
    );
    let (status, revoked) = c
        .call(
            "POST",
            "/counter/v1/admin/terminals/支所2/revoke",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let (status, answer) = kit(&terminal, "支所2").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked: {answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{answer}"
    );

    // Enrolled again (a replaced machine): a new key, and a new replica key.
    let again = TestTerminal::registered(&db, &c, "支所2").await;
    let (status, second) = kit(&again, "支所2").await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(first["replica_key"], second["replica_key"]);
    let actions: Vec<String> = db
        .store
        .audit_rows_after(0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .filter(|a| a.starts_with("terminal."))
        .collect();
    assert_eq!(
        actions,
        [
            "terminal.enrol",
            "terminal.register",
            "terminal.revoke",
            "terminal.enrol",
            "terminal.register"
        ]
    );
}

/// A terminal gets a whole-registry snapshot a few times an hour, not more (429 with
/// Retry-After); another terminal is not held back by it.
async fn replica_snapshots_are_rate_limited_per_terminal(db: Db) {
    use kofu_app::offline::MAX_SNAPSHOTS_PER_HOUR;
    let clerk = enrol(&db, "snap-clerk", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let one = TestTerminal::registered(&db, &c, "本庁1").await;
    let two = TestTerminal::registered(&db, &c, "本庁2").await;
    let path = "/counter/v1/offline/replica";
    for i in 0..MAX_SNAPSHOTS_PER_HOUR {
        let (status, feed) = c.call_signed(&one, "GET", path, &token, None).await;
        assert_eq!(status, StatusCode::OK, "snapshot {i}: {feed}");
        assert_eq!(feed["snapshot"], true);
    }
    let req = |t: &TestTerminal| {
        let proof = t.key.sign(
            &t.name,
            "GET",
            path,
            &token,
            b"",
            time::OffsetDateTime::now_utc(),
        );
        let mut req = Request::builder()
            .method("GET")
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        for (name, value) in kofu_server::door::proof_headers(&proof) {
            req = req.header(name, value);
        }
        req.body(Body::empty()).unwrap()
    };
    let resp = c.router.clone().oneshot(req(&one)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry), "{retry}");
    let resp = c.router.clone().oneshot(req(&two)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "per terminal");
    // Catching up from the change log is not a snapshot, and stays open.
    let loads = db.store.feed_loads().await.unwrap();
    let (status, feed) = c
        .call_signed(
            &one,
            "GET",
            &format!("{path}?after=0&loads={loads}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["snapshot"], false);
}

/// A snapshot comes in pages of `limit` records, each table in key order: the pages
/// together are the whole snapshot, once each; a change made between two pages is
/// caught up from the change log afterwards, so the replica ends exact.
async fn replica_snapshots_are_paged_and_end_exact(db: Db) {
    let clerk = enrol(&db, "page-clerk", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let t = TestTerminal::registered(&db, &c, "本庁1").await;
    let path = "/counter/v1/offline/replica";
    let (status, whole) = c
        .call_signed(&t, "GET", &format!("{path}?limit=10000"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{whole}");
    assert_eq!(whole["more"], false);
    let mut expected: Vec<String> = whole["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() > 10, "{}", expected.len());

    let dir = tempfile::tempdir().unwrap();
    let replica = Store::open_encrypted(&dir.path().join("r.sqlite"), &[3u8; 32])
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut pages = 0;
    let mut next = format!("{path}?limit=4");
    loop {
        let (status, page) = c.call_signed(&t, "GET", &next, &token, None).await;
        assert_eq!(status, StatusCode::OK, "page {pages}: {page}");
        let lines = page["lines"].as_array().unwrap();
        assert!(lines.len() <= 4, "the limit is honoured: {}", lines.len());
        got.extend(lines.iter().map(|l| l.as_str().unwrap().to_owned()));
        assert_eq!(page["continued"], pages > 0);
        let feed: kofu_app::offline::ReplicaFeed = serde_json::from_value(page).unwrap();
        kofu_app::offline::apply_replica_feed(&replica, &feed, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        pages += 1;
        if pages == 2 {
            // The registry changes while the snapshot is being paged.
            let change = r#"{"type":"change","seq":1,"at":"2026-05-07T09:00:00+09:00","op":"upsert","record":{"type":"support_measure","resident_id":"00000000043","from":"2026-05-01","to":"2027-04-30"}}"#;
            kofu_app::import_feed(&db.store, std::io::Cursor::new(format!("{change}\n")))
                .await
                .unwrap();
        }
        match feed.cursor {
            Some(cursor) => {
                assert!(feed.more);
                assert_eq!(
                    replica.replica_loads().await.unwrap(),
                    None,
                    "not whole yet"
                );
                next = format!("{path}?cursor={cursor}&limit=4");
            }
            None => break,
        }
        assert!(pages < 1000, "the pages end");
    }
    assert!(pages > 3, "{pages} pages");
    // The change made between pages may or may not be in a later page; every record
    // of the first read is there once.
    got.sort();
    let dupes = got.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(dupes, 0, "no record twice");
    expected.sort();
    for line in &expected {
        assert!(
            got.binary_search(line).is_ok() || line.contains("support_measure"),
            "missing {line}"
        );
    }
    // Whole now: the replica is of this generation, and catching up from the first
    // page's position replays the change.
    let loads = replica.replica_loads().await.unwrap().unwrap();
    let seq = replica
        .feed_state()
        .await
        .unwrap()
        .map_or(0, |f| f.last_seq);
    assert_eq!(seq, 0, "the first page's position");
    let (status, feed) = c
        .call_signed(
            &t,
            "GET",
            &format!("{path}?after={seq}&loads={loads}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["snapshot"], false, "{feed}");
    let feed: kofu_app::offline::ReplicaFeed = serde_json::from_value(feed).unwrap();
    kofu_app::offline::apply_replica_feed(&replica, &feed, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(replica.feed_state().await.unwrap().unwrap().last_seq, 1);
    let (mine, theirs) = (
        replica.stats().await.unwrap(),
        db.store.stats().await.unwrap(),
    );
    assert_eq!(
        (
            mine.support_measures,
            mine.residents,
            mine.koseki,
            mine.fuhyo,
            mine.tax
        ),
        (
            theirs.support_measures,
            theirs.residents,
            theirs.koseki,
            theirs.fuhyo,
            theirs.tax
        ),
        "the replica ends as the server"
    );
    // A forged cursor is refused by name.
    let (status, err) = c
        .call_signed(&t, "GET", &format!("{path}?cursor=zz"), &token, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("cursor"),
        "{err}"
    );
}

/// A replica holds no 個人番号 by default; `offline_my_number` (`kofu serve
/// --offline-my-number`) lets it, and then a terminal can issue a 住民票 with it offline.
async fn replicas_carry_my_number_only_when_the_administrator_allows(db: Db) {
    for allowed in [false, true] {
        let clerk = enrol(
            &db,
            &format!("mn-clerk-{allowed}"),
            kofu_app::staff::Role::Clerk,
        )
        .await;
        let c = Counter::with(
            &db,
            OfficeSettings {
                offline_my_number: allowed,
                ..OfficeSettings::default()
            },
        )
        .await;
        let token = logged_in(&c, &clerk).await;
        let t = TestTerminal::registered(&db, &c, "本庁1").await;
        let (status, feed) = c
            .call_signed(&t, "GET", "/counter/v1/offline/replica", &token, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{feed}");
        let carries = feed["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("\"my_number\""));
        assert_eq!(carries, allowed, "allowed: {allowed}");
    }
}

/// A supervisor finds an issuance by the 発行番号 on the paper, the receipt number, the
/// resident or the day, and voids it from there: no internal ID is typed.
async fn issuances_are_found_by_number_receipt_resident_and_day(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "find-clerk", Role::Clerk).await;
    let boss = enrol(&db, "find-boss", Role::Supervisor).await;
    let admin = enrol(&db, "find-admin", Role::Admin).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let mut issued = Vec::new();
    for (resident, copies) in [("00000000019", 2), ("00000000043", 1)] {
        let (status, answer) = c
            .call(
                "POST",
                "/counter/v1/issuances",
                Some(&token),
                Some(&counter_issue_body(
                    resident,
                    json!({"type": "person"}),
                    copies,
                )),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        issued.push(answer);
    }
    let find = |query: String| {
        let (c, token) = (&c, token.clone());
        async move {
            c.call(
                "GET",
                &format!("/counter/v1/issuances?{query}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let second_copy = issued[0]["documents"][1]["issue_number"].as_str().unwrap();
    let today = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc()).0;
    for (query, expected) in [
        (format!("number={}", enc(second_copy)), vec![0]),
        (
            format!("receipt={}", enc(issued[1]["receipt_no"].as_str().unwrap())),
            vec![1],
        ),
        ("resident=00000000019".to_owned(), vec![0]),
        (format!("from={today}&to={today}"), vec![1, 0]),
        (format!("from={today}&resident=00000000043"), vec![1]),
        ("resident=00000000099".to_owned(), vec![]),
        (format!("to={}", today.previous_day().unwrap()), vec![]),
    ] {
        let (status, answer) = find(query.clone()).await;
        assert_eq!(status, StatusCode::OK, "{query}: {answer}");
        let got: Vec<&str> = answer["issuances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["issuance_id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = expected
            .iter()
            .map(|i: &usize| issued[*i]["issuance_id"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{query}");
    }
    let (status, answer) = find(String::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no criterion: {answer}");
    let (status, answer) = find("from=2026-13-01".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let admin_token = logged_in(&c, &admin).await;
    let (status, _) = c
        .call(
            "GET",
            "/counter/v1/issuances?resident=00000000019",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an administrator looks up no resident's issuances"
    );

    // Found by the number on the paper, voided from there.
    let boss_token = logged_in(&c, &boss).await;
    let (_, answer) = c
        .call(
            "GET",
            &format!("/counter/v1/issuances?number={}", enc(second_copy)),
            Some(&boss_token),
            None,
        )
        .await;
    let found = &answer["issuances"][0];
    assert_eq!(found["voided"], false);
    assert_eq!(found["issue_numbers"].as_array().unwrap().len(), 2);
    assert_eq!(found["staff"], "find-clerk");
    let id = found["issuance_id"].as_str().unwrap();
    let (status, answer) = c
        .call(
            "POST",
            &format!("/counter/v1/issuances/{id}/voids"),
            Some(&boss_token),
            Some(&json!({"reason": "記載誤り"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, answer) = find(format!("number={}", enc(second_copy))).await;
    assert_eq!(answer["issuances"][0]["voided"], true, "{answer}");
    // Every answered search is on record (the refused ones as refusals).
    assert_eq!(audited(&db, "counter.find_issuances").await.len(), 9);
}

/// The terminal reports each print job; a copy that did not reach the printer is on
/// the supervisor's day report with its 発行番号 and why.
async fn print_outcomes_reach_the_supervisor(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "print-clerk", Role::Clerk).await;
    let boss = enrol(&db, "print-boss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let (status, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&token),
            Some(&counter_issue_body(
                "00000000019",
                json!({"type": "person"}),
                2,
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let id = issued["issuance_id"].as_str().unwrap();
    let path = format!("/counter/v1/issuances/{id}/print-outcomes");
    let report = |body: Value| {
        let (c, path, token) = (&c, path.clone(), token.clone());
        async move { c.call("POST", &path, Some(&token), Some(&body)).await }
    };
    for (body, expected) in [
        (
            json!({"copy": 1, "outcome": "printed", "queue": "kofu-test", "job": "kofu-test-41"}),
            StatusCode::NO_CONTENT,
        ),
        (
            json!({"copy": 2, "outcome": "failed", "detail": "lp: 用紙切れ"}),
            StatusCode::NO_CONTENT,
        ),
        (
            json!({"copy": 3, "outcome": "printed"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"copy": 1, "outcome": "maybe"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, answer) = report(body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, answer) = c
        .call(
            "POST",
            "/counter/v1/issuances/00000000-0000-4000-8000-000000000000/print-outcomes",
            Some(&token),
            Some(&json!({"copy": 1, "outcome": "printed"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let boss_token = logged_in(&c, &boss).await;
    let day = todays_report(&c, &boss_token).await;
    let failures = day["print_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{day}");
    assert_eq!(failures[0]["copy"], 2);
    assert_eq!(failures[0]["staff"], "print-clerk");
    assert_eq!(failures[0]["detail"], "lp: 用紙切れ");
    assert_eq!(
        failures[0]["issue_number"], issued["documents"][1]["issue_number"],
        "{day}"
    );
    assert_eq!(audited(&db, "counter.print_outcome").await.len(), 2);
}

/// A character no font has (a 外字 not yet registered) stops a counter request with
/// `missing_glyph` naming the field and the character, issues nothing, and is listed
/// for the supervisor on the day's report, for the preview and the issuance alike.
async fn counter_render_failures_are_named_to_the_clerk_and_reviewed(db: Db) {
    use kofu_app::staff::Role;
    let feed = std::fs::read_to_string(feed("kiosk-town.jsonl")).unwrap();
    let mut taro: Value = feed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["type"] == "resident" && r["resident_id"] == "00000000019")
        .unwrap();
    taro["given"] = json!("\u{845B}\u{E01EF}郎");
    protected::change(&db, 1, "upsert", &taro).await;
    let clerk = enrol(&db, "abe", Role::Clerk).await;
    let boss = enrol(&db, "boss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    for path in ["/counter/v1/previews", "/counter/v1/issuances"] {
        let (status, err) = c.call("POST", path, Some(&token), Some(&body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {err}");
        assert_eq!(err["error"]["code"], "missing_glyph", "{path}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains("U+845B U+E01EF"), "{path}: {err}");
        assert!(
            err["error"]["detail"].as_str().unwrap().contains("name"),
            "the field is named: {err}"
        );
    }
    assert_eq!(db.count("issuances").await, 0, "nothing issued");
    let boss_token = logged_in(&c, &boss).await;
    let report = todays_report(&c, &boss_token).await;
    let alerts = report["render_alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{report}");
    for a in alerts {
        assert_eq!(a["code"], "missing_glyph");
        assert_eq!(a["staff"], "abe");
        assert_eq!(a["subject_id"], "00000000019");
    }
}

async fn counter_login_starts_a_session_and_logout_ends_it(db: Db) {
    let clerk = enrol(&db, "tanaka", kofu_app::staff::Role::Clerk).await;
    let c = Counter::new(&db).await;
    let (status, body) = c.login(&clerk, "wrong password!!", 0).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
    // One code for both attempts: the replay below must not depend on whether
    // a 30-second step boundary passes in between.
    let code = clerk.code(0);
    let (status, body) = c.login_with_code(&clerk, PASSWORD, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["staff"], json!({"login": "tanaka", "role": "clerk"}));
    assert_eq!(body["expires_idle_secs"], 900);
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    // Only the token's digest is stored.
    assert_eq!(sessions_with(&db, &token).await, 0);
    assert_eq!(
        sessions_with(&db, &hex(&Sha256::digest(token.as_bytes()))).await,
        1
    );
    // The same code again is a replay.
    let (status, body) = c.login_with_code(&clerk, PASSWORD, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, body) = c
        .call("GET", "/counter/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["staff"]["login"], "tanaka");
    for bad in [None, Some("0123"), Some(&token[1..])] {
        let (status, body) = c.call("GET", "/counter/v1/session", bad, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let (status, _) = c
        .call("POST", "/counter/v1/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c
        .call("GET", "/counter/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let logins = audited(&db, "staff.login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].0, "tanaka");
    let failed = audited(&db, "staff.login_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0].2["reason"], "password");
    assert_eq!(failed[1].2["reason"], "totp");
    assert_eq!(audited(&db, "staff.logout").await.len(), 1);
    let (status, body) = c
        .call(
            "POST",
            "/counter/v1/login",
            None,
            Some(&json!({"login": "nobody", "password": PASSWORD, "totp": "000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        audited(&db, "staff.login_failed").await[2].2["reason"],
        "unknown_login"
    );
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

/// A counter whose accounts need not wait between failed logins (the lockout's own
/// tests; the wait has its own).
async fn counter_without_login_backoff(db: &Db) -> Counter {
    Counter::with(
        db,
        OfficeSettings {
            login_backoff: Duration::ZERO,
            ..OfficeSettings::default()
        },
    )
    .await
}

async fn counter_locks_an_account_after_five_failures(db: Db) {
    let clerk = enrol(&db, "yamada", kofu_app::staff::Role::Clerk).await;
    let c = counter_without_login_backoff(&db).await;
    for attempt in 1..=5 {
        let (status, body) = c.login(&clerk, "not the password", 0).await;
        let expected = if attempt < 5 {
            "invalid_credentials"
        } else {
            "account_locked"
        };
        assert_eq!(
            body["error"]["code"], expected,
            "attempt {attempt}: {status} {body}"
        );
    }
    // Locked: the right password and code no longer open it.
    let (status, body) = c.login(&clerk, PASSWORD, 0).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "account_locked");
    let failed = audited(&db, "staff.login_failed").await;
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[4].2["locked"], true);
    assert_eq!(failed[3].2["locked"], false);
    let refused = audited(&db, "staff.login_refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].2["reason"], "locked");
    assert!(audited(&db, "staff.login").await.is_empty());
}

/// From the second failure in a row, an account's next attempt waits (429 with
/// Retry-After), whatever the source, and the wait is neither checked nor recorded.
async fn counter_slows_down_repeated_failures_on_one_account(db: Db) {
    let clerk = enrol(&db, "suzuki", kofu_app::staff::Role::Clerk).await;
    let c = Counter::with(
        &db,
        OfficeSettings {
            login_backoff: Duration::from_secs(60),
            ..OfficeSettings::default()
        },
    )
    .await;
    for _ in 0..2 {
        let (status, body) = c.login(&clerk, "not the password", 0).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let req = Request::builder()
        .method("POST")
        .uri("/counter/v1/login")
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::to_vec(
                &json!({"login": "suzuki", "password": PASSWORD, "totp": clerk.code(0)}),
            )
            .unwrap(),
        ))
        .unwrap();
    let resp = c.router.clone().oneshot(req).await.unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((55..=60).contains(&retry), "{retry}");
    let failed = audited(&db, "staff.login_failed").await;
    assert_eq!(failed.len(), 2, "the wait is not a failure: {failed:?}");
    let row = db.store.staff("suzuki").await.unwrap().unwrap();
    assert_eq!(row.failed_attempts, 2, "nor counted");
}

async fn counter_successful_login_resets_the_failure_count(db: Db) {
    let clerk = enrol(&db, "kato", kofu_app::staff::Role::Clerk).await;
    let c = counter_without_login_backoff(&db).await;
    for _ in 0..4 {
        c.login(&clerk, "not the password", 0).await;
    }
    let (status, body) = c.login(&clerk, PASSWORD, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        db.store
            .staff("kato")
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
    for _ in 0..4 {
        c.login(&clerk, "not the password", 0).await;
    }
    let (status, body) = c.login(&clerk, PASSWORD, 1).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "four failures after a reset do not lock: {body}"
    );
}

async fn counter_sessions_expire_when_idle(db: Db) {
    let clerk = enrol(&db, "ito", kofu_app::staff::Role::Clerk).await;
    let c = Counter::with(
        &db,
        OfficeSettings {
            session_idle: Duration::from_secs(1),
            ..OfficeSettings::default()
        },
    )
    .await;
    let (_, body) = c.login(&clerk, PASSWORD, 0).await;
    assert_eq!(body["expires_idle_secs"], 1);
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, _) = c
        .call("GET", "/counter/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = c
        .call("GET", "/counter/v1/session", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "session_expired");

    // However busy, a session ends its lifetime after login.
    let busy = enrol(&db, "busy", kofu_app::staff::Role::Clerk).await;
    let c = Counter::with(
        &db,
        OfficeSettings {
            session_max: Duration::from_secs(2),
            ..OfficeSettings::default()
        },
    )
    .await;
    let token = logged_in(&c, &busy).await;
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        let (status, _) = c
            .call("GET", "/counter/v1/session", Some(&token), None)
            .await;
        last = status;
        if status != StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        last,
        StatusCode::UNAUTHORIZED,
        "used every half second, yet ended"
    );
}

fn counter_issue_body(resident: &str, applicant: Value, copies: u32) -> Value {
    json!({"request_id": uuid::Uuid::new_v4().to_string(),
           "applicant": applicant, "identity": {"photo": ["運転免許証"]},
           "certificate": "juminhyo", "subject": {"resident_id": resident},
           "copies": copies, "terminal": "本庁1", "printer": "P001", "payment": "cash"})
}

/// Today's day report (local date), as the supervisor `token` reads it.
async fn todays_report(c: &Counter, token: &str) -> Value {
    let today = time::OffsetDateTime::now_utc()
        .to_offset(kofu_domain::date::JST)
        .date();
    let (status, report) = c
        .call(
            "GET",
            &format!("/counter/v1/reports/{today}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

async fn logged_in(c: &Counter, who: &Enrolled) -> String {
    let (status, body) = c.login(who, PASSWORD, 0).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn counter_issues_numbered_copies_with_fee_and_receipt(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "mori", Role::Clerk).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 2);
    let (status, issued) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["fee_yen"], 600);
    let docs = issued["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    let numbers: Vec<&str> = docs
        .iter()
        .map(|d| d["issue_number"].as_str().unwrap())
        .collect();
    assert_ne!(numbers[0], numbers[1], "each copy has its own number");
    for (d, n) in docs.iter().zip(&numbers) {
        assert!(n.contains("見本市 本庁1 P001"), "{n}");
        let pdf = pdf_of(d);
        assert_eq!(d["sha256"], hex(&Sha256::digest(&pdf)));
        assert!(pdf_text(&pdf).contains("見本"), "the PDF is the resident's");
    }
    let id = issued["issuance_id"].as_str().unwrap();
    let receipt = issued["receipt_no"].as_str().unwrap();
    assert!(receipt.contains("本庁1"), "{receipt}");
    let rows = db
        .store
        .ledger_query(
            "SELECT channel, point, staff, applicant, subject_id, copies FROM issuances \
             WHERE issuance_id = $1",
            &[kofu_store::Cell::Text(id.to_owned())],
            &[false, false, false, false, false, true],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&rows[0]).unwrap(),
        json!([
            "counter",
            "本庁1/P001",
            "mori",
            "{\"type\":\"person\"}",
            "00000000019",
            2
        ])
    );
    let fees = db
        .store
        .ledger_query(
            "SELECT amount_yen, method, receipt_no, staff FROM fees WHERE issuance_id = $1",
            &[kofu_store::Cell::Text(id.to_owned())],
            &[true, false, false, false],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&fees).unwrap(),
        json!([[600, "cash", receipt, "mori"]])
    );

    // 公用: no fee, the exemption recorded.
    let official = counter_issue_body(
        "00000000019",
        json!({"type": "official", "office": "見本県警察本部 刑事訴訟法第197条"}),
        1,
    );
    let (status, free) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&token),
            Some(&official),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{free}");
    assert_eq!(free["fee_yen"], 0);
    assert!(free["exemption"].as_str().unwrap().contains("公用"));
    assert!(
        free["documents"][0]["issue_number"].as_str().unwrap() > numbers[1],
        "the serial goes on per terminal and printer"
    );

    // Not enough identity documents, and a third party without a purpose.
    let mut weak = body.clone();
    weak["request_id"] = json!(uuid::Uuid::new_v4().to_string());
    weak["identity"] = json!({"non_photo": ["健康保険証"]});
    let (status, err) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&weak))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let mut two = weak.clone();
    two["identity"] = json!({"non_photo": ["健康保険証", "年金手帳"]});
    let (status, ok) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&two))
        .await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    let third = counter_issue_body(
        "00000000019",
        json!({"type": "third_party", "purpose": ""}),
        1,
    );
    let (status, err) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&third))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(audited(&db, "counter.issue").await.len(), 3);
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn counter_support_measure_is_overridden_only_by_the_support_officer(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "abe", Role::Clerk).await;
    let officer = enrol(&db, "shien", Role::SupportOfficer).await;
    let c = Counter::new(&db).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let officer_token = logged_in(&c, &officer).await;
    let body = counter_issue_body("00000000035", json!({"type": "person"}), 1);
    let (status, err) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["error"]["code"], "support_measure");
    let mut overriding = body.clone();
    overriding["override_reason"] = json!("本人確認済み、支援措置申出者本人からの請求");
    let (status, err) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&overriding),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["error"]["code"], "forbidden");
    let (status, err) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&officer_token),
            Some(&body),
        )
        .await;
    assert_eq!(
        err["error"]["code"], "support_measure",
        "no reason, no override: {status}"
    );
    let (status, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&officer_token),
            Some(&overriding),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let overrides = audited(&db, "counter.issue_override").await;
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].0, "shien");
    assert_eq!(
        overrides[0].2["override_reason"],
        overriding["override_reason"]
    );
    assert!(audited(&db, "counter.issue").await.is_empty());
}

async fn counter_preview_numbers_nothing_and_void_reverses_the_fee(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "ueda", Role::Clerk).await;
    let boss = enrol(&db, "boss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let before = (
        db.count("issuances").await,
        db.count("number_serials").await,
    );
    let (status, shown) = c
        .call("POST", "/counter/v1/previews", Some(&token), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["documents"].as_array().unwrap().len(), 1);
    assert!(!pdf_of(&shown["documents"][0]).is_empty());
    assert_eq!(
        (
            db.count("issuances").await,
            db.count("number_serials").await
        ),
        before
    );
    assert_eq!(audited(&db, "counter.view").await.len(), 1);

    let (_, issued) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&body))
        .await;
    let id = issued["issuance_id"].as_str().unwrap().to_owned();
    let path = format!("/counter/v1/issuances/{id}/voids");
    let reason = json!({"reason": "印刷不良のため再発行"});
    let (status, err) = c.call("POST", &path, Some(&token), Some(&reason)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a clerk may not void: {err}");
    let boss_token = logged_in(&c, &boss).await;
    let (status, body) = c
        .call("POST", &path, Some(&boss_token), Some(&reason))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, again) = c
        .call("POST", &path, Some(&boss_token), Some(&reason))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "voided twice: {again}");
    let fees = db
        .store
        .ledger_query(
            "SELECT amount_yen FROM fees WHERE issuance_id = $1 ORDER BY amount_yen",
            &[kofu_store::Cell::Text(id.clone())],
            &[true],
        )
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&fees).unwrap(), json!([[-300], [300]]));
    let voids = db
        .store
        .ledger_query(
            "SELECT event, staff FROM issuance_events WHERE issuance_id = $1",
            &[kofu_store::Cell::Text(id.clone())],
            &[false, false],
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&voids).unwrap(),
        json!([["void", "boss"]])
    );
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/issuances/no-such/voids",
            Some(&boss_token),
            Some(&reason),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

fn by_id<'a>(hits: &'a Value, id: &str) -> &'a Value {
    hits["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["resident_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {hits}"))
}

async fn counter_search_flags_residents_and_is_audited(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "kimura", Role::Clerk).await;
    let admin = enrol(&db, "admin1", Role::Admin).await;
    let c = Counter::new(&db).await;
    let (_, body) = c.login(&clerk, PASSWORD, 0).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let search = |query: &str| format!("/counter/v1/residents?{query}");

    let (status, hits) = c
        .call("GET", &search("birth_date=1980-04-01"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    let ids: Vec<&str> = hits["residents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["resident_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["00000000019", "00000000078", "00000000086", "00000000094"]
    );
    let taro = by_id(&hits, "00000000019");
    assert_eq!(taro["name"], "見本 太郎");
    assert_eq!(
        taro["flags"],
        json!({"support_measure": false, "suppression": false, "moved_out": false, "deceased": false})
    );
    assert_eq!(by_id(&hits, "00000000078")["flags"]["moved_out"], true);
    assert_eq!(by_id(&hits, "00000000086")["flags"]["suppression"], true);

    // Kana typed, percent-encoded: ツジ (a support measure), シボウ (deceased, with a
    // household suppression).
    let (_, hits) = c
        .call(
            "GET",
            &search("name=%E3%83%84%E3%82%B8"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        by_id(&hits, "00000000035")["flags"]["support_measure"],
        true
    );
    let (_, hits) = c
        .call(
            "GET",
            &search("name=%E3%82%B7%E3%83%9C%E3%82%A6"),
            Some(&token),
            None,
        )
        .await;
    let shibou = by_id(&hits, "00000000051");
    assert_eq!(shibou["flags"]["deceased"], true);
    assert_eq!(shibou["flags"]["suppression"], true);

    let (status, body) = c.call("GET", &search(""), Some(&token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");
    let (status, body) = c
        .call("GET", &search("birth_date=1980-13-01"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Birth dates as clerks type them, 和暦 included (percent-encoded as the app sends).
    for typed in [
        "S55.4.1",
        "s55%2F4%2F1",
        "%E6%98%AD%E5%92%8C55%E5%B9%B44%E6%9C%881%E6%97%A5",
    ] {
        let (status, hits) = c
            .call(
                "GET",
                &search(&format!("birth_date={typed}")),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{typed}: {hits}");
        assert_eq!(
            hits["residents"].as_array().unwrap().len(),
            4,
            "{typed}: {hits}"
        );
    }
    let (status, body) = c
        .call("GET", &search("birth_date=H31.5.1"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("平成 ended on 2019-04-30"),
        "{body}"
    );
    let (status, body) = c.call("GET", &search("name=x"), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // The admin manages accounts and may not look residents up.
    let (_, body) = c.login(&admin, PASSWORD, 0).await;
    let admin_token = body["token"].as_str().unwrap().to_owned();
    let (status, body) = c
        .call(
            "GET",
            &search("birth_date=1980-04-01"),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");

    let searches = audited(&db, "counter.search").await;
    assert_eq!(searches.len(), 6, "answered searches only: {searches:?}");
    assert!(searches.iter().all(|(actor, _, _)| actor == "kimura"));
    assert_eq!(searches[0].2["query"]["birth_date"], "1980-04-01");
    // The 和暦 searches are recorded as the date they meant.
    for s in &searches[3..] {
        assert_eq!(s.2["query"]["birth_date"], "1980-04-01", "{s:?}");
    }
    let mut found: Vec<&str> = searches[0].2["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    found.sort_unstable();
    assert_eq!(found, sorted);
    assert_eq!(searches[1].2["query"]["name"], "ツジ");
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());

    // A support measure on a member of 太郎's household (27, in H0001) flags 太郎 too;
    // a resident of another household stays unflagged.
    let change = r#"{"type":"change","seq":1,"at":"2026-05-07T09:00:00+09:00","op":"upsert","record":{"type":"support_measure","resident_id":"00000000027","from":"2026-05-01","to":"2027-04-30"}}"#;
    kofu_app::import_feed(&db.store, std::io::Cursor::new(format!("{change}\n")))
        .await
        .unwrap();
    let (status, hits) = c
        .call("GET", &search("birth_date=1980-04-01"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert_eq!(
        by_id(&hits, "00000000019")["flags"]["support_measure"],
        true
    );
    assert_eq!(
        by_id(&hits, "00000000086")["flags"],
        json!({"support_measure": false, "suppression": true, "moved_out": false, "deceased": false})
    );
}

// ---------------------------------------------------------------------------------------
// Mutual TLS

struct Pki {
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
    ca_pem: String,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pki {
            ca_pem: cert.pem(),
            ca: rcgen::Issuer::new(params, key),
        }
    }

    /// A leaf certificate and key (PEM) for `name`.
    fn leaf(&self, name: &str) -> (String, String) {
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// Asks for the health endpoint over TLS, with an optional client certificate.
async fn tls_health(
    addr: std::net::SocketAddr,
    server_ca: &str,
    client: Option<&(String, String)>,
) -> Result<String, String> {
    tls_get(addr, server_ca, client, "/lgwan/v1/health").await
}

/// A `GET` over TLS (trusting `server_ca`, with a client certificate if given): the
/// raw answer, or why the connection failed.
async fn tls_get(
    addr: std::net::SocketAddr,
    server_ca: &str,
    client: Option<&(String, String)>,
    path: &str,
) -> Result<String, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(server_ca.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_refuses_clients_without_a_relay_center_certificate() {
    let db = open(false).await.unwrap();
    let relay = Pki::new("relay-center CA");
    let town = Pki::new("town CA");
    let stranger = Pki::new("another CA");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = town.leaf("localhost");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let files = kofu_server::serve::TlsFiles {
        cert: write("server.pem", &cert),
        key: write("server.key", &key),
        relay_ca: write("relay-ca.pem", &relay.ca_pem),
    };
    let config = kofu_server::serve::mtls_config(&files).unwrap();
    let listener = kofu_server::serve::Listener::bind(
        "127.0.0.1:0".parse().unwrap(),
        kofu_server::serve::Security::Mtls(Arc::new(config)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = kofu_server::lgwan::router(office(&db, OfficeSettings::default()).await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(listener.serve(router, async {
        let _ = stopped.await;
    }));

    let ok = tls_health(addr, &town.ca_pem, Some(&relay.leaf("relay-center")))
        .await
        .unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains(r#"{"status":"ok"}"#), "{ok}");
    let none = tls_health(addr, &town.ca_pem, None).await;
    assert!(none.is_err(), "no client certificate was let in: {none:?}");
    let other = tls_health(addr, &town.ca_pem, Some(&stranger.leaf("relay-center"))).await;
    assert!(
        other.is_err(),
        "a certificate of another CA was let in: {other:?}"
    );
    // Still serving the relay center.
    let again = tls_health(addr, &town.ca_pem, Some(&relay.leaf("relay-center")))
        .await
        .unwrap();
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_api_is_served_over_tls_without_client_certificates() {
    let db = open(false).await.unwrap();
    let town = Pki::new("town CA");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = town.leaf("localhost");
    let (cert_path, key_path) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let config = kofu_server::serve::tls_config(&cert_path, &key_path).unwrap();
    let listener = kofu_server::serve::Listener::bind(
        "127.0.0.1:0".parse().unwrap(),
        kofu_server::serve::Security::Tls(Arc::new(config)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = kofu_server::counter::router(office(&db, OfficeSettings::default()).await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(listener.serve(router, async {
        let _ = stopped.await;
    }));
    // A clerk's terminal has no client certificate: the counter API answers it
    // (here: no session yet).
    let answer = tls_get(addr, &town.ca_pem, None, "/counter/v1/session")
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("unauthenticated"), "{answer}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /counter/v1/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut raw)).await;
    assert!(!raw.starts_with(b"HTTP/1.1 "), "plain HTTP was answered");
    // A server certificate from another CA is refused by the terminal.
    let stranger = Pki::new("another CA");
    assert!(
        tls_get(addr, &stranger.ca_pem, None, "/counter/v1/session")
            .await
            .is_err()
    );
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[test]
fn plain_http_only_on_loopback() {
    let err = kofu_server::serve::Listener::bind(
        "0.0.0.0:0".parse().unwrap(),
        kofu_server::serve::Security::InsecureLoopback,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(
        kofu_server::serve::Listener::bind(
            "127.0.0.1:0".parse().unwrap(),
            kofu_server::serve::Security::InsecureLoopback
        )
        .is_ok()
    );
}

async fn counter_day_close_counts_cash_by_method_and_seals_the_day(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "nakamura", Role::Clerk).await;
    let boss = enrol(&db, "kacho", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let boss_token = logged_in(&c, &boss).await;
    let issue = |applicant: Value, copies: u32, payment: &str| {
        let mut b = counter_issue_body("00000000019", applicant, copies);
        b["payment"] = json!(payment);
        b
    };
    let mut ids = Vec::new();
    for body in [
        issue(json!({"type": "person"}), 1, "cash"),
        issue(json!({"type": "person"}), 2, "cash"),
        issue(json!({"type": "person"}), 1, "cashless"),
        issue(
            json!({"type": "official", "office": "見本税務署"}),
            1,
            "cash",
        ),
    ] {
        let (status, issued) = c
            .call("POST", "/counter/v1/issuances", Some(&token), Some(&body))
            .await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        ids.push(issued["issuance_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = c
        .call(
            "POST",
            &format!("/counter/v1/issuances/{}/voids", ids[0]),
            Some(&boss_token),
            Some(&json!({"reason": "記載誤り"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let path = format!("/counter/v1/days/{today}");
    let (status, day) = c.call("GET", &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(
        day["expected"],
        json!({"cash_yen": 600, "cashless_yen": 300, "exempt": 1, "issuances": 4, "voids": 1})
    );
    let close = format!("{path}/close");
    let counted = json!({"counted_cash_yen": 500});
    let (status, err) = c.call("POST", &close, Some(&token), Some(&counted)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a clerk may not sign off: {err}"
    );
    let head = db
        .store
        .audit_rows()
        .await
        .unwrap()
        .last()
        .unwrap()
        .hash
        .clone();
    let (status, sealed) = c
        .call("POST", &close, Some(&boss_token), Some(&counted))
        .await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    assert_eq!(sealed["difference_yen"], -100);
    assert_eq!(sealed["totals"]["cash_yen"], 600);
    assert_eq!(sealed["audit_head"], head.as_str());
    let (status, again) = c
        .call("POST", &close, Some(&boss_token), Some(&counted))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["code"], "day_closed");
    let closes = audited(&db, "counter.day_close").await;
    assert_eq!(closes.len(), 1);
    assert_eq!(closes[0].0, "kacho");
    let verdict = db.store.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);
    db.tamper("UPDATE day_closes SET counted_cash_yen = 600")
        .await;
    let verdict = db.store.verify_audit().await.unwrap();
    assert!(
        matches!(&verdict.problems[..], [AuditProblem::RowAltered { key, .. }] if key.starts_with("day_closes/")),
        "{:?}",
        verdict.problems
    );
}

async fn counter_retry_answers_the_same_issuance(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "retry", Role::Clerk).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let mut body = counter_issue_body("00000000019", json!({"type": "person"}), 2);
    body["options"] = json!({"household": "all", "show_relationship": true});
    let post = |b: Value| {
        let (c, token) = (&c, token.clone());
        async move {
            c.call("POST", "/counter/v1/issuances", Some(&token), Some(&b))
                .await
        }
    };
    let (status, first) = post(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["replayed"], false);
    let counts = (
        db.count("issuances").await,
        db.count("issued_copies").await,
        db.count("fees").await,
        db.count("number_serials").await,
    );
    // The answer was lost; the terminal sends the same request again.
    let (status, again) = post(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["replayed"], true);
    for field in [
        "issuance_id",
        "receipt_no",
        "fee_yen",
        "exemption",
        "warnings",
    ] {
        assert_eq!(again[field], first[field], "{field}");
    }
    assert_eq!(
        again["documents"], first["documents"],
        "the same numbers and the very same PDF bytes"
    );
    assert_eq!(
        (
            db.count("issuances").await,
            db.count("issued_copies").await,
            db.count("fees").await,
            db.count("number_serials").await,
        ),
        counts,
        "nothing numbered or charged twice"
    );
    assert_eq!(audited(&db, "counter.issue").await.len(), 1);
    // The ledger keeps the request as data, not as debug text.
    let items = db
        .store
        .ledger_query(
            "SELECT items FROM issuances WHERE issuance_id = $1",
            &[kofu_store::Cell::Text(
                first["issuance_id"].as_str().unwrap().to_owned(),
            )],
            &[false],
        )
        .await
        .unwrap();
    let kofu_store::Cell::Text(items) = &items[0][0] else {
        panic!("items is text: {items:?}")
    };
    let items: Value = serde_json::from_str(items).unwrap();
    assert_eq!(items["options"]["household"], "all");
    assert_eq!(items["options"]["show_relationship"], true);
    assert_eq!(items["subject"], json!({"resident": "00000000019"}));
    assert_eq!(items["identity"]["photo"], json!(["運転免許証"]));

    // The same key with another request is refused, and so is no key at all.
    let mut other = body.clone();
    other["copies"] = json!(1);
    let (status, err) = post(other).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "request_id_reused");
    for bad in [json!(null), json!("short"), json!("has space 123")] {
        let mut b = body.clone();
        b["request_id"] = bad.clone();
        if bad.is_null() {
            b.as_object_mut().unwrap().remove("request_id");
        }
        let (status, err) = post(b).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
        assert_eq!(err["error"]["code"], "invalid_request", "{bad}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("request_id"),
            "{bad}: {err}"
        );
    }
    assert_eq!(db.count("issuances").await, counts.0);

    // Twins sent at once: one issuance, both answered with it.
    let twin = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (a, b) = tokio::join!(post(twin.clone()), post(twin));
    assert_eq!(
        (a.0, b.0),
        (StatusCode::OK, StatusCode::OK),
        "{} {}",
        a.1,
        b.1
    );
    assert_eq!(a.1["issuance_id"], b.1["issuance_id"]);
    assert_eq!(a.1["documents"], b.1["documents"]);
    assert_eq!(db.count("issuances").await, counts.0 + 1);
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn counter_closed_day_takes_no_issuance_or_void(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "heiten", Role::Clerk).await;
    let boss = enrol(&db, "kakaricho", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let boss_token = logged_in(&c, &boss).await;
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, issued) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let tomorrow = today.next_day().unwrap();
    let (status, err) = c
        .call(
            "POST",
            &format!("/counter/v1/days/{tomorrow}/close"),
            Some(&boss_token),
            Some(&json!({"counted_cash_yen": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a day not begun: {err}");
    let (status, sealed) = c
        .call(
            "POST",
            &format!("/counter/v1/days/{today}/close"),
            Some(&boss_token),
            Some(&json!({"counted_cash_yen": 300})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    let before = (db.count("issuances").await, db.count("fees").await);
    let late = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, err) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&late))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "day_closed");
    let id = issued["issuance_id"].as_str().unwrap();
    let (status, err) = c
        .call(
            "POST",
            &format!("/counter/v1/issuances/{id}/voids"),
            Some(&boss_token),
            Some(&json!({"reason": "締め後の取消"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "day_closed");
    assert_eq!(
        (db.count("issuances").await, db.count("fees").await),
        before,
        "the sealed totals stay true"
    );
}

async fn counter_denied_actions_are_audited(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "nozoki", Role::Clerk).await;
    let admin = enrol(&db, "kanri", Role::Admin).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let admin_token = logged_in(&c, &admin).await;
    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let (status, err) = c
        .call(
            "GET",
            &format!("/counter/v1/reports/{today}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, err) = c
        .call(
            "GET",
            "/counter/v1/residents?name=%E8%A6%8B%E6%9C%AC",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an administrator looks nobody up: {err}"
    );
    let denied = audited(&db, "access.denied").await;
    let seen: Vec<(String, Value)> = denied
        .into_iter()
        .map(|(actor, _, detail)| (actor, detail))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "nozoki".to_owned(),
                json!({"action": "view_report", "role": "clerk"})
            ),
            (
                "kanri".to_owned(),
                json!({"action": "search_residents", "role": "admin"})
            ),
        ]
    );
    let boss = enrol(&db, "mikata", Role::Supervisor).await;
    let boss_token = logged_in(&c, &boss).await;
    let (status, report) = c
        .call(
            "GET",
            &format!("/counter/v1/reports/{today}"),
            Some(&boss_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let denied: Vec<&Value> = report["access_anomalies"]["denied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["staff"])
        .collect();
    assert_eq!(denied, [&json!("nozoki"), &json!("kanri")]);
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn counter_audit_verify_answers_the_verdict_to_supervisor_and_admin(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "madoguchi", Role::Clerk).await;
    let officer = enrol(&db, "shien", Role::SupportOfficer).await;
    let boss = enrol(&db, "kakaricho", Role::Supervisor).await;
    let admin = enrol(&db, "kanri", Role::Admin).await;
    let c = Counter::new(&db).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&counter_issue_body(
                "00000000019",
                json!({"type": "person"}),
                1,
            )),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // (who, the answer's status): the matrix's `verify audit` row.
    for (who, expected) in [
        (&clerk, StatusCode::FORBIDDEN),
        (&officer, StatusCode::FORBIDDEN),
        (&boss, StatusCode::OK),
        (&admin, StatusCode::OK),
    ] {
        let token = if who.login == clerk.login {
            clerk_token.clone()
        } else {
            logged_in(&c, who).await
        };
        let before = db.store.verify_audit().await.unwrap();
        let (status, body) = c.call("GET", "/counter/v1/audit", Some(&token), None).await;
        assert_eq!(status, expected, "{}: {body}", who.login);
        if expected == StatusCode::OK {
            // Exactly what `kofu audit verify` prints, taken before this read's entry.
            assert_eq!(
                body,
                serde_json::to_value(&before).unwrap(),
                "{}",
                who.login
            );
            assert_eq!(body["problems"], json!([]));
        } else {
            assert_eq!(body["error"]["code"], "forbidden");
        }
    }
    let (status, body) = c.call("GET", "/counter/v1/audit", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let reads = audited(&db, "counter.audit_verify").await;
    let actors: Vec<&str> = reads.iter().map(|(actor, _, _)| actor.as_str()).collect();
    assert_eq!(actors, ["kakaricho", "kanri"]);
    assert_eq!(reads[0].2["problems"], 0);
    let denied = audited(&db, "access.denied").await;
    assert!(
        denied.iter().all(|(_, _, d)| d["action"] == "verify_audit"),
        "{denied:?}"
    );
    assert_eq!(denied.len(), 2);

    // A tampered fee is named in the answer.
    db.tamper("UPDATE fees SET amount_yen = 0").await;
    // A second login of the supervisor: the next step's code (a code is good once).
    let (status, body) = c.login(&boss, PASSWORD, 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, body) = c.call("GET", "/counter/v1/audit", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["problems"][0]["problem"], "row_altered", "{body}");
    assert!(
        body["problems"][0]["key"]
            .as_str()
            .unwrap()
            .starts_with("fees/"),
        "{body}"
    );
}

async fn counter_admin_manages_staff_accounts(db: Db) {
    use kofu_app::staff::Role;
    let admin = enrol(&db, "jinji", Role::Admin).await;
    let clerk = enrol(&db, "madoguchi", Role::Clerk).await;
    let c = counter_without_login_backoff(&db).await;
    let admin_token = logged_in(&c, &admin).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let (status, _) = c
        .call("GET", "/counter/v1/staff", Some(&clerk_token), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The administrator invites; the member of staff sets their own password and gets
    // their own TOTP secret at first login. The administrator never knows either.
    let with_password = json!({"login": "shinjin", "role": "clerk", "password": PASSWORD});
    let (status, refused) = c
        .call(
            "POST",
            "/counter/v1/staff",
            Some(&admin_token),
            Some(&with_password),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{refused}"
    );
    let new = json!({"login": "shinjin", "role": "clerk"});
    let (status, invited) = c
        .call("POST", "/counter/v1/staff", Some(&admin_token), Some(&new))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert!(invited.get("totp_secret").is_none(), "{invited}");
    let code = invited["enrolment_code"].as_str().unwrap().to_owned();
    let (_, list) = c
        .call("GET", "/counter/v1/staff", Some(&admin_token), None)
        .await;
    let pending = |list: &Value| {
        list["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["login"] == "shinjin")
            .unwrap()["pending"]
            .clone()
    };
    assert_eq!(pending(&list), true);
    // Not yet enrolled: no password opens it.
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/login",
            None,
            Some(&json!({"login": "shinjin", "password": "", "totp": "000000"})),
        )
        .await;
    assert_ne!(status, StatusCode::OK);
    let enrol = |code: &str, password: &str| json!({"login": "shinjin", "enrolment_code": code, "password": password});
    for (body, expected, error) in [
        (
            enrol("AAAA-BBBB-CCCC-DDDD", PASSWORD),
            StatusCode::UNAUTHORIZED,
            "enrolment_refused",
        ),
        (
            enrol(&code, "short"),
            StatusCode::BAD_REQUEST,
            "weak_password",
        ),
    ] {
        let (status, answer) = c
            .call("POST", "/counter/v1/staff/enrol", None, Some(&body))
            .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (expected, Some(error)),
            "{answer}"
        );
    }
    let (status, enrolled) = c
        .call(
            "POST",
            "/counter/v1/staff/enrol",
            None,
            Some(&enrol(&code.to_lowercase(), PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    let shinjin = Enrolled {
        login: "shinjin".into(),
        secret: kofu_app::staff::base32_decode(enrolled["totp_secret"].as_str().unwrap()).unwrap(),
    };
    let (status, again) = c
        .call(
            "POST",
            "/counter/v1/staff/enrol",
            None,
            Some(&enrol(&code, "another long password")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the code is used once: {again}"
    );
    let (_, list) = c
        .call("GET", "/counter/v1/staff", Some(&admin_token), None)
        .await;
    assert_eq!(pending(&list), false);
    let (status, again) = c
        .call("POST", "/counter/v1/staff", Some(&admin_token), Some(&new))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let mut bad_role = new.clone();
    bad_role["login"] = json!("other");
    bad_role["role"] = json!("mayor");
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/staff",
            Some(&admin_token),
            Some(&bad_role),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Locked by five failures, unlocked by the administrator.
    for _ in 0..5 {
        c.login(&shinjin, "not the password", 0).await;
    }
    let (status, list) = c
        .call("GET", "/counter/v1/staff", Some(&admin_token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let row = list["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["login"] == "shinjin")
        .unwrap();
    assert_eq!(row["locked"], true);
    assert!(row.get("password_hash").is_none() && row.get("totp_secret").is_none());
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/staff/shinjin/unlock",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c.login(&shinjin, PASSWORD, 0).await;
    assert_eq!(status, StatusCode::OK, "unlocked: {body}");
    let shinjin_token = body["token"].as_str().unwrap().to_owned();

    // Closing the account ends its session at once and refuses further logins.
    let deactivate = "/counter/v1/staff/shinjin/deactivate";
    let (status, _) = c
        .call(
            "POST",
            deactivate,
            Some(&admin_token),
            Some(&json!({"reason": " "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a reason is needed");
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/staff/jinji/deactivate",
            Some(&admin_token),
            Some(&json!({"reason": "異動"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not one's own account");
    let (status, _) = c
        .call(
            "POST",
            deactivate,
            Some(&admin_token),
            Some(&json!({"reason": "退職"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c
        .call("GET", "/counter/v1/session", Some(&shinjin_token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = c.login(&shinjin, PASSWORD, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "account_disabled");
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/staff/nobody/unlock",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let actions: Vec<(String, String, String)> = db
        .store
        .audit_rows()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action.starts_with("staff.") && r.actor == "jinji")
        .map(|r| (r.action, r.target, r.detail))
        .filter(|(a, _, _)| a != "staff.login")
        .map(|(a, t, d)| {
            // The invitation's expiry is an instant: compared by its role only.
            if a == "staff.invite" {
                let d: Value = serde_json::from_str(&d).unwrap();
                (a, t, json!({"role": d["role"]}).to_string())
            } else {
                (a, t, d)
            }
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            (
                "staff.invite".into(),
                "shinjin".into(),
                r#"{"role":"clerk"}"#.into()
            ),
            (
                "staff.unlock".into(),
                "shinjin".into(),
                r#"{"failed_attempts":5}"#.into()
            ),
            (
                "staff.deactivate".into(),
                "shinjin".into(),
                r#"{"reason":"退職"}"#.into()
            ),
        ]
    );
    // The enrolment is the new member's own act, and a refused one is on record too.
    let own: Vec<String> = db
        .store
        .audit_rows()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.actor == "shinjin" && r.action.starts_with("staff.enrol"))
        .map(|r| r.action)
        .collect();
    assert_eq!(
        own,
        [
            "staff.enrol_refused",
            "staff.enrolled",
            "staff.enrol_refused"
        ]
    );
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

async fn counter_report_surfaces_overrides_voids_and_kiosk_problems(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "okada", Role::Clerk).await;
    let officer = enrol(&db, "shien2", Role::SupportOfficer).await;
    let boss = enrol(&db, "bucho", Role::Supervisor).await;
    let settings = OfficeSettings {
        outcome_window: Duration::ZERO,
        ..OfficeSettings::default()
    };
    let c = Counter::with(&db, settings.clone()).await;
    let kiosk = Server::with(&db, settings).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let officer_token = logged_in(&c, &officer).await;
    let boss_token = logged_in(&c, &boss).await;

    let (_, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&counter_issue_body(
                "00000000019",
                json!({"type": "person"}),
                2,
            )),
        )
        .await;
    let voided = issued["issuance_id"].as_str().unwrap().to_owned();
    c.call(
        "POST",
        &format!("/counter/v1/issuances/{voided}/voids"),
        Some(&boss_token),
        Some(&json!({"reason": "交付前に誤りを発見"})),
    )
    .await;
    let mut overriding = counter_issue_body("00000000035", json!({"type": "person"}), 1);
    overriding["override_reason"] = json!("申出者本人");
    let (status, _) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&officer_token),
            Some(&overriding),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Two kiosk issuances: one jams, one never reports.
    let jam_id = new_id();
    let (status, jammed) = kiosk
        .post(
            "/lgwan/v1/issuances",
            &issuance(&jam_id, "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{jammed}");
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, _) = kiosk
        .post(
            "/lgwan/v1/outcomes",
            &json!({"request_id": jam_id, "issuance_id": jammed["issuance_id"],
                    "outcome": "paper_jam", "pages_printed": 0, "fee_collected_yen": 0,
                    "reported_at": now}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, silent) = kiosk
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;

    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let path = format!("/counter/v1/reports/{today}");
    let (status, err) = c.call("GET", &path, Some(&clerk_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, r) = c.call("GET", &path, Some(&boss_token), None).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["by_kind"], json!({"juminhyo": 4}));
    assert_eq!(r["by_channel"], json!({"counter": 2, "kiosk": 2}));
    assert_eq!(r["by_staff"], json!({"okada": 1, "shien2": 1}));
    assert_eq!(r["copies"], 5);
    assert_eq!(
        r["by_hour"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        4
    );
    assert_eq!(r["voids"].as_array().unwrap().len(), 1);
    assert_eq!(r["voids"][0]["issuance_id"], voided.as_str());
    assert_eq!(r["voids"][0]["staff"], "bucho");
    assert_eq!(r["overrides"].as_array().unwrap().len(), 1);
    assert_eq!(r["overrides"][0]["staff"], "shien2");
    assert_eq!(r["overrides"][0]["reason"], "申出者本人");
    assert_eq!(
        r["kiosk_failures"],
        json!([{"issuance_id": jammed["issuance_id"], "outcome": "paper_jam",
                "at": r["kiosk_failures"][0]["at"]}])
    );
    let pending = r["kiosk_without_outcome"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["issuance_id"], silent["issuance_id"]);
    assert_eq!(audited(&db, "counter.report").await.len(), 1);
}

/// Text without whitespace: pdftotext spaces table cells by their position.
fn squashed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

async fn counter_report_pdf_in_japanese_and_english(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "okada", Role::Clerk).await;
    let boss = enrol(&db, "bucho", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let boss_token = logged_in(&c, &boss).await;
    // Three counter issuances of 住民票 (four copies); one is voided.
    let mut voided = String::new();
    for (resident, copies) in [("00000000019", 2), ("00000000019", 1), ("00000000019", 1)] {
        let (status, issued) = c
            .call(
                "POST",
                "/counter/v1/issuances",
                Some(&clerk_token),
                Some(&counter_issue_body(
                    resident,
                    json!({"type": "person"}),
                    copies,
                )),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        voided = issued["issuance_id"].as_str().unwrap().to_owned();
    }
    let (status, err) = c
        .call(
            "POST",
            &format!("/counter/v1/issuances/{voided}/voids"),
            Some(&boss_token),
            Some(&json!({"reason": "交付前に誤りを発見"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{err}");

    let (today, _) = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc());
    let path = format!("/counter/v1/reports/{today}/pdf");
    let (status, err) = c.call("GET", &path, Some(&clerk_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(err["error"]["code"], "forbidden");
    for bad in ["?lang=xx", "?lang=", "?format=pdf"] {
        let (status, err) = c
            .call("GET", &format!("{path}{bad}"), Some(&boss_token), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {err}");
        assert_eq!(err["error"]["code"], "invalid_request", "{bad}");
    }

    let mut answers = Vec::new();
    for (query, title, labels) in [
        (
            "",
            format!("交付日報{today}"),
            ["交付件数3", "交付通数4", "住民票", "窓口"],
        ),
        (
            "?lang=ja",
            format!("交付日報{today}"),
            ["交付件数3", "交付通数4", "住民票", "窓口"],
        ),
        (
            "?lang=en",
            format!("Dailyissuancereport{today}"),
            ["Issuances3", "Copiesissued4", "Residence", "Counter"],
        ),
    ] {
        let (status, r) = c
            .call("GET", &format!("{path}{query}"), Some(&boss_token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {r}");
        assert_eq!(r["filename"], format!("kofu-report-{today}.pdf"));
        let pdf = pdf_of(&r);
        assert!(pdf.starts_with(b"%PDF-"), "{query}");
        assert_eq!(r["sha256"], hex(&Sha256::digest(&pdf)), "{query}");
        let text = pdf_text(&pdf);
        let pages = text.matches('\u{c}').count();
        assert_eq!(r["pages"], pages, "{query}: pages");
        let text = squashed(&text);
        assert!(text.contains(&title), "{query}: no {title} in {text}");
        for label in labels {
            assert!(text.contains(label), "{query}: no {label} in {text}");
        }
        // The lists: the void with its staff and reason, the clerk's count.
        assert!(
            text.contains(&voided) && text.contains("交付前に誤りを発見"),
            "{text}"
        );
        assert!(text.contains("okada3"), "{text}");
        answers.push(r);
    }
    assert!(!squashed(&pdf_text(&pdf_of(&answers[2]))).contains("交付日報"));
    let exports = audited(&db, "counter.report_pdf").await;
    assert_eq!(exports.len(), 3, "{exports:?}");
    for ((actor, target, detail), (answer, lang)) in
        exports.iter().zip(answers.iter().zip(["ja", "ja", "en"]))
    {
        assert_eq!(
            (actor.as_str(), target.as_str()),
            ("bucho", today.to_string().as_str())
        );
        assert_eq!(detail["lang"], lang);
        assert_eq!(detail["sha256"], answer["sha256"]);
        assert_eq!(detail["pages"], answer["pages"]);
    }
    // The refused export is on record too.
    assert!(
        audited(&db, "access.denied")
            .await
            .iter()
            .any(|(actor, _, d)| actor == "okada" && d["action"] == "view_report"),
    );

    // The close report carries the audit chain's head the close sealed: the anchor a
    // town keeps outside the database (`kofu audit anchors` prints the same).
    assert!(
        squashed(&pdf_text(&pdf_of(&answers[0]))).contains("この日はまだ締められていません。"),
        "an open day says so"
    );
    let (status, closed) = c
        .call(
            "POST",
            &format!("/counter/v1/days/{today}/close"),
            Some(&boss_token),
            Some(&json!({"counted_cash_yen": 1200})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let head = closed["audit_head"].as_str().unwrap().to_owned();
    assert_eq!(head.len(), 64, "{closed}");
    let (_, r) = c.call("GET", &path, Some(&boss_token), None).await;
    let text = squashed(&pdf_text(&pdf_of(&r)));
    assert!(
        text.contains(&head)
            && text.contains("監査チェーンの先頭ハッシュ")
            && text.contains("bucho"),
        "{text}"
    );
    let (_, report) = c
        .call(
            "GET",
            &format!("/counter/v1/reports/{today}"),
            Some(&boss_token),
            None,
        )
        .await;
    assert_eq!(report["close"]["audit_head"], head.as_str(), "{report}");
    let anchors = db.store.audit_anchors().await.unwrap();
    assert!(anchors.iter().any(|a| a.audit_head == head), "{anchors:?}");
}

// ---------------------------------------------------------------------------------------
// Supervisor review of the kiosk path

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failed_and_missing_outcomes_reach_review() {
    failed_and_missing_outcomes_reach_review(open(false).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failed_and_missing_outcomes_reach_review() {
    match open(true).await {
        Some(db) => failed_and_missing_outcomes_reach_review(db).await,
        None => eprintln!("KOFU_SKIP_PG=1: PostgreSQL half skipped"),
    }
}

async fn failed_and_missing_outcomes_reach_review(db: Db) {
    let office = office(&db, OfficeSettings::default()).await;
    let s = Server {
        router: kofu_server::lgwan::router(office.clone()),
    };
    let mut issued = Vec::new();
    for _ in 0..3 {
        let id = new_id();
        let (status, body) = s
            .post(
                "/lgwan/v1/issuances",
                &issuance(&id, "0A1B2C3D", "juminhyo", json!({}), 1),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", body["error"]);
        issued.push((id, body["issuance_id"].as_str().unwrap().to_owned()));
    }
    for ((rid, iid), outcome) in issued.iter().zip(["printed", "paper_jam"]) {
        let (status, _) = s
            .post(
                "/lgwan/v1/outcomes",
                &json!({"request_id": rid, "issuance_id": iid, "outcome": outcome, "pages_printed": 1,
                        "fee_collected_yen": 200, "reported_at": "2026-05-07T10:16:02+09:00"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let now = time::OffsetDateTime::now_utc();
    // Within the window nothing is missing yet; the jam is a failure at once.
    let review = office.kiosk_review(now).await.unwrap();
    assert!(review.missing_outcome.is_empty(), "{review:?}");
    assert_eq!(review.failed.len(), 1, "{review:?}");
    assert_eq!(review.failed[0].issuance_id, issued[1].1);
    assert!(
        review.failed[0]
            .outcome
            .as_deref()
            .unwrap()
            .contains("paper_jam")
    );
    assert_eq!(office.flag_missing_outcomes(now).await.unwrap(), 0);
    // Past the window, the third issuance is missing its outcome: flagged once.
    let later = now + Duration::from_secs(11 * 60);
    let review = office.kiosk_review(later).await.unwrap();
    let missing: Vec<&str> = review
        .missing_outcome
        .iter()
        .map(|i| i.issuance_id.as_str())
        .collect();
    assert_eq!(missing, [issued[2].1.as_str()]);
    assert_eq!(office.flag_missing_outcomes(later).await.unwrap(), 1);
    assert_eq!(
        office.flag_missing_outcomes(later).await.unwrap(),
        0,
        "flagged once only"
    );
    // Flagged, not closed: it stays in the review until an outcome arrives.
    assert_eq!(
        office
            .kiosk_review(later)
            .await
            .unwrap()
            .missing_outcome
            .len(),
        1
    );
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: the server's role may only append to the ledgers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_server_role_may_only_append_to_ledgers() {
    let Some(db) = open(true).await else {
        eprintln!("KOFU_SKIP_PG=1: PostgreSQL half skipped");
        return;
    };
    // Built-in roles are refused, naming the role: the server gets a role of its own.
    for builtin in [
        "public",
        "PUBLIC",
        "pg_read_all_data",
        "postgres",
        "current_user",
    ] {
        let e = db.store.grant_server_role(builtin).await.unwrap_err();
        assert!(e.to_string().contains(builtin), "{builtin}: {e}");
    }
    let role = unique("kofu_server");
    db.try_sql(&format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap();
    db.store.grant_server_role(&role).await.unwrap();
    let as_role = db.raw_url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(as_role, db.raw_url);
    let store = Store::open(&as_role).await.unwrap();
    let restricted = Db {
        store,
        raw_url: as_role,
        postgres: true,
        _dir: None,
    };
    // The server works as that role…
    let s = Server::new(&restricted).await;
    let (status, body) = s
        .post(
            "/lgwan/v1/issuances",
            &issuance(&new_id(), "0A1B2C3D", "juminhyo", json!({}), 1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", body["error"]);
    // …and cannot change or remove a ledger row, even with the triggers out of the way.
    for sql in [
        "UPDATE issuances SET subject_id = 'x'",
        "DELETE FROM fees",
        "TRUNCATE audit_log",
        "UPDATE audit_log SET actor = 'x'",
        "UPDATE audit_pending SET actor = 'x'",
        "TRUNCATE audit_pending",
        "ALTER TABLE fees DISABLE TRIGGER ALL",
    ] {
        let err = restricted.try_sql(sql).await.expect_err(sql);
        assert!(
            err.contains("permission denied") || err.contains("must be owner"),
            "{sql}: {err}"
        );
    }
    assert!(
        restricted
            .store
            .verify_audit()
            .await
            .unwrap()
            .problems
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Offline operation: a terminal's replica, offline issuance, the upload

/// A counter terminal working offline: its encrypted replica behind its own router.
struct OfflineTerminal {
    /// Its identity on the server.
    id: TestTerminal,
    store: Store,
    router: Counter,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Brings up a terminal replica of the server `c` as `token`'s staff member: the
/// snapshot, the offline kit, an office over the replica with the offline bounds.
async fn offline_terminal(
    db: &Db,
    c: &Counter,
    token: &str,
    limits: kofu_app::offline::OfflineLimits,
) -> OfflineTerminal {
    let id = TestTerminal::registered(db, c, "本庁1").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replica.sqlite");
    let store = Store::open_encrypted(&path, &[7u8; 32]).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let (status, feed) = c
        .call_signed(&id, "GET", "/counter/v1/offline/replica", token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["snapshot"], true, "a new replica loads a snapshot");
    let feed: kofu_app::offline::ReplicaFeed = serde_json::from_value(feed).unwrap();
    assert!(
        !feed
            .lines
            .iter()
            .any(|l| l.starts_with(r#"{"type":"card""#)),
        "cards serve only kiosks: a counter replica holds none"
    );
    assert!(
        feed.lines
            .iter()
            .any(|l| l.contains(r#""type":"resident""#)),
        "the replica holds the residents"
    );
    assert!(
        !feed.lines.iter().any(|l| l.contains("my_number")),
        "no 個人番号 leaves the server in a replica"
    );
    kofu_app::offline::apply_replica_feed(&store, &feed, now)
        .await
        .unwrap();
    let body = json!({"terminal": "本庁1", "numbers_left": 0});
    let (status, kit) = c
        .call_signed(&id, "POST", "/counter/v1/offline/kit", token, Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{kit}");
    let kit: kofu_app::offline::OfflineKit = serde_json::from_value(kit).unwrap();
    let range = kit.range.unwrap();
    assert!(
        range.first > kofu_app::offline::OFFLINE_SERIAL_BASE,
        "{range:?}"
    );
    kofu_app::offline::install_kit(&store, &kit, now)
        .await
        .unwrap();
    let settings = OfficeSettings {
        offline: Some(kofu_app::offline::OfflineTerminal {
            terminal: "本庁1".into(),
            limits,
        }),
        ..OfficeSettings::default()
    };
    let office = Office::new(store.clone(), fonts(), settings, "terminal")
        .await
        .unwrap();
    OfflineTerminal {
        id,
        store,
        router: Counter {
            router: kofu_server::counter::router(office),
        },
        path,
        _dir: dir,
    }
}

async fn offline_terminal_issues_and_its_upload_lands_exactly_once(db: Db) {
    use kofu_app::staff::Role;
    let clerk = enrol(&db, "offline1", Role::Clerk).await;
    let boss = enrol(&db, "offboss", Role::Supervisor).await;
    let c = Counter::new(&db).await;
    let token = logged_in(&c, &clerk).await;
    let limits = kofu_app::offline::OfflineLimits {
        max_replica_age_secs: 3600,
        max_unsynced: 3,
    };
    let t = offline_terminal(&db, &c, &token, limits).await;
    // A request the clerk sent online just before the cut, whose answer was lost: the
    // same request_id is then issued offline (the third below).
    let twice = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, online) = c
        .call("POST", "/counter/v1/issuances", Some(&token), Some(&twice))
        .await;
    assert_eq!(status, StatusCode::OK, "{online}");

    // The replica is encrypted at rest: no SQLite header, no name in clear, and
    // another key cannot open it.
    let bytes = std::fs::read(&t.path).unwrap();
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the replica is not plain SQLite"
    );
    assert!(
        !bytes.windows("見本".len()).any(|w| w == "見本".as_bytes()),
        "no registry text in clear"
    );
    assert!(Store::open_encrypted(&t.path, &[8u8; 32]).await.is_err());

    // While the terminal is cut off, the registry puts a support measure on a member
    // of 00000000019's household.
    let change = r#"{"type":"change","seq":1,"at":"2026-05-07T09:00:00+09:00","op":"upsert","record":{"type":"support_measure","resident_id":"00000000027","from":"2026-05-01","to":"2027-04-30"}}"#;
    kofu_app::import_feed(&db.store, std::io::Cursor::new(format!("{change}\n")))
        .await
        .unwrap();

    // Offline: log in with the cached account (a later code than the online one).
    let (status, body) = t.router.login(&clerk, PASSWORD, 1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let local = body["token"].as_str().unwrap().to_owned();
    // The replica holds no 個人番号: asked for offline, it is refused by name.
    let mut with_number = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    with_number["options"] = json!({"show_my_number": true});
    let (status, err) = t
        .router
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&local),
            Some(&with_number),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("options.show_my_number"),
        "{err}"
    );
    // The download was an audited access, with what it sent.
    let sent = audited(&db, "offline.replica").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "offline1");
    assert!(sent[0].2["records"].as_u64().unwrap() > 10, "{sent:?}");
    let boss_token = logged_in(&c, &boss).await;
    let report = todays_report(&c, &boss_token).await;
    let downloads = report["replica_downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 1, "{report}");
    assert_eq!(downloads[0]["staff"], "offline1");
    let mut numbers = Vec::new();
    for (i, resident) in ["00000000019", "00000000043", "00000000019"]
        .iter()
        .enumerate()
    {
        let body = if i == 2 {
            twice.clone()
        } else {
            counter_issue_body(resident, json!({"type": "person"}), 1)
        };
        let (status, issued) = t
            .router
            .call("POST", "/counter/v1/issuances", Some(&local), Some(&body))
            .await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        let number = issued["documents"][0]["issue_number"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            issued["receipt_no"].as_str().unwrap().contains("-OFF"),
            "{issued}"
        );
        numbers.push(number);
    }
    assert!(numbers[0].ends_with(" 100001"), "{numbers:?}");
    // The bound: three unsynced issuances are the most this terminal may hold.
    let body = counter_issue_body("00000000043", json!({"type": "person"}), 1);
    let (status, refused) = t
        .router
        .call("POST", "/counter/v1/issuances", Some(&local), Some(&body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "offline_limit", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 issuances"),
        "{refused}"
    );
    // Only accounts that fetched their kit on this terminal log in offline.
    let (status, body) = t.router.login(&boss, PASSWORD, 1).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "no cached account: {body}"
    );

    let before = (db.count("issuances").await, db.count("fees").await);
    let batch = kofu_app::offline::sync_batch(&t.store, "本庁1", 2)
        .await
        .unwrap();
    assert!(!batch.entries.is_empty());
    // A tampered upload is refused whole: nothing of it lands.
    let mut forged = batch.clone();
    forged.entries[0].actor = "someone-else".into();
    let forged = serde_json::to_value(&forged).unwrap();
    let (status, body) = c
        .call_signed(
            &t.id,
            "POST",
            "/counter/v1/offline/sync",
            &token,
            Some(&forged),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "sync_rejected");
    assert_eq!(
        (db.count("issuances").await, db.count("fees").await),
        before
    );

    // The supervisor (logged in above) signs the day off while the terminal's work is
    // still out.
    let today = kofu_domain::date::local_date_time(time::OffsetDateTime::now_utc())
        .0
        .to_string();
    let (status, closed) = c
        .call(
            "POST",
            &format!("/counter/v1/days/{today}/close"),
            Some(&boss_token),
            Some(&json!({"counted_cash_yen": 300})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");

    // The real upload, in batches of two entries; each batch is sent twice, as after
    // an answer lost on the way back: the second changes nothing.
    let mut sent = 0;
    loop {
        let batch = kofu_app::offline::sync_batch(&t.store, "本庁1", 2)
            .await
            .unwrap();
        if batch.entries.is_empty() {
            break;
        }
        let body = serde_json::to_value(&batch).unwrap();
        let (status, first) = c
            .call_signed(
                &t.id,
                "POST",
                "/counter/v1/offline/sync",
                &token,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (status, again) = c
            .call_signed(
                &t.id,
                "POST",
                "/counter/v1/offline/sync",
                &token,
                Some(&body),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["new_entries"], 0, "{again}");
        assert_eq!(again["accepted_through"], first["accepted_through"]);
        let receipt: kofu_app::offline::SyncReceipt = serde_json::from_value(first).unwrap();
        kofu_app::offline::acknowledge(&t.store, &receipt)
            .await
            .unwrap();
        sent += 1;
        assert!(sent < 50, "the upload ends");
    }
    assert_eq!(
        (db.count("issuances").await, db.count("fees").await),
        (before.0 + 3, before.1 + 3),
        "every offline issuance and fee landed once"
    );
    assert_eq!(t.store.unsynced_issuances().await.unwrap(), 0);
    let verdict = db.store.verify_audit().await.unwrap();
    assert!(verdict.problems.is_empty(), "{:?}", verdict.problems);

    // The supervisor sees the offline work and what to look at again.
    let (status, review) = c
        .call("GET", "/counter/v1/offline/review", Some(&boss_token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let issued = review["terminals"][0]["issuances"].as_array().unwrap();
    assert_eq!(issued.len(), 3, "{review}");
    // Every one arrived after the day was signed off; the two for 00000000019 also
    // show the support measure put on their household meanwhile, and the third was
    // issued online too.
    let flagged: Vec<&Value> = issued.iter().filter(|i| !i["flag"].is_null()).collect();
    assert_eq!(flagged.len(), 3, "{review}");
    let kinds = |i: &Value| -> Vec<String> {
        i["flag"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected: [&[&str]; 3] = [
        &["day_closed", "support_measure"],
        &["day_closed"],
        &["duplicate_request", "day_closed", "support_measure"],
    ];
    for (i, want) in flagged.iter().zip(expected) {
        assert_eq!(kinds(i), want, "{review}");
    }
    assert_eq!(
        flagged[2]["flag"]["changes"][0]["issuance_id"], online["issuance_id"],
        "{review}"
    );
    assert_eq!(review["open_flags"], 3);
    let flag_id = flagged[0]["flag"]["flag_id"].as_str().unwrap();
    let path = format!("/counter/v1/offline/flags/{flag_id}/resolution");
    let body = json!({"resolution": "recalled", "note": "本人に連絡し回収"});
    let (status, answer) = c.call("POST", &path, Some(&boss_token), Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, again) = c.call("POST", &path, Some(&boss_token), Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "resolved once: {again}");
    let (status, denied) = c.call("POST", &path, Some(&token), Some(&body)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a clerk does not resolve flags: {denied}"
    );
    let (_, review) = c
        .call("GET", "/counter/v1/offline/review", Some(&boss_token), None)
        .await;
    assert_eq!(review["open_flags"], 2);

    // The replica catches up with the change it missed, from the log.
    let (status, feed) = c
        .call_signed(
            &t.id,
            "GET",
            "/counter/v1/offline/replica?after=0&loads=1",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["snapshot"], false, "{feed}");
    let feed: kofu_app::offline::ReplicaFeed = serde_json::from_value(feed).unwrap();
    assert_eq!(feed.last_seq, Some(1));
    kofu_app::offline::apply_replica_feed(&t.store, &feed, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(t.store.feed_state().await.unwrap().unwrap().last_seq, 1);
    // A full load on the server (records, not change events) is a new generation: a
    // replica of the old one gets a snapshot, not the change log.
    let seal = std::fs::read_to_string(crate::feed("kiosk-town.jsonl"))
        .unwrap()
        .lines()
        .find(|l| l.contains(r#""type": "seal""#))
        .unwrap()
        .to_owned();
    kofu_app::import_feed(&db.store, std::io::Cursor::new(format!("{seal}\n")))
        .await
        .unwrap();
    let (status, feed) = c
        .call_signed(
            &t.id,
            "GET",
            "/counter/v1/offline/replica?after=1&loads=1",
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(
        feed["snapshot"], true,
        "a new generation: {}",
        feed["loads"]
    );
    assert_eq!(feed["loads"], 2);

    // A replica older than the bound refuses to issue, and says why.
    t.store
        .set_replica_current("2026-01-01T00:00:00Z")
        .await
        .unwrap();
    let body = counter_issue_body("00000000043", json!({"type": "person"}), 1);
    let (status, refused) = t
        .router
        .call("POST", "/counter/v1/issuances", Some(&local), Some(&body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("old"),
        "{refused}"
    );

    // The clerk leaves: deactivated on the server, the account is gone from the
    // replica at its next sync, and cannot log in offline any more.
    let admin = enrol(&db, "offadmin", Role::Admin).await;
    let admin_token = logged_in(&c, &admin).await;
    let (status, answer) = c
        .call(
            "POST",
            "/counter/v1/staff/offline1/deactivate",
            Some(&admin_token),
            Some(&json!({"reason": "退職"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert!(t.store.staff("offline1").await.unwrap().is_some());
    let (status, feed) = c
        .call_signed(
            &t.id,
            "GET",
            "/counter/v1/offline/replica",
            &boss_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let staff = feed["staff"].as_array().unwrap();
    assert!(
        staff.contains(&json!("offboss")) && !staff.contains(&json!("offline1")),
        "{staff:?}"
    );
    assert!(
        !staff.contains(&json!("offadmin")),
        "an administrator never works offline"
    );
    let feed: kofu_app::offline::ReplicaFeed = serde_json::from_value(feed).unwrap();
    kofu_app::offline::apply_replica_feed(&t.store, &feed, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(t.store.staff("offline1").await.unwrap().is_none());
    let (status, body) = t.router.login(&clerk, PASSWORD, 2).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

fn setting<'a>(settings: &'a Value, name: &str) -> &'a Value {
    settings["town"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["setting"] == name)
        .unwrap_or_else(|| panic!("no {name} in {settings}"))
}

async fn counter_admin_changes_settings_and_issuance_follows(db: Db) {
    use kofu_app::staff::Role;
    let admin = enrol(&db, "kanri", Role::Admin).await;
    let clerk = enrol(&db, "uketsuke", Role::Clerk).await;
    let c = Counter::new(&db).await;
    let admin_token = logged_in(&c, &admin).await;
    let clerk_token = logged_in(&c, &clerk).await;
    let settings_path = "/counter/v1/admin/settings";
    let (status, _) = c.call("GET", settings_path, Some(&clerk_token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a clerk does not administer");

    // Before any change, the registry feed's values, at revision 0.
    let (status, before) = c.call("GET", settings_path, Some(&admin_token), None).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let fees = setting(&before, "fees");
    assert_eq!(fees["revision"], 0);
    assert_eq!(fees["value"]["counter"]["juminhyo"], 300);
    assert!(setting(&before, "certifier")["value"]["mayor"].is_string());
    assert_eq!(before["terminals"], json!([]));

    let path = |name: &str| format!("{settings_path}/{name}");
    let mut value = fees["value"].clone();
    value["counter"]["juminhyo"] = json!(350);
    let change = json!({"expected_revision": 0, "value": value, "reason": "手数料条例の改正"});
    let (status, saved) = c
        .call("POST", &path("fees"), Some(&clerk_token), Some(&change))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{saved}");
    let (status, saved) = c
        .call("POST", &path("fees"), Some(&admin_token), Some(&change))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["revision"], 1);
    assert_eq!(saved["changed_by"], "kanri");

    // A second administrator who saw revision 0 does not save over the first.
    let (status, stale) = c
        .call("POST", &path("fees"), Some(&admin_token), Some(&change))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    assert_eq!(stale["error"]["code"], "setting_conflict");

    // Bad values are refused whole, each field named; nothing is saved.
    let mut too_dear = value.clone();
    too_dear["counter"]["juminhyo"] = json!(20000);
    for (body, field) in [
        (
            json!({"expected_revision": 1, "value": too_dear, "reason": "誤入力"}),
            "juminhyo",
        ),
        (
            json!({"expected_revision": 1, "value": {"counter": "three hundred"}, "reason": "x"}),
            "value",
        ),
        (
            json!({"expected_revision": 1, "value": value, "reason": "  "}),
            "reason",
        ),
    ] {
        let (status, err) = c
            .call("POST", &path("fees"), Some(&admin_token), Some(&body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let (status, _) = c
        .call(
            "POST",
            &path("mayor_name"),
            Some(&admin_token),
            Some(&change),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no such setting");
    let hours = json!({"expected_revision": 0, "reason": "深夜営業",
        "value": {"kiosk": {"open": "05:00", "close": "23:00"}}});
    let (status, err) = c
        .call(
            "POST",
            &path("kiosk_hours"),
            Some(&admin_token),
            Some(&hours),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "outside national hours: {err}"
    );

    // The counter charges the new fee.
    let body = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", issued["error"]);
    assert_eq!(issued["fee_yen"], 350);

    // Once terminals are registered, only they and their own printers issue.
    let terminal = json!({"expected_revision": 0, "reason": "窓口の再配置",
        "value": {"location": "本庁舎1階 1番窓口", "active": true,
                  "printers": [{"code": "P002", "description": "A4 レーザー", "active": true}]}});
    let (status, saved) = c
        .call(
            "POST",
            &path("terminal:本庁1"),
            Some(&admin_token),
            Some(&terminal),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let on_p001 = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    let (status, refused) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&on_p001),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", refused["error"]);
    assert_eq!(refused["error"]["code"], "terminal_refused");
    let mut on_p002 = counter_issue_body("00000000019", json!({"type": "person"}), 1);
    on_p002["printer"] = json!("P002");
    let (status, issued) = c
        .call(
            "POST",
            "/counter/v1/issuances",
            Some(&clerk_token),
            Some(&on_p002),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", issued["error"]);
    assert!(
        issued["documents"][0]["issue_number"]
            .as_str()
            .unwrap()
            .contains("P002")
    );
    let (status, err) = c
        .call(
            "POST",
            &path("terminal:本庁2"),
            Some(&admin_token),
            Some(&terminal),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a printer serves one terminal: {err}"
    );

    let (status, after) = c.call("GET", settings_path, Some(&admin_token), None).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(setting(&after, "fees")["value"]["counter"]["juminhyo"], 350);
    assert_eq!(after["terminals"][0]["setting"], "terminal:本庁1");
    let history: Vec<(String, i64)> = after["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["setting"].as_str().unwrap().to_owned(),
                h["revision"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![("terminal:本庁1".to_owned(), 1), ("fees".to_owned(), 1)],
        "newest first, refused changes absent"
    );
    // A terminal's offline replica carries the settings in force.
    let limits = kofu_app::offline::OfflineLimits {
        max_replica_age_secs: 3600,
        max_unsynced: 3,
    };
    let replica = offline_terminal(&db, &c, &clerk_token, limits).await;
    let town = replica.store.municipality().await.unwrap().unwrap();
    assert_eq!(
        town.fees_yen[&kofu_domain::CertificateKind::Juminhyo],
        350,
        "the replica charges the administrator's fee"
    );
    assert!(
        replica
            .store
            .terminals()
            .await
            .unwrap()
            .contains_key("本庁1")
    );

    let audit = audited(&db, "admin.setting").await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].0, "kanri");
    assert_eq!(audit[0].1, "fees");
    assert_eq!(audit[0].2["reason"], "手数料条例の改正");
    assert!(db.store.verify_audit().await.unwrap().problems.is_empty());
}
