//! `kofu bench …`: benchmarks that print their figures (never timed tests).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;

/// The benchmarks.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Generate a demo town, then time its import into a fresh SQLite database and
    /// into each `--database` given (which must be empty).
    Import {
        /// Residents in the generated town.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Further (empty) databases to import into, e.g. a PostgreSQL URL.
        #[arg(long)]
        database: Vec<String>,
    },
    /// The counter's resident search as the API answers it, over a generated town in a
    /// fresh SQLite database and each `--database` given (empty): p50/p95/p99.
    Search {
        /// Residents in the generated town.
        #[arg(long, default_value_t = 1_000_000)]
        residents: u64,
        /// Searches to time.
        #[arg(long, default_value_t = 3_000)]
        searches: usize,
        /// Further (empty) databases, e.g. a PostgreSQL URL.
        #[arg(long)]
        database: Vec<String>,
    },
    /// A terminal's offline work uploaded to the server: a demo town is imported into
    /// a fresh SQLite database and each `--database` given (empty), a terminal replica
    /// issues `--issuances` 住民票 offline, and their upload is timed.
    Sync {
        /// Residents in the generated town.
        #[arg(long, default_value_t = 2_000)]
        residents: u64,
        /// Offline issuances to upload.
        #[arg(long, default_value_t = 10_000)]
        issuances: usize,
        /// Audit entries per upload (the terminal's batch).
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Further (empty) databases for the server, e.g. a PostgreSQL URL.
        #[arg(long)]
        database: Vec<String>,
    },
    /// Kiosk issuance of a one-page 住民票 over loopback: a demo town is imported into
    /// a fresh SQLite database and each `--database` given (empty), an LGWAN server is
    /// started on 127.0.0.1, and kiosks at each `--concurrency` issue `--requests`
    /// certificates; prints issuances/s and latency percentiles.
    Kiosk {
        /// Residents in the generated town.
        #[arg(long, default_value_t = 20_000)]
        residents: u64,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Concurrent kiosk sessions (each level measured in turn).
        #[arg(long, value_delimiter = ',', default_values_t = [16, 64])]
        concurrency: Vec<usize>,
        /// Issuance requests per concurrency level.
        #[arg(long, default_value_t = 3000)]
        requests: usize,
        /// Further (empty) databases, e.g. a PostgreSQL URL.
        #[arg(long)]
        database: Vec<String>,
    },
}

/// Runs a benchmark and prints one JSON line per measurement.
pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Import {
            residents,
            seed,
            database,
        } => {
            let dir = tempfile::tempdir()?;
            let feed = dir.path().join("town.jsonl");
            let started = Instant::now();
            let summary = write_town(&feed, residents, seed)?;
            let generated = started.elapsed().as_secs_f64();
            let bytes = std::fs::metadata(&feed)?.len();
            println!(
                "{}",
                serde_json::json!({"bench": "demo_town", "residents": residents, "seconds": round(generated), "bytes": bytes, "records": summary})
            );
            for url in targets(dir.path(), database) {
                let store = open(&url).await?;
                let input = std::fs::File::open(&feed)?;
                let started = Instant::now();
                let report = kofu_app::import_feed(&store, input).await?;
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "{}",
                    serde_json::json!({
                        "bench": "import",
                        "backend": format!("{:?}", store.backend()),
                        "residents": residents,
                        "lines": report.lines,
                        "seconds": round(seconds),
                        "residents_per_second": (residents as f64 / seconds).round(),
                        "lines_per_second": (report.lines as f64 / seconds).round(),
                    })
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Kiosk {
            residents,
            seed,
            concurrency,
            requests,
            database,
        } => crate::bench_kiosk::run(residents, seed, &concurrency, requests, database).await,
        BenchCommand::Search {
            residents,
            searches,
            database,
        } => crate::bench_search::run(residents, searches, database).await,
        BenchCommand::Sync {
            residents,
            issuances,
            batch,
            database,
        } => crate::bench_sync::run(residents, issuances, batch, database).await,
    }
}

/// Writes a demo town to `feed`, and waits until it is on disk: a benchmark that reads
/// it next then times its own work, not the kernel writing back the town it was just
/// handed (two gigabytes for a million residents, written back while an import ran).
pub fn write_town(
    feed: &std::path::Path,
    residents: u64,
    seed: u64,
) -> anyhow::Result<kofu_demo::TownSummary> {
    let file = std::fs::File::create(feed)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = kofu_demo::write_town(&kofu_demo::TownConfig::new(residents, seed), &mut out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(summary)
}

/// The databases a bench runs on: a fresh SQLite file in `dir`, then those given.
pub fn targets(dir: &std::path::Path, given: Vec<String>) -> Vec<String> {
    let mut urls = vec![format!("sqlite:{}", dir.join("bench.sqlite").display())];
    urls.extend(given);
    urls
}

/// Opens a bench database.
pub async fn open(url: &str) -> anyhow::Result<kofu_store::Store> {
    kofu_store::Store::open(url)
        .await
        .with_context(|| format!("cannot open {}", crate::database::redact(url)))
}

/// Rounds to milliseconds (of seconds) for printing.
pub fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// An office over a fresh import of `feed` at `url`, with one clerk logged in: what
/// the counter benchmarks start from.
pub struct ClerkOffice {
    /// The office.
    pub office: kofu_app::Office,
    /// The clerk's session.
    pub session: kofu_app::staff::StaffSession,
    /// The clerk's login.
    pub login: String,
    /// The clerk's TOTP secret (a further login, on a terminal, needs a later code).
    pub totp_secret: Vec<u8>,
    /// The backend's name.
    pub backend: String,
}

/// The clerks' password in the benchmarks.
pub const CLERK_PASSWORD: &str = "bench clerk password";

/// The TOTP code of `secret` `offset` steps after `now`'s.
pub fn totp_code(secret: &[u8], now: time::OffsetDateTime, offset: i64) -> String {
    let step = u64::try_from(kofu_app::staff::totp_step(now) + offset).unwrap_or(0);
    format!("{:06}", kofu_app::staff::hotp(secret, step, 6).unwrap_or(0))
}

/// Imports `feed` into the (empty) database at `url`, enrols clerk `login` and logs
/// them in to an office with `settings`.
pub async fn clerk_office(
    url: &str,
    feed: &std::path::Path,
    fonts: std::sync::Arc<kofu_render::FontBook>,
    login: &str,
    settings: kofu_app::OfficeSettings,
) -> anyhow::Result<ClerkOffice> {
    use kofu_app::staff::{Credentials, NewStaff, Role};
    let store = open(url).await?;
    let input = std::fs::File::open(feed)?;
    kofu_app::import_feed(&store, input).await?;
    let backend = format!("{:?}", store.backend());
    let now = time::OffsetDateTime::now_utc();
    let enrolment = kofu_app::staff::add_staff(
        &store,
        &NewStaff {
            login: login.to_owned(),
            role: Role::Clerk,
            password: CLERK_PASSWORD.into(),
        },
        "bench",
        now,
    )
    .await?;
    let totp_secret =
        kofu_app::staff::base32_decode(&enrolment.totp_secret).context("TOTP secret")?;
    let office = kofu_app::Office::new(store, fonts, settings, "bench-secret").await?;
    let session = office
        .login(
            &Credentials {
                login: login.to_owned(),
                password: CLERK_PASSWORD.into(),
                totp: totp_code(&totp_secret, now, 0),
            },
            now,
        )
        .await?
        .staff;
    Ok(ClerkOffice {
        office,
        session,
        login: login.to_owned(),
        totp_secret,
        backend,
    })
}
