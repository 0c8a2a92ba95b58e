//! One kiosk session as the center runs it: card and PIN (checked by the center),
//! inquiry, the resident's choice of options, issuance, payment, printing and the
//! outcome notice. Every step is recorded in a [`SessionReport`]; a refusal anywhere
//! ends the session with its reason, and any issuance the town made gets its outcome
//! notice, whatever happened at the kiosk.
//!
//! [`run_session_layered`] also prints the kiosk copy: the certificate under the
//! center's security layer ([`crate::layer`]), written as `NAME.kiosk.pdf` next to the
//! original. A copy the layer cannot be applied to is not printed: the outcome is
//! `print_failed` (refunded) and the reason is in the report's message.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::SimError;
use crate::cards::CardRegistry;
use crate::http::Connection;
use crate::layer::{kiosk_copy, kiosk_path};
use kofu_render::kiosk::LayerKey;

/// What happens at the kiosk after the town answers the issuance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Paid and printed.
    Printed,
    /// The printer failed.
    PrintFailed,
    /// Paper jam.
    PaperJam,
    /// The resident cancelled at the payment screen.
    Cancelled,
    /// The payment did not go through.
    PaymentFailed,
}

impl Outcome {
    /// Every outcome, in protocol order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Printed,
        Outcome::PrintFailed,
        Outcome::PaperJam,
        Outcome::Cancelled,
        Outcome::PaymentFailed,
    ];

    /// The protocol's code.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Printed => "printed",
            Outcome::PrintFailed => "print_failed",
            Outcome::PaperJam => "paper_jam",
            Outcome::Cancelled => "cancelled",
            Outcome::PaymentFailed => "payment_failed",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Outcome, String> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.code() == s)
            .ok_or_else(|| format!("unknown outcome {s:?}"))
    }
}

/// What a resident does at the kiosk.
#[derive(Clone, Debug)]
pub struct SessionPlan {
    /// The kiosk, e.g. `K-00001`.
    pub kiosk_id: String,
    /// Its store chain.
    pub chain: String,
    /// The card put on the reader.
    pub card_serial: String,
    /// The PINs typed, in order (the first right one opens the session).
    pub pins: Vec<String>,
    /// The certificate chosen (protocol code).
    pub certificate: String,
    /// `self`, `all`, or a number of household members to tick (the first N offered).
    pub household: Household,
    /// Options ticked, where the town offers them.
    pub options: Vec<String>,
    /// Copies.
    pub copies: u32,
    /// What happens after issuance.
    pub outcome: Outcome,
    /// The center's clock for `requested_at` (RFC 3339).
    pub requested_at: String,
}

/// The household members a resident chooses for a 住民票.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Household {
    /// Only themselves.
    SelfOnly,
    /// 世帯全員.
    All,
    /// The first N members offered.
    First(usize),
}

/// What happened in a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionReport {
    /// The kiosk.
    pub kiosk_id: String,
    /// The transaction's request ID.
    pub request_id: String,
    /// The card.
    pub card_serial: String,
    /// The certificate asked for.
    pub certificate: String,
    /// Refused by the center (card) or the town (reason code); `None` if issued.
    pub refused: Option<String>,
    /// The town's message for the screen, when refused.
    pub message: Option<String>,
    /// The issuance, when one was made.
    pub issuance_id: Option<String>,
    /// Issue numbers of the copies.
    pub issue_numbers: Vec<String>,
    /// Pages per copy.
    pub pages: Vec<u32>,
    /// The outcome reported, when an issuance was made.
    pub outcome: Option<String>,
    /// Fee charged.
    pub fee_yen: u64,
    /// PDFs written (printed copies only).
    pub printed: Vec<PathBuf>,
    /// Kiosk copies written next to them (with the security layer), when asked for.
    pub kiosk_copies: Vec<PathBuf>,
    /// The issuance call's latency.
    pub issuance_latency: Option<Duration>,
}

