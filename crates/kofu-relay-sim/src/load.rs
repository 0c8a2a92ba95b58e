//! Steady load: kiosk sessions started at a fixed rate for a fixed duration by a
//! number of kiosks, each on its own keep-alive connection. Session `i` is due at
//! `i / rate` seconds; a kiosk that falls behind starts late and the lateness is
//! counted, so a server that cannot keep up shows as such instead of slowing the
//! load down unseen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::SimError;
use crate::cards::CardRegistry;
use crate::http::Endpoint;
use crate::kiosk::{Household, Outcome, SessionPlan, run_session};

/// What to run.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// Sessions started per second.
    pub rate: f64,
    /// For how long.
    pub duration: Duration,
    /// Kiosks (connections) sharing the sessions.
    pub kiosks: usize,
    /// The certificate asked for.
    pub certificate: String,
    /// The center's clock for every request.
    pub requested_at: String,
}

/// What was measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadFigures {
    /// Sessions run.
    pub sessions: usize,
    /// Certificates issued (and reported printed).
    pub issued: usize,
    /// Sessions the center or the town refused.
    pub refused: usize,
    /// Sessions that failed (connection or protocol errors).
    pub errors: usize,
    /// Sessions that started more than 10 ms after they were due.
    pub late: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Issued per second.
    pub issuances_per_second: f64,
    /// Issuance call latency percentiles, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl LoadFigures {
    /// As one JSON object.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "sessions": self.sessions, "issued": self.issued, "refused": self.refused,
            "errors": self.errors, "late": self.late, "seconds": round(self.seconds),
            "issuances_per_second": round(self.issuances_per_second),
            "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
        })
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Runs the load against `endpoints` (kiosk `k` talks to endpoint `k mod n`: several
/// `kofu serve` processes sharing one database) with the active cards of `cards` (their right
/// PINs typed), each session asking for one copy with the household `self`.
pub async fn run_load(
    endpoints: &[Endpoint],
    cards: Arc<CardRegistry>,
    plan: &LoadPlan,
) -> Result<LoadFigures, SimError> {
    let serials: Vec<(String, String)> = cards
        .cards()
        .filter(|c| !c.revoked)
        .map(|c| (c.serial.clone(), c.pin.clone()))
        .collect();
    if serials.is_empty() || endpoints.is_empty() || !plan.rate.is_finite() || plan.rate <= 0.0 {
        return Err(SimError::Protocol(
            "a load needs a server, active cards and a positive rate".into(),
        ));
    }
    let total = (plan.rate * plan.duration.as_secs_f64()).ceil() as usize;
    let serials = Arc::new(serials);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for k in 0..plan.kiosks.max(1) {
        let (endpoint, cards, serials, next, plan) = (
            endpoints[k % endpoints.len()].clone(),
            cards.clone(),
            serials.clone(),
            next.clone(),
            plan.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = started + Duration::from_secs_f64(i as f64 / plan.rate);
                let now = Instant::now();
                if now > due + Duration::from_millis(10) {
                    tally.late += 1;
                } else {
                    tokio::time::sleep_until(due.into()).await;
                }
                let (serial, pin) = &serials[i % serials.len()];
                let session = SessionPlan {
                    kiosk_id: format!("K-{k:05}"),
                    chain: "sim-mart".into(),
                    card_serial: serial.clone(),
                    pins: vec![pin.clone()],
                    certificate: plan.certificate.clone(),
                    household: Household::SelfOnly,
                    options: Vec::new(),
                    copies: 1,
                    outcome: Outcome::Printed,
                    requested_at: plan.requested_at.clone(),
                };
                tally.sessions += 1;
                match run_session(&mut conn, &cards, &session, None).await {
                    Ok((report, _)) if report.issuance_id.is_some() => {
                        tally.issued += 1;
                        if let Some(l) = report.issuance_latency {
                            tally.latencies.push(l);
                        }
                    }
                    Ok(_) => tally.refused += 1,
                    Err(_) => {
                        tally.errors += 1;
                        // The connection may be broken: start a fresh one.
                        conn = endpoint.connect().await?;
                    }
                }
            }
            Ok::<Tally, SimError>(tally)
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        let t = w
            .await
            .map_err(|e| SimError::Connection(format!("a kiosk stopped: {e}")))??;
        all.sessions += t.sessions;
        all.issued += t.issued;
        all.refused += t.refused;
        all.errors += t.errors;
        all.late += t.late;
        all.latencies.extend(t.latencies);
    }
    let seconds = started.elapsed().as_secs_f64();
    all.latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        let l = &all.latencies;
        if l.is_empty() {
            return 0.0;
        }
        let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        (l[i].as_secs_f64() * 1e4).round() / 10.0
    };
    Ok(LoadFigures {
        sessions: all.sessions,
        issued: all.issued,
        refused: all.refused,
        errors: all.errors,
        late: all.late,
        seconds,
        issuances_per_second: all.issued as f64 / seconds,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
    })
}

#[derive(Default)]
struct Tally {
    sessions: usize,
    issued: usize,
    refused: usize,
    errors: usize,
    late: usize,
    latencies: Vec<Duration>,
}
