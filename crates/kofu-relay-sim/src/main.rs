//! `kofu-relay-sim`: the simulated relay center and kiosks, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kofu_relay_sim::cards::{CardRegistry, card_file_from_feed, read_card_file};
use kofu_relay_sim::http::{CenterTls, Endpoint};
use kofu_relay_sim::kiosk::{Household, Outcome, SessionPlan, run_session_layered};
use kofu_relay_sim::load::{LoadPlan, run_load};
use kofu_relay_sim::pki::{DevPki, generate};
use kofu_render::kiosk::LayerKey;

#[derive(Parser)]
#[command(
    name = "kofu-relay-sim",
    version,
    about = "A simulated relay center and its kiosks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Target {
    /// The town's server: https://HOST:PORT (mutual TLS) or http://127.0.0.1:PORT
    /// (a server started with --insecure-loopback). `load` takes several (comma
    /// separated or repeated): server processes sharing one database.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8443")]
    server: Vec<String>,
    /// Folder with ca.pem, center.pem and center-key.pem (from `certs`), for https.
    #[arg(long)]
    tls_dir: Option<PathBuf>,
    /// The card file (SERIAL<TAB>PIN<TAB>STATUS lines; `cards` makes one).
    #[arg(long)]
    cards: PathBuf,
    /// The center's clock for requested_at (RFC 3339); default: now.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a development CA, the town server's certificate and the center's
    /// client certificate (PEM files) into a folder.
    Certs {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Names the server certificate is valid for.
        #[arg(long, value_delimiter = ',', default_values_t = ["localhost".to_owned(), "127.0.0.1".to_owned()])]
        server_name: Vec<String>,
    },
    /// Write the center's card file for the cards of a registry feed (PINs derived
    /// from each serial).
    Cards {
        /// The registry feed (JSON lines).
        #[arg(long)]
        feed: PathBuf,
        /// The card file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a handful of kiosk sessions and print what each kiosk did.
    Demo {
        #[command(flatten)]
        target: Target,
        /// Folder the printed PDFs are written to.
        #[arg(long, default_value = "kiosk-out")]
        out: PathBuf,
        /// Draw outcomes at random (about one session in five fails) instead of
        /// the fixed script.
        #[arg(long)]
        random_outcomes: bool,
        /// Seed for --random-outcomes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON lines instead of text.
        #[arg(long)]
        json: bool,
        /// The center's key for the kiosk security layer (32 to 128 hex digits); each
        /// printed PDF also gets its kiosk copy NAME.kiosk.pdf (needs poppler's
        /// pdftoppm). Default: the development key.
        #[arg(long, value_name = "HEX", conflicts_with = "no_layer")]
        layer_key: Option<String>,
        /// Print only the town's PDFs, without kiosk copies.
        #[arg(long)]
        no_layer: bool,
    },
    /// Drive steady load and print throughput and latency percentiles (JSON).
    Load {
        #[command(flatten)]
        target: Target,
        /// Sessions started per second.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds to run.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Kiosks (connections).
        #[arg(long, default_value_t = 16)]
        kiosks: usize,
        /// Certificate asked for.
        #[arg(long, default_value = "juminhyo")]
        certificate: String,
    },
}

