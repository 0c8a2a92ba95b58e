//! Support for the end-to-end tests: finding the built binaries, the fixture
//! feeds, and a fresh PostgreSQL database per test.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The path of a binary built in this workspace (`kofu`, …), next to the test
/// executable's `deps/` directory.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build -p kofu-server` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// A fixture file under `tests/feeds/`.
pub fn feed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("feeds")
        .join(name)
}

/// Runs `kofu` with arguments and returns its output.
pub fn kofu(args: &[&str]) -> Output {
    Command::new(binary("kofu"))
        .args(args)
        .env("KOFU_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run kofu: {e}"))
}

/// The databases every end-to-end test runs against: a fresh SQLite file, and a
/// fresh PostgreSQL database on the server named by `KOFU_TEST_PG_URL`
/// (`scripts/pg-test.sh start` provides one; `KOFU_SKIP_PG=1` skips it locally).
pub fn databases(dir: &std::path::Path, name: &str) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite:{}",
        dir.join(format!("{name}.sqlite")).display()
    )];
    if std::env::var("KOFU_SKIP_PG").as_deref() == Ok("1") {
        return urls;
    }
    let base = std::env::var("KOFU_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("KOFU_TEST_PG_URL is not set: run `eval \"$(bash scripts/pg-test.sh start)\"` first")
    });
    urls.push(fresh_pg_database(&base, name));
    urls
}

/// Creates a uniquely named database on the server of `base` and returns its URL.
fn fresh_pg_database(base: &str, name: &str) -> String {
    let unique = format!("e2e_{}_{}_{}", name, std::process::id(), nanos());
    let (server, _db) = base.rsplit_once('/').unwrap_or((base, ""));
    let status = Command::new("psql")
        .args([base, "-q", "-c", &format!("CREATE DATABASE {unique}")])
        .status()
        .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    assert!(status.success(), "cannot create database {unique}");
    format!("{server}/{unique}")
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}
