//! `kofu bench kiosk`: sustained kiosk issuance over loopback, at several levels of
//! concurrency, on SQLite and on each database given. Prints one JSON line per level.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kofu_server::serve::{Listener, Security};
use tokio::io::{
    AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader as TokioBufReader,
};
use tokio::net::TcpStream;

/// A weekday morning inside kiosk hours: the bench does not depend on the clock.
const REQUESTED_AT: &str = "2026-05-07T10:15:00+09:00";

/// Runs the benchmark.
pub async fn run(
    residents: u64,
    seed: u64,
    concurrency: &[usize],
    requests: usize,
    database: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    let feed = dir.path().join("town.jsonl");
    crate::bench::write_town(&feed, residents, seed)?;
    let fonts = Arc::new(
        kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env())
            .context("cannot load the certificate fonts")?,
    );
    for url in crate::bench::targets(dir.path(), database) {
        let store = crate::bench::open(&url).await?;
        let input = std::fs::File::open(&feed)?;
        kofu_app::import_feed(&store, input).await?;
        let backend = format!("{:?}", store.backend());
        let office = kofu_app::Office::new(
            store,
            fonts.clone(),
            kofu_app::OfficeSettings::default(),
            "bench-secret",
        )
        .await?;
        let cards = issuable_cards(&office, &feed).await?;
        if cards.is_empty() {
            bail!("the demo town has no card that may obtain a 住民票");
        }
        let listener = Listener::bind("127.0.0.1:0".parse()?, Security::InsecureLoopback)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(listener.serve(kofu_server::lgwan::router(office), async {
            let _ = stopped.await;
        }));
        let cards = Arc::new(cards);
        for &c in concurrency {
            let figures = level(addr, cards.clone(), c.max(1), requests).await?;
            println!(
                "{}",
                serde_json::json!({
                    "bench": "kiosk_issuance",
                    "backend": backend,
                    "concurrency": c,
                    "issued": figures.ok,
                    "failed": figures.failed,
                    "seconds": crate::bench::round(figures.seconds),
                    "issuances_per_second": (figures.ok as f64 / figures.seconds).round(),
                    "p50_ms": figures.p50_ms,
                    "p99_ms": figures.p99_ms,
                    "max_ms": figures.max_ms,
                })
            );
        }
        let _ = stop.send(());
        server.await??;
    }
    Ok(ExitCode::SUCCESS)
}

/// Card serials whose holders may obtain a 住民票 at a kiosk on the bench's morning.
async fn issuable_cards(
    office: &kofu_app::Office,
    feed: &std::path::Path,
) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(feed)?;
    let mut serials = Vec::new();
    for line in text.lines().filter(|l| l.contains("\"auth_serial\"")) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if v["type"] == "card" && v["status"] == "active" {
            serials.push(v["auth_serial"].as_str().unwrap_or_default().to_owned());
        }
    }
    // Ask the rules once per card (in-process), keeping those that may be issued.
    let at =
        time::OffsetDateTime::parse(REQUESTED_AT, &time::format_description::well_known::Rfc3339)?;
    let mut ok = Vec::new();
    for serial in serials.into_iter().take(2000) {
        let q = kofu_app::kiosk::Inquiry {
            request_id: uuid::Uuid::new_v4().to_string(),
            card_serial: serial.clone(),
            kind: kofu_domain::CertificateKind::Juminhyo,
            kiosk: kofu_app::kiosk::Kiosk {
                id: "K-BENCH".into(),
                chain: "bench".into(),
            },
            requested_at: at,
        };
        if matches!(
            office.kiosk_inquiry(&q, at).await?,
            kofu_app::kiosk::InquiryAnswer::Available { .. }
        ) {
            ok.push(serial);
        }
    }
    Ok(ok)
}

struct Figures {
    ok: usize,
    failed: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// `concurrency` kiosks, each on its own keep-alive connection, issue `requests`
/// one-page 住民票 between them.
async fn level(
    addr: std::net::SocketAddr,
    cards: Arc<Vec<String>>,
    concurrency: usize,
    requests: usize,
) -> anyhow::Result<Figures> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for kiosk in 0..concurrency {
        let next = next.clone();
        let cards = cards.clone();
        workers.push(tokio::spawn(async move {
            let mut conn = Connection::open(addr).await?;
            let mut latencies = Vec::new();
            let mut failed = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let body = serde_json::json!({
                    "request_id": uuid::Uuid::new_v4().to_string(),
                    "card_serial": cards[i % cards.len()],
                    "certificate": "juminhyo",
                    "options": {"household": "self"},
                    "copies": 1,
                    "kiosk": {"id": format!("K-{kiosk:05}"), "chain": "bench-mart"},
                    "requested_at": REQUESTED_AT,
                })
                .to_string();
                let t = Instant::now();
                let status = conn.post("/lgwan/v1/issuances", &body).await?;
                if status == 200 {
                    latencies.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            anyhow::Ok((latencies, failed))
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut failed = 0;
    for w in workers {
        let (l, f) = w.await??;
        latencies.extend(l);
        failed += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        (latencies[i].as_secs_f64() * 1e4).round() / 10.0
    };
    Ok(Figures {
        ok: latencies.len(),
        failed,
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
    })
}

/// A minimal HTTP/1.1 keep-alive client: enough for the bench, nothing more.
struct Connection {
    stream: TokioBufReader<TcpStream>,
}

impl Connection {
    async fn open(addr: std::net::SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: TokioBufReader::new(stream),
        })
    }

    /// Posts a JSON body; returns the status after reading the whole answer.
    async fn post(&mut self, path: &str, body: &str) -> anyhow::Result<u16> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await?;
        s.write_all(body.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(status)
    }
}