impl SessionReport {
    /// One line for a person reading the demo.
    pub fn line(&self) -> String {
        let head = format!(
            "{} card {} {}",
            self.kiosk_id, self.card_serial, self.certificate
        );
        match (&self.refused, &self.issuance_id) {
            (Some(reason), _) => format!(
                "{head}: refused {reason}{}",
                self.message
                    .as_deref()
                    .map(|m| format!(" 「{m}」"))
                    .unwrap_or_default()
            ),
            (None, Some(_)) => format!(
                "{head}: issued {} ({} page(s)), ¥{}, outcome {}{}{}",
                self.issue_numbers.join(", "),
                self.pages.iter().sum::<u32>(),
                self.fee_yen,
                self.outcome.as_deref().unwrap_or("-"),
                if self.printed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " → {}",
                        self.printed
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                if self.kiosk_copies.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (kiosk copies with the security layer: {})",
                        self.kiosk_copies
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            (None, None) => format!("{head}: nothing happened"),
        }
    }

    /// As JSON, for machines.
    pub fn json(&self) -> Value {
        json!({
            "kiosk": self.kiosk_id, "request_id": self.request_id, "card": self.card_serial,
            "certificate": self.certificate, "refused": self.refused, "message": self.message,
            "issuance_id": self.issuance_id, "issue_numbers": self.issue_numbers,
            "pages": self.pages, "outcome": self.outcome, "fee_yen": self.fee_yen,
            "printed": self.printed.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "kiosk_copies": self.kiosk_copies.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "issuance_ms": self.issuance_latency.map(|d| d.as_secs_f64() * 1000.0),
        })
    }
}

/// A PDF the town sent, checked against the digest it declared.
#[derive(Clone, Debug)]
pub struct Document {
    /// Copy number.
    pub copy: u32,
    /// 発行番号.
    pub issue_number: String,
    /// Pages.
    pub pages: u32,
    /// The PDF.
    pub pdf: Vec<u8>,
}

/// Runs one kiosk session over `conn`. `out_dir` receives the printed PDFs (named
/// after kiosk, request and copy); `None` prints nothing to disk (load tests).
pub async fn run_session(
    conn: &mut Connection,
    cards: &CardRegistry,
    plan: &SessionPlan,
    out_dir: Option<&std::path::Path>,
) -> Result<(SessionReport, Vec<Document>), SimError> {
    run_session_layered(conn, cards, plan, out_dir, None).await
}

/// As [`run_session`]; with a `layer` key, every copy printed to `out_dir` also gets
/// its kiosk copy (`NAME.kiosk.pdf`, see [`crate::layer`]).
pub async fn run_session_layered(
    conn: &mut Connection,
    cards: &CardRegistry,
    plan: &SessionPlan,
    out_dir: Option<&std::path::Path>,
    layer: Option<&LayerKey>,
) -> Result<(SessionReport, Vec<Document>), SimError> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut report = SessionReport {
        kiosk_id: plan.kiosk_id.clone(),
        request_id: request_id.clone(),
        card_serial: plan.card_serial.clone(),
        certificate: plan.certificate.clone(),
        ..SessionReport::default()
    };
    // The center checks the card itself: the town never hears of a bad PIN.
    let mut opened = false;
    for pin in &plan.pins {
        match cards.verify_pin(&plan.card_serial, pin) {
            Ok(()) => {
                opened = true;
                break;
            }
            Err(refusal) => report.refused = Some(refusal.code().to_owned()),
        }
    }
    if !opened {
        return Ok((report, Vec::new()));
    }
    report.refused = None;
    let kiosk = json!({"id": plan.kiosk_id, "chain": plan.chain});
    let inquiry = conn
        .post(
            "/lgwan/v1/inquiries",
            &json!({"request_id": request_id, "card_serial": plan.card_serial,
                    "certificate": plan.certificate, "kiosk": kiosk,
                    "requested_at": plan.requested_at}),
        )
        .await?;
    if inquiry.status != 200 {
        return Err(SimError::Protocol(format!(
            "inquiry answered {}: {}",
            inquiry.status, inquiry.body
        )));
    }
    if inquiry.body["available"] != true {
        report.refused = inquiry.body["reason"].as_str().map(str::to_owned);
        report.message = inquiry.body["message"].as_str().map(str::to_owned);
        return Ok((report, Vec::new()));
    }
    let choices = &inquiry.body["choices"];
    let mut options = serde_json::Map::new();
    if let Some(members) = choices["household_members"].as_array() {
        let household = match plan.household {
            Household::SelfOnly => json!("self"),
            Household::All => json!("all"),
            Household::First(n) => Value::Array(
                members
                    .iter()
                    .take(n.max(1))
                    .map(|m| m["member"].clone())
                    .collect(),
            ),
        };
        options.insert("household".into(), household);
    }
    let offered: Vec<&str> = choices["options"]
        .as_array()
        .map(|o| o.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for o in &plan.options {
        if offered.contains(&o.as_str()) {
            options.insert(o.clone(), json!(true));
        }
    }
    if let Some(year) = choices["tax_years"].as_array().and_then(|y| y.first()) {
        options.insert("tax_year".into(), year.clone());
    }
    let issuance_body = json!({"request_id": request_id, "card_serial": plan.card_serial,
        "certificate": plan.certificate, "options": options, "copies": plan.copies,
        "kiosk": kiosk, "requested_at": plan.requested_at});
    let started = Instant::now();
    let mut issued = conn.post("/lgwan/v1/issuances", &issuance_body).await?;
    // A timeout or a busy registry issued nothing: the center retries the same
    // request once, as the protocol allows.
    if issued.status == 503 {
        issued = conn.post("/lgwan/v1/issuances", &issuance_body).await?;
    }
    report.issuance_latency = Some(started.elapsed());
    if issued.status != 200 {
        report.refused = issued.body["error"]["code"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| Some(format!("http_{}", issued.status)));
        report.message = issued.body["error"]["message"].as_str().map(str::to_owned);
        return Ok((report, Vec::new()));
    }
    let issuance_id = issued.body["issuance_id"]
        .as_str()
        .ok_or_else(|| SimError::Protocol("issuance without issuance_id".into()))?
        .to_owned();
    report.issuance_id = Some(issuance_id.clone());
    report.fee_yen = issued.body["fee_yen"].as_u64().unwrap_or(0);
    let documents = decode_documents(&issued.body, plan.copies)?;
    report.issue_numbers = documents.iter().map(|d| d.issue_number.clone()).collect();
    report.pages = documents.iter().map(|d| d.pages).collect();

    let mut outcome = plan.outcome;
    // The center prints the kiosk copy, so it is made before anything is printed: a
    // document the layer fails on is a failed print.
    let mut kiosk_copies = Vec::new();
    if outcome == Outcome::Printed
        && out_dir.is_some()
        && let Some(key) = layer
    {
        for d in &documents {
            let pdf = d.pdf.clone();
            let key = key.clone();
            let made = tokio::task::spawn_blocking(move || kiosk_copy(&pdf, &key))
                .await
                .map_err(|e| SimError::Layer(e.to_string()))
                .and_then(|r| r);
            match made {
                Ok(copy) => kiosk_copies.push(copy),
                Err(e) => {
                    report.message = Some(e.to_string());
                    outcome = Outcome::PrintFailed;
                    break;
                }
            }
        }
    }
    if outcome == Outcome::Printed
        && let Some(dir) = out_dir
    {
        for (i, d) in documents.iter().enumerate() {
            let path = dir.join(format!("{}-{}-{}.pdf", plan.kiosk_id, request_id, d.copy));
            std::fs::write(&path, &d.pdf).map_err(|e| SimError::io(&path, e))?;
            if let Some(copy) = kiosk_copies.get(i) {
                let kiosk = kiosk_path(&path);
                std::fs::write(&kiosk, copy).map_err(|e| SimError::io(&kiosk, e))?;
                report.kiosk_copies.push(kiosk);
            }
            report.printed.push(path);
        }
    }
    let pages_printed: u32 = if outcome == Outcome::Printed {
        documents.iter().map(|d| d.pages).sum()
    } else {
        0
    };
    // Money is kept only for a certificate that came out of the printer; a failed
    // print is refunded at the kiosk.
    let fee_collected = if outcome == Outcome::Printed {
        report.fee_yen
    } else {
        0
    };
    let reported_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let notice = conn
        .post(
            "/lgwan/v1/outcomes",
            &json!({"request_id": request_id, "issuance_id": issuance_id,
                    "outcome": outcome.code(), "pages_printed": pages_printed,
                    "fee_collected_yen": fee_collected, "reported_at": reported_at}),
        )
        .await?;
    if notice.status != 200 || notice.body["recorded"] != true {
        return Err(SimError::Protocol(format!(
            "outcome notice answered {}: {}",
            notice.status, notice.body
        )));
    }
    report.outcome = Some(outcome.code().to_owned());
    Ok((report, documents))
}

/// The documents of an issuance answer, each PDF checked against its declared
/// sha256 (the center never prints a document that does not match).
pub fn decode_documents(body: &Value, copies: u32) -> Result<Vec<Document>, SimError> {
    let docs = body["documents"]
        .as_array()
        .ok_or_else(|| SimError::Protocol("issuance without documents".into()))?;
    if docs.len() != copies as usize {
        return Err(SimError::Protocol(format!(
            "{copies} copies asked, {} documents answered",
            docs.len()
        )));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    for d in docs {
        let pdf = engine
            .decode(d["pdf_base64"].as_str().unwrap_or_default())
            .map_err(|e| SimError::Protocol(format!("pdf_base64: {e}")))?;
        let digest: String = Sha256::digest(&pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if Some(digest.as_str()) != d["sha256"].as_str() || !pdf.starts_with(b"%PDF-") {
            return Err(SimError::Protocol(
                "a document does not match its sha256".into(),
            ));
        }
        out.push(Document {
            copy: u32::try_from(d["copy"].as_u64().unwrap_or(0)).unwrap_or(0),
            issue_number: d["issue_number"].as_str().unwrap_or_default().to_owned(),
            pages: u32::try_from(d["pages"].as_u64().unwrap_or(0)).unwrap_or(0),
            pdf,
        });
    }
    Ok(out)
}
