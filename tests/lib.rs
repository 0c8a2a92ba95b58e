//! Support for the end-to-end tests: finding the built binaries, the fixture
//! feeds, and a fresh PostgreSQL database per test.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

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

/// Imports the fixture feed `name` (under `tests/feeds/`) into `url` with `kofu
/// import`, asserting that it succeeded.
pub fn import_feed(name: &str, url: &str) {
    let path = feed(name);
    let path = path.to_string_lossy();
    let out = kofu(&["import", &path, "--database", url]);
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// A fresh PostgreSQL database for one test, or `None` when `KOFU_SKIP_PG=1`.
pub fn postgres_database(name: &str) -> Option<String> {
    if std::env::var("KOFU_SKIP_PG").as_deref() == Ok("1") {
        return None;
    }
    let base = std::env::var("KOFU_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("KOFU_TEST_PG_URL is not set: run `eval \"$(bash scripts/pg-test.sh start)\"` first")
    });
    Some(fresh_pg_database(&base, name))
}

/// A running `kofu serve` (plain HTTP on a loopback port it chose), killed on drop.
pub struct Serve {
    child: Child,
    /// The LGWAN listener's address.
    pub addr: String,
}

impl Serve {
    /// Starts `kofu serve --database URL --insecure-loopback` with extra arguments and
    /// waits for the line that says it listens.
    pub fn start(url: &str) -> Serve {
        Serve::start_with(url, &[])
    }

    /// As [`Serve::start`], with more `kofu serve` arguments.
    pub fn start_with(url: &str, extra: &[&str]) -> Serve {
        Serve::start_on(url, "127.0.0.1:0", extra)
    }

    /// As [`Serve::start_with`], listening on `listen` (a fixed port survives restarts).
    pub fn start_on(url: &str, listen: &str, extra: &[&str]) -> Serve {
        let mut child = Command::new(binary("kofu"))
            .args(["serve", "--database", url, "--insecure-loopback"])
            .args(["--lgwan-listen", listen])
            // The tests replay fixed instants (a weekday morning in May 2026).
            .args(["--max-clock-skew-secs", "0"])
            .args(extra)
            .env("KOFU_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start kofu serve: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take();
        if let Some(out) = stdout {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("kofu serve printed {line:?}: {e}"));
        Serve {
            child,
            addr: ready["lgwan"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// One request on its own connection; the status and the JSON answer.
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        post(&self.addr, path, body).unwrap_or_else(|e| panic!("{}: {e}", self.addr))
    }

    /// The process ID (for `kill -9`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// One request to `addr` on its own connection: the status and the JSON answer, or
/// the connection error (a server being killed is expected in some tests).
pub fn post(addr: &str, path: &str, body: &Value) -> std::io::Result<(u16, Value)> {
    let body = body.to_string();
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: kofu\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let status = answer
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {answer:?}")))?;
    let json = answer.split_once("\r\n\r\n").map_or("", |(_, j)| j);
    Ok((status, serde_json::from_str(json).unwrap_or(Value::Null)))
}

/// Runs one SQL query with psql and returns its unaligned, tuples-only output.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-X", "-q", "-t", "-A", "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