fn now_jst() -> String {
    let jst = time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc()
        .to_offset(jst)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn endpoints(t: &Target) -> anyhow::Result<Vec<Endpoint>> {
    let files = t.tls_dir.as_deref().map(DevPki::in_dir);
    t.server
        .iter()
        .map(|url| {
            let tls = files.as_ref().map(|f| CenterTls {
                ca_cert: &f.ca_cert,
                client_cert: &f.center_cert,
                client_key: &f.center_key,
            });
            Ok(Endpoint::parse(url, tls)?)
        })
        .collect()
}

/// A small deterministic generator for drawn outcomes (no need for a crate).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kofu-relay-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Certs { out, server_name } => {
            let files = generate(&out, &server_name)?;
            println!(
                "{}",
                serde_json::json!({
                    "ca": files.ca_cert, "server_cert": files.server_cert,
                    "server_key": files.server_key, "center_cert": files.center_cert,
                    "center_key": files.center_key,
                    "serve": format!("kofu serve --tls-cert {} --tls-key {} --relay-ca {}",
                        files.server_cert.display(), files.server_key.display(),
                        files.ca_cert.display()),
                })
            );
        }
        Command::Cards { feed, out } => {
            let text = std::fs::read_to_string(&feed)
                .with_context(|| format!("cannot read {}", feed.display()))?;
            let cards = card_file_from_feed(&text);
            std::fs::write(&out, &cards)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "{}",
                serde_json::json!({"cards": cards.lines().filter(|l| !l.starts_with('#')).count(),
                                   "file": out})
            );
        }
        Command::Demo {
            target,
            out,
            random_outcomes,
            seed,
            json,
            layer_key,
            no_layer,
        } => {
            let layer = if no_layer {
                None
            } else {
                Some(match layer_key {
                    Some(hex) => LayerKey::from_hex(&hex).context("--layer-key")?,
                    None => LayerKey::development(),
                })
            };
            let ep = endpoints(&target)?
                .into_iter()
                .next()
                .context("--server is needed")?;
            let cards = CardRegistry::new(read_card_file(&target.cards)?);
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let at = target.at.clone().unwrap_or_else(now_jst);
            let mut conn = ep.connect().await?;
            let mut draw = Draw(seed.max(1));
            for plan in demo_script(&cards, &at) {
                let mut plan = plan;
                if random_outcomes && plan.outcome == Outcome::Printed {
                    let n = draw.next() % 20;
                    plan.outcome = match n {
                        0 => Outcome::PaperJam,
                        1 => Outcome::PrintFailed,
                        2 => Outcome::Cancelled,
                        3 => Outcome::PaymentFailed,
                        _ => Outcome::Printed,
                    };
                }
                let (report, _) =
                    run_session_layered(&mut conn, &cards, &plan, Some(&out), layer.as_ref())
                        .await?;
                if json {
                    println!("{}", report.json());
                } else {
                    println!("{}", report.line());
                }
            }
        }
        Command::Load {
            target,
            rate,
            duration,
            kiosks,
            certificate,
        } => {
            let eps = endpoints(&target)?;
            let cards = Arc::new(CardRegistry::new(read_card_file(&target.cards)?));
            let plan = LoadPlan {
                rate,
                duration: Duration::from_secs_f64(duration.clamp(0.1, 3600.0)),
                kiosks,
                certificate,
                requested_at: target.at.clone().unwrap_or_else(now_jst),
            };
            let figures = run_load(&eps, cards, &plan).await?;
            let mut line = figures.json();
            line["servers"] = serde_json::json!(eps.len());
            line["rate"] = serde_json::json!(rate);
            line["kiosks"] = serde_json::json!(kiosks);
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo's sessions: ordinary issuances of several kinds and options, a kiosk
/// that jams, a resident who cancels at payment, three wrong PINs that lock a card,
/// and a revoked card the center refuses before the town is asked.
fn demo_script(cards: &CardRegistry, at: &str) -> Vec<SessionPlan> {
    let active: Vec<_> = cards.cards().filter(|c| !c.revoked).collect();
    let revoked = cards.cards().find(|c| c.revoked);
    let mut plans = Vec::new();
    let plan =
        |i: usize, certificate: &str, household: Household, options: &[&str], copies, outcome| {
            let card = active[i % active.len()];
            SessionPlan {
                kiosk_id: format!("K-{:05}", 10 + i),
                chain: "sim-mart".into(),
                card_serial: card.serial.clone(),
                pins: vec![card.pin.clone()],
                certificate: certificate.into(),
                household,
                options: options.iter().map(|s| (*s).to_owned()).collect(),
                copies,
                outcome,
                requested_at: at.to_owned(),
            }
        };
    if active.is_empty() {
        return plans;
    }
    plans.push(plan(
        0,
        "juminhyo",
        Household::SelfOnly,
        &[],
        1,
        Outcome::Printed,
    ));
    plans.push(plan(
        1,
        "juminhyo",
        Household::All,
        &["show_relationship", "show_honseki"],
        2,
        Outcome::Printed,
    ));
    plans.push(plan(
        2,
        "inkan",
        Household::SelfOnly,
        &[],
        1,
        Outcome::Printed,
    ));
    plans.push(plan(
        3,
        "shotoku_kazei",
        Household::SelfOnly,
        &[],
        1,
        Outcome::Printed,
    ));
    plans.push(plan(
        4,
        "koseki_zenbu",
        Household::SelfOnly,
        &[],
        1,
        Outcome::Printed,
    ));
    plans.push(plan(
        5,
        "juminhyo",
        Household::SelfOnly,
        &[],
        1,
        Outcome::PaperJam,
    ));
    plans.push(plan(
        6,
        "kisai_jiko",
        Household::SelfOnly,
        &[],
        1,
        Outcome::Cancelled,
    ));
    let mut locked = plan(7, "juminhyo", Household::SelfOnly, &[], 1, Outcome::Printed);
    let wrong = if locked.pins[0] == "0000" {
        "9999"
    } else {
        "0000"
    };
    locked.pins = vec![wrong.to_owned(); 3];
    plans.push(locked);
    if let Some(card) = revoked {
        let mut r = plan(8, "juminhyo", Household::SelfOnly, &[], 1, Outcome::Printed);
        r.card_serial = card.serial.clone();
        r.pins = vec![card.pin.clone()];
        plans.push(r);
    }
    plans
}
