//! `kofu`: the town's issuance server and its command line.
//!
//! Each subcommand is a thin edge over kofu-app: it parses flags, opens the store,
//! calls one use case and prints the result. Errors become one clear message on
//! stderr and a non-zero exit status; no panic reaches the user.

mod bench;
mod bench_kiosk;
mod bench_search;
mod bench_sync;
mod database;
mod render;
mod serve_command;
mod verify_scan;

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

// Imports and renders allocate many short-lived strings; glibc's malloc was a
// quarter of an import's CPU time in a profile. The `override` feature routes C code's
// malloc to mimalloc as well: SQLite's allocations during a load (every bound value,
// the index sorter) cost another eighth of an import's CPU in glibc's free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// kofu (交付): certificate issuance for a Japanese town hall.
#[derive(Parser)]
#[command(name = "kofu", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import a registry feed file (full records and change events), all or nothing.
    Import {
        /// The JSON Lines feed file.
        file: PathBuf,
        /// Database URL (`sqlite:PATH` or `postgres://…`); defaults to the embedded
        /// SQLite file under the user's data directory, or $KOFU_DATABASE.
        #[arg(long)]
        database: Option<String>,
    },
    /// Print counts per record type as JSON.
    Stats {
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Write a deterministic demo town in the registry feed format.
    DemoTown {
        /// Number of residents.
        #[arg(long, default_value_t = 1000)]
        residents: u64,
        /// Seed of the generator: the same seed gives the same town.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (`-` for standard output).
        #[arg(long)]
        out: PathBuf,
    },
    /// Render one certificate to a PDF file (refusals exit with status 3 and the reason).
    Render(Box<render::RenderArgs>),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run the issuance server: the LGWAN endpoints for the relay center.
    Serve(Box<serve_command::ServeArgs>),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Database administration.
    #[command(subcommand)]
    Db(DbCommand),
    /// Staff accounts of the counter.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Counter terminals' identities: enrol (a one-time code the terminal registers its
    /// own key with), list, revoke.
    #[command(subcommand)]
    Terminal(TerminalCommand),
    /// Check a scan of a kiosk copy's back page: restore the scrambled front with the
    /// center's key and compare it with a scan of the front (exit 0 match, 1 mismatch,
    /// 2 unreadable input).
    VerifyScan(verify_scan::VerifyScanArgs),
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Add a personal account: reads the password from standard input and prints the
    /// TOTP secret and its otpauth:// URI once (enrol an authenticator app with it).
    Add {
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
        /// The personal login (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        login: String,
        /// clerk, supervisor, support_officer or admin.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TerminalCommand {
    /// Enrol a terminal (again): prints a one-time code, valid 24 hours, that the
    /// terminal registers its own key pair with. Enrolling again voids its old key.
    Enroll {
        /// The terminal's name, as in its issue numbers (`本庁1`).
        #[arg(long)]
        name: String,
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Print every enrolled terminal, one JSON object per line.
    List {
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
    },
    /// Revoke a terminal: its next signed request is refused.
    Revoke {
        /// The terminal's name.
        #[arg(long)]
        name: String,
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// PostgreSQL: grant the role `kofu serve` connects as what it needs and no more
    /// (ledgers and audit log: SELECT and INSERT only). Run as the schema's owner.
    GrantServerRole {
        /// Database URL (PostgreSQL).
        #[arg(long)]
        database: Option<String>,
        /// The server's role.
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit chain and check every ledger row against it; names the
    /// first row altered, removed or inserted (exit status 1 when any is found).
    Verify {
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
        /// Day-close anchors kept outside the database (`kofu audit anchors`, one JSON
        /// object per line): each anchored head must still be in the chain.
        #[arg(long)]
        anchors: Option<std::path::PathBuf>,
    },
    /// Prints the anchor of every day close (the audit chain's head it sealed), one JSON
    /// object per line, to keep outside the database.
    Anchors {
        /// Database URL (see `import`).
        #[arg(long)]
        database: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KOFU_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // Pure computation on files: no runtime needed.
    let command = match cli.command {
        Command::VerifyScan(args) => return verify_scan::run(args),
        other => other,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kofu: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kofu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import { file, database } => import(&file, database).await,
        Command::Stats { database } => {
            let store = database::open(database).await?;
            let stats = store.stats().await?;
            println!("{}", serde_json::to_string(&stats)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoTown {
            residents,
            seed,
            out,
        } => {
            let config = kofu_demo::TownConfig::new(residents, seed);
            let summary = if out.as_os_str() == "-" {
                let stdout = std::io::stdout();
                kofu_demo::write_town(&config, &mut std::io::BufWriter::new(stdout.lock()))?
            } else {
                let file = File::create(&out)
                    .with_context(|| format!("cannot create {}", out.display()))?;
                kofu_demo::write_town(
                    &config,
                    &mut std::io::BufWriter::with_capacity(1 << 20, file),
                )?
            };
            eprintln!("{}", serde_json::to_string(&summary)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Render(args) => render::run(*args).await,
        Command::VerifyScan(args) => Ok(verify_scan::run(args)),
        Command::Bench(b) => bench::run(b).await,
        Command::Serve(args) => serve_command::run(*args).await,
        Command::Db(DbCommand::GrantServerRole { database, role }) => {
            let store = database::open(database).await?;
            store.grant_server_role(&role).await?;
            eprintln!("kofu: role {role} may read everything and only append to the ledgers");
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff(StaffCommand::Add {
            database,
            login,
            role,
            password_stdin,
        }) => staff_add(database, login, &role, password_stdin).await,
        Command::Terminal(TerminalCommand::Enroll { name, database }) => {
            let store = database::open(database).await?;
            let enrolment = kofu_app::terminal::enrol_terminal(
                &store,
                &name,
                "cli",
                time::OffsetDateTime::now_utc(),
            )
            .await?;
            println!("terminal: {}", enrolment.name);
            println!("enrolment_code: {}", enrolment.code);
            println!("expires_at: {}", enrolment.expires_at);
            eprintln!(
                "kofu: the code is shown only now; enter it on the terminal (or give it as KOFU_COUNTER_ENROLMENT_CODE) to register its key"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Terminal(TerminalCommand::List { database }) => {
            let store = database::open(database).await?;
            for t in store.terminal_identities().await? {
                println!(
                    "{}",
                    serde_json::to_string(&kofu_app::terminal::TerminalInfo::from(&t))?
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Terminal(TerminalCommand::Revoke { name, database }) => {
            let store = database::open(database).await?;
            let info = kofu_app::terminal::revoke_terminal(
                &store,
                &name,
                "cli",
                time::OffsetDateTime::now_utc(),
            )
            .await?;
            println!("{}", serde_json::to_string(&info)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Anchors { database }) => {
            let store = database::open(database).await?;
            for anchor in store.audit_anchors().await? {
                println!("{}", serde_json::to_string(&anchor)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify { database, anchors }) => {
            let anchors = match anchors {
                Some(path) => Some(read_anchors(&path)?),
                None => None,
            };
            let store = database::open(database).await?;
            let (verdict, missing) = store
                .verify_audit_anchored(anchors.as_deref().unwrap_or_default())
                .await?;
            println!(
                "{}",
                serde_json::json!({
                    "entries": verdict.entries, "rows": verdict.rows, "head": verdict.head,
                    "problems": verdict.problems, "anchors_checked": anchors.as_ref().map(Vec::len),
                    "anchors_missing": missing,
                })
            );
            for a in &missing {
                eprintln!(
                    "kofu: the chain no longer holds the head anchored at the close of {} ({}): cut short or rewritten since",
                    a.day, a.audit_head
                );
            }
            match verdict.problems.first() {
                None if !missing.is_empty() => Ok(ExitCode::FAILURE),
                None => {
                    eprintln!(
                        "kofu: audit chain verifies: {} entries, {} ledger rows",
                        verdict.entries, verdict.rows
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(first) => {
                    eprintln!("kofu: audit verification FAILED: {first}");
                    for p in &verdict.problems[1..] {
                        eprintln!("kofu:   also: {p}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn staff_add(
    database: Option<String>,
    login: String,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    if !password_stdin {
        anyhow::bail!("give --password-stdin and the password on standard input");
    }
    let role: kofu_app::staff::Role = role.parse()?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let store = database::open(database).await?;
    let enrolment = kofu_app::staff::add_staff(
        &store,
        &kofu_app::staff::NewStaff {
            login: login.clone(),
            role,
            password,
        },
        "cli",
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    println!("login: {login} ({})", role.code());
    println!("totp_secret: {}", enrolment.totp_secret);
    println!("otpauth_uri: {}", enrolment.otpauth_uri);
    eprintln!("kofu: the TOTP secret is shown only now; enrol the authenticator app with it");
    Ok(ExitCode::SUCCESS)
}

async fn import(file: &std::path::Path, database: Option<String>) -> anyhow::Result<ExitCode> {
    let input = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let store = database::open(database).await?;
    match kofu_app::import_feed(&store, input).await {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(kofu_app::AppError::FeedRejected(errors)) => {
            for e in &errors {
                eprintln!("{}:{e}", file.display());
            }
            eprintln!(
                "kofu: {} rejected: {} bad line(s); nothing was imported",
                file.display(),
                errors.len()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// Reads an anchors file: one JSON object per line, as `kofu audit anchors` prints;
/// a bad line is named with its number.
fn read_anchors(path: &std::path::Path) -> anyhow::Result<Vec<kofu_store::AuditAnchor>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!(
                    "{}:{}: not an anchor {{\"day\", \"audit_head\"}}",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}
