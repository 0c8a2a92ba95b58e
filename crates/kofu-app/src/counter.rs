//! The counter path (窓口交付): what a clerk's session asks of the office — resident
//! search, issuance, preview, void. Every call takes the session, checks its right in
//! [`crate::staff::allowed`] and is audited under the clerk's own login.
//!
//! Issuance follows the kiosk path's rules: reads and the eligibility decision before
//! the write transaction, the registry version checked inside it (an import in
//! between sends the request round again), one 発行番号 per copy from the terminal's
//! printer, the same rendering core, no PDF kept.

use std::collections::HashSet;

use kofu_domain::date::local_date_time;
use kofu_domain::eligibility::{EligibilityRequest, RefusalReason, decide};
use kofu_domain::records::SuppressionScope;
use kofu_domain::search::NameQuery;
use kofu_domain::{
    Applicant, CertificateKind, CertificateOptions, Channel, Date, Decision, IssueNumber,
    IssuePoint, ResidentStatus, compute_fee,
};
use kofu_store::ledger::{DAY_CLOSES, FEES, ISSUANCE_EVENTS, ISSUANCES, ISSUED_COPIES};
use kofu_store::{AuditEntry, Cell, ResidentQuery};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::certificate::{
    CertificateRequest, Loaded, SubjectRef, check_eligibility, load, render_loaded,
};
use crate::kiosk::IssuedDocument;
use crate::staff::{Action, StaffSession};
use crate::{AppError, Office};

/// The most residents one search answers; a clerk narrows the query beyond that.
pub const SEARCH_LIMIT: u32 = 50;

/// What a clerk searches by; every criterion given must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResidentSearch {
    /// The name as typed (kanji, kana or romaji).
    pub name: Option<String>,
    /// The date of birth.
    pub birth_date: Option<Date>,
    /// Text the address contains.
    pub address: Option<String>,
}

/// What a clerk must see before going on with a resident.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResidentFlags {
    /// 支援措置 on the resident or a household member: stop for the support officer.
    pub support_measure: bool,
    /// 発行抑止 on the resident or the household, started.
    pub suppression: bool,
    /// 転出 done or notified.
    pub moved_out: bool,
    /// 死亡.
    pub deceased: bool,
}

/// One resident found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResidentHit {
    /// Resident ID.
    pub resident_id: String,
    /// Household ID.
    pub household_id: String,
    /// The name exactly as registered.
    pub name: String,
    /// The reading (kana).
    pub reading: String,
    /// Date of birth, ISO 8601.
    pub birth_date: String,
    /// Address.
    pub address: String,
    /// Status flags.
    pub flags: ResidentFlags,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Office {
    /// Looks residents up for a clerk; the search (who, what was asked, who was
    /// found) is audited.
    pub async fn search_residents(
        &self,
        session: &StaffSession,
        q: &ResidentSearch,
        now: OffsetDateTime,
    ) -> Result<Vec<ResidentHit>, AppError> {
        self.authorize(session, Action::SearchResidents, now)
            .await?;
        let name = match q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(NameQuery::parse(n).ok_or_else(|| AppError::BadRequest {
                field: "name",
                reason: "nothing searchable in the name".into(),
            })?),
            None => None,
        };
        let query = ResidentQuery {
            name,
            birth_date: q.birth_date,
            address: q.address.clone().filter(|a| !a.trim().is_empty()),
        };
        if query.is_empty() {
            // An empty query would list nobody; asking for everybody is not a search.
            return Err(AppError::BadRequest {
                field: "name",
                reason: "give a name, a birth date or an address".into(),
            });
        }
        let (today, _) = local_date_time(now);
        let found = self.store.search(&query, SEARCH_LIMIT).await?;
        // The flags of the whole page in three batched reads, not three per hit.
        let mut households: Vec<String> = found.iter().map(|r| r.household_id.clone()).collect();
        households.sort();
        households.dedup();
        let members = self.store.household_member_ids(&households).await?;
        let subjects: Vec<String> = found.iter().map(|r| r.resident_id.clone()).collect();
        let mut everyone: Vec<String> = members.iter().map(|(_, id)| id.clone()).collect();
        everyone.extend(subjects.iter().cloned());
        everyone.sort();
        everyone.dedup();
        let measured: HashSet<String> = self
            .store
            .support_measures(&everyone)
            .await?
            .into_iter()
            .map(|m| m.resident_id)
            .collect();
        let suppressions = self.store.suppressions_of(&subjects, &households).await?;
        let mut hits = Vec::with_capacity(found.len());
        for r in found {
            // Fail closed: a measure past its planned end is still in force.
            let support_measure = measured.contains(&r.resident_id)
                || members
                    .iter()
                    .any(|(h, id)| *h == r.household_id && measured.contains(id));
            let suppression = suppressions.iter().any(|s| {
                s.from <= today
                    && match s.scope {
                        SuppressionScope::Person => s.id == r.resident_id,
                        SuppressionScope::Household => s.id == r.household_id,
                    }
            });
            hits.push(ResidentHit {
                flags: ResidentFlags {
                    support_measure,
                    suppression,
                    moved_out: matches!(
                        r.status,
                        ResidentStatus::MovedOut | ResidentStatus::MovingOut
                    ),
                    deceased: r.status == ResidentStatus::Deceased,
                },
                name: r.full_name(),
                reading: format!("{} {}", r.family_kana, r.given_kana),
                birth_date: r.birth_date.to_string(),
                address: r.address,
                resident_id: r.resident_id,
                household_id: r.household_id,
            });
        }
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "counter.search".into(),
            target: String::new(),
            detail: serde_json::json!({
                "query": {
                    "name": q.name,
                    "birth_date": q.birth_date.map(|d| d.to_string()),
                    "address": q.address,
                },
                "found": hits.iter().map(|h| h.resident_id.as_str()).collect::<Vec<_>>(),
            })
            .to_string(),
        })
        .await?;
        Ok(hits)
    }
}

// ---------------------------------------------------------------------------------------
// Counter issuance, preview and void

/// How the applicant proved who they are: one photo ID, or two without a photo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IdentityCheck {
    /// Photo IDs seen (運転免許証, マイナンバーカード, パスポート…).
    pub photo: Vec<String>,
    /// Documents without a photo seen (健康保険証, 年金手帳…).
    pub non_photo: Vec<String>,
}

impl IdentityCheck {
    /// Whether the documents seen are enough.
    pub fn is_sufficient(&self) -> bool {
        let named = |d: &&String| !d.trim().is_empty();
        self.photo.iter().filter(named).count() >= 1
            || self.non_photo.iter().filter(named).count() >= 2
    }
}

/// How the fee is paid at the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// Cash at the counter.
    Cash,
    /// Card or QR payment.
    Cashless,
}

impl Payment {
    fn code(self) -> &'static str {
        match self {
            Payment::Cash => "cash",
            Payment::Cashless => "cashless",
        }
    }
}

/// A counter request for one certificate.
#[derive(Clone, Debug)]
pub struct CounterRequest {
    /// The terminal's idempotency key for this issuance (8 to 64 of `A-Za-z0-9-_`):
    /// a retry after a lost answer gets the same issuance back, never a second one.
    /// Ignored by the preview.
    pub request_id: String,
    /// Who asks.
    pub applicant: Applicant,
    /// The documents the clerk checked.
    pub identity: IdentityCheck,
    /// The certificate.
    pub kind: CertificateKind,
    /// Whom it is about.
    pub subject: SubjectRef,
    /// Options chosen.
    pub options: CertificateOptions,
    /// 1..=10.
    pub copies: u32,
    /// The clerk's terminal, e.g. `本庁1`.
    pub terminal: String,
    /// Its printer, e.g. `P001`.
    pub printer: String,
    /// How the fee is paid (ignored when exempt).
    pub payment: Payment,
    /// Why a support-measure stop is overridden (支援措置責任者 only).
    pub override_reason: Option<String>,
}

/// Something the clerk must read before handing the certificate over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClerkWarning {
    /// Stable code (`suppression_warning`…).
    pub code: String,
    /// What to check, in the registry's words.
    pub detail: String,
}

/// A certificate issued (or previewed) at the counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterIssued {
    /// The issuance (empty for a preview).
    pub issuance_id: String,
    /// The receipt number (empty for a preview).
    pub receipt_no: String,
    /// The fee to take.
    pub fee_yen: u32,
    /// The exemption's reason (公用).
    pub exemption: Option<String>,
    /// The clerk's warnings.
    pub warnings: Vec<ClerkWarning>,
    /// One per copy.
    pub documents: Vec<IssuedDocument>,
    /// Whether this answers a retry of an issuance already made (nothing new was
    /// numbered or charged).
    pub replayed: bool,
}

/// What the ledger keeps of a counter request, enough to reproduce its copies.
#[derive(Serialize, serde::Deserialize)]
struct CounterItems {
    subject: SubjectRef,
    options: CertificateOptions,
    identity: IdentityCheck,
    payment: Payment,
    override_reason: Option<String>,
    warnings: Vec<ClerkWarning>,
}

/// The digest a retry must match: everything the clerk asked, and who asked.
fn counter_request_digest(login: &str, r: &CounterRequest) -> String {
    let canonical = serde_json::json!({
        "staff": login,
        "applicant": r.applicant,
        "identity": r.identity,
        "kind": r.kind.code(),
        "subject": r.subject,
        "options": r.options,
        "copies": r.copies,
        "terminal": r.terminal,
        "printer": r.printer,
        "payment": r.payment,
        "override_reason": r.override_reason,
    });
    sha256_hex(canonical.to_string().as_bytes())
}

fn check_request_id(id: &str) -> Result<(), AppError> {
    let ok = (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest {
            field: "request_id",
            reason: "8 to 64 characters of A-Z, a-z, 0-9, '-' and '_'".into(),
        })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn printable(field: &'static str, s: &str) -> Result<(), AppError> {
    if s.is_empty() || s.chars().count() > 32 || s.contains('/') || s.chars().any(char::is_control)
    {
        return Err(AppError::BadRequest {
            field,
            reason: "1 to 32 characters, no '/'".into(),
        });
    }
    Ok(())
}

/// The option matrix as the counter offers it: for each kind, the options a counter
/// request may choose (what the counter app's form shows).
pub fn counter_option_matrix() -> Vec<(CertificateKind, Vec<kofu_domain::CertificateOption>)> {
    CertificateKind::ALL
        .into_iter()
        .map(|k| (k, k.accepted_options(kofu_domain::Channel::Counter)))
        .collect()
}

impl Office {
    /// Checks a counter request and decides eligibility; a support-measure stop is
    /// lifted only for a support officer who gives a reason. Returns the request to
    /// render, the loaded data, the warnings and whether an override was used.
    async fn counter_decide(
        &self,
        session: &StaffSession,
        r: &CounterRequest,
        request_id: &str,
        now: OffsetDateTime,
    ) -> Result<(CertificateRequest, Loaded, Vec<ClerkWarning>, bool), AppError> {
        if !r.identity.is_sufficient() {
            return Err(AppError::BadRequest {
                field: "identity",
                reason: "one photo ID or two documents without a photo".into(),
            });
        }
        if !(1..=kofu_domain::fee::MAX_COPIES).contains(&r.copies) {
            return Err(AppError::BadRequest {
                field: "copies",
                reason: format!("must be 1..=10, not {}", r.copies),
            });
        }
        printable("terminal", &r.terminal)?;
        printable("printer", &r.printer)?;
        if self.settings.offline.is_some() && r.options.show_my_number {
            // The replica holds no 個人番号 (see `offline::without_my_number`): asked
            // for offline, it is refused rather than silently left off.
            return Err(AppError::BadRequest {
                field: "options.show_my_number",
                reason: "個人番号 is not printed offline (the terminal's replica does not hold it)"
                    .into(),
            });
        }
        self.check_terminal(&r.terminal, &r.printer).await?;
        let override_reason = r.override_reason.as_deref().map(str::trim);
        if let Some(reason) = override_reason {
            self.authorize(session, Action::OverrideSupportMeasure, now)
                .await?;
            if reason.is_empty() {
                return Err(AppError::BadRequest {
                    field: "override_reason",
                    reason: "an override needs its reason".into(),
                });
            }
        }
        let town = self
            .store
            .municipality()
            .await?
            .ok_or_else(|| AppError::NotFound("municipality".into()))?;
        let req = counter_certificate(r, &town.name, request_id, now, 0);
        match check_eligibility(&self.store, &req).await {
            Ok((data, warnings)) => Ok((req, data, describe(&warnings), false)),
            Err(AppError::Refused(refusal))
                if refusal.reason == RefusalReason::SupportMeasure && override_reason.is_some() =>
            {
                // Decide again without the measures: every other rule still applies.
                let data = load(&self.store, &req, None).await?;
                let decision = decide(
                    &EligibilityRequest {
                        kind: req.kind,
                        channel: req.channel,
                        at: req.at,
                        tax_year: req.options.tax_year,
                    },
                    &data.subject_data(None, false),
                );
                match decision {
                    Decision::Refused(r) => Err(AppError::Refused(r)),
                    Decision::Issuable { warnings } => Ok((req, data, describe(&warnings), true)),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// 窓口交付: issues `copies` copies, each with its own 発行番号 from the terminal's
    /// printer, records them with the clerk, the applicant and the fee, and answers
    /// the PDFs (kept nowhere). A retry with the same `request_id` answers the same
    /// issuance again; a closed day takes no more issuances.
    pub async fn counter_issue(
        &self,
        session: &StaffSession,
        r: &CounterRequest,
        now: OffsetDateTime,
    ) -> Result<CounterIssued, AppError> {
        match self.counter_issue_unchecked(session, r, now).await {
            Ok(issued) => Ok(issued),
            Err(e) => Err(self.render_alert(e, session, r, now).await),
        }
    }

    /// A 外字 or an overflow found while rendering a counter request: recorded for the
    /// supervisor's review (`counter.render_alert`), and answered to the clerk.
    async fn render_alert(
        &self,
        e: AppError,
        session: &StaffSession,
        r: &CounterRequest,
        now: OffsetDateTime,
    ) -> AppError {
        if !matches!(e, AppError::Render(_)) {
            return e;
        }
        let target = match &r.subject {
            SubjectRef::Resident(id) => id.clone(),
            SubjectRef::Koseki {
                koseki_id,
                member_no,
            } => member_no.map_or_else(|| koseki_id.clone(), |n| format!("{koseki_id}/{n}")),
        };
        let context = serde_json::json!({"certificate": r.kind.code(), "terminal": r.terminal});
        self.alert(
            e,
            "counter.render_alert",
            &session.login,
            &target,
            context,
            now,
        )
        .await
    }

    async fn counter_issue_unchecked(
        &self,
        session: &StaffSession,
        r: &CounterRequest,
        now: OffsetDateTime,
    ) -> Result<CounterIssued, AppError> {
        self.authorize(session, Action::IssueCertificate, now)
            .await?;
        check_request_id(&r.request_id)?;
        self.check_offline_bounds(now).await?;
        // Namespaced: a terminal's key can never collide with a relay center's.
        // Offline, the key names the terminal too: a request first sent online (its
        // answer lost) and then issued offline lands twice, and is flagged, rather
        // than blocking the terminal's upload on a taken key.
        let key = match &self.settings.offline {
            None => format!("counter:{}", r.request_id),
            Some(t) => format!("offline:{}:{}", t.terminal, r.request_id),
        };
        let digest = counter_request_digest(&session.login, r);
        for _ in 0..4 {
            let (previous, version) = self.issuance_and_version(&key).await?;
            if let Some(previous) = previous {
                return self.counter_replay(&digest, previous).await;
            }
            let issuance_id = uuid::Uuid::new_v4().to_string();
            // The feed position the decision is made on (offline: the replica's), so
            // that a later change to the subject can be found after a sync.
            let registry_seq = self.store.feed_state().await?.map(|f| f.last_seq);
            let (mut cert_req, data, warnings, overridden) =
                self.counter_decide(session, r, &issuance_id, now).await?;
            let mut tx = self.store.begin_ledger().await?;
            if tx.registry_version() != version {
                continue; // an import committed since the reads: decide again
            }
            refuse_closed_day(&mut tx, cert_req.number.date).await?;
            let day = cert_req.number.date.compact();
            let point = format!("{}/{}", r.terminal, r.printer);
            let mut documents = Vec::new();
            let mut subject_id = String::new();
            for copy in 1..=r.copies {
                cert_req.number.serial = match &self.settings.offline {
                    None => tx.next_serial(&day, &point).await?,
                    // Offline: from the ranges the server reserved for this terminal.
                    Some(_) => tx.take_offline_serial().await?.ok_or_else(|| {
                        AppError::OfflineLimit("no reserved offline issue numbers are left".into())
                    })?,
                };
                let cert = render_loaded(&self.fonts, &cert_req, &data, Vec::new())?;
                subject_id = cert.subject_id.clone();
                documents.push(IssuedDocument {
                    copy,
                    issue_number: cert_req.number.to_string(),
                    pages: u32::try_from(cert.pdf.pages).unwrap_or(u32::MAX),
                    sha256: sha256_hex(&cert.pdf.bytes),
                    pdf: cert.pdf.bytes,
                });
            }
            let exemption = match &r.applicant {
                Applicant::Official { office } => Some(format!("公用: {office}")),
                _ => None,
            };
            let fee = compute_fee(
                &data.town,
                r.kind,
                Channel::Counter,
                r.copies,
                exemption.as_deref(),
            )
            .map_err(|e| AppError::BadRequest {
                field: "copies",
                reason: e.to_string(),
            })?;
            let receipt_no = match &self.settings.offline {
                None => {
                    let receipt_serial = tx
                        .next_serial(&day, &format!("receipt/{}", r.terminal))
                        .await?;
                    format!("{day}-{}-{receipt_serial:04}", r.terminal)
                }
                // Offline receipts carry the last copy's reserved serial: they can
                // never meet an online receipt's number.
                Some(_) => format!("{day}-{}-OFF{}", r.terminal, cert_req.number.serial),
            };
            let applicant =
                serde_json::to_string(&r.applicant).map_err(|e| AppError::BadRequest {
                    field: "applicant",
                    reason: e.to_string(),
                })?;
            let override_reason = overridden.then(|| r.override_reason.clone()).flatten();
            let items = serde_json::to_string(&CounterItems {
                subject: r.subject.clone(),
                options: r.options.clone(),
                identity: r.identity.clone(),
                payment: r.payment,
                override_reason: override_reason.clone(),
                warnings: warnings.clone(),
            })
            .map_err(|e| AppError::BadRequest {
                field: "options",
                reason: e.to_string(),
            })?;
            let pages: u32 = documents.iter().map(|d| d.pages).sum();
            let at = rfc3339(now);
            let rows = async {
                tx.append(
                    &ISSUANCES,
                    vec![
                        text(&issuance_id),
                        text(&key),
                        text(&digest),
                        text("counter"),
                        text(&point),
                        text(&session.login),
                        text(applicant),
                        text(&subject_id),
                        text(r.kind.code()),
                        text(items),
                        Cell::Int(i64::from(r.copies)),
                        Cell::Int(i64::from(pages)),
                        Cell::Int(i64::from(fee.total_yen)),
                        text(&at),
                    ],
                )
                .await?;
                for d in &documents {
                    tx.append(
                        &ISSUED_COPIES,
                        vec![
                            text(&issuance_id),
                            Cell::Int(i64::from(d.copy)),
                            text(&d.issue_number),
                            Cell::Int(i64::from(d.pages)),
                            text(&d.sha256),
                        ],
                    )
                    .await?;
                }
                tx.append(
                    &FEES,
                    vec![
                        text(uuid::Uuid::new_v4().to_string()),
                        text(&issuance_id),
                        text(r.kind.code()),
                        text("counter"),
                        Cell::Int(i64::from(fee.total_yen)),
                        text(if fee.exemption.is_some() {
                            "exempt"
                        } else {
                            r.payment.code()
                        }),
                        fee.exemption.clone().map_or(Cell::Null, text),
                        text(&receipt_no),
                        text(&session.login),
                        text(&at),
                    ],
                )
                .await?;
                tx.commit(AuditEntry {
                    at,
                    actor: session.login.clone(),
                    action: if overridden {
                        "counter.issue_override".into()
                    } else {
                        "counter.issue".into()
                    },
                    target: subject_id,
                    detail: serde_json::json!({
                        "request_id": r.request_id,
                        "issuance_id": issuance_id,
                        "certificate": r.kind.code(),
                        "copies": r.copies,
                        "issue_numbers": documents.iter().map(|d| d.issue_number.as_str()).collect::<Vec<_>>(),
                        "override_reason": override_reason,
                        "registry_seq": registry_seq,
                        "offline": self.settings.offline.is_some(),
                    })
                    .to_string(),
                })
                .await
            };
            match rows.await {
                Ok(_) => {}
                // A twin of this request (the same key) committed first: answer it.
                Err(e) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
            return Ok(CounterIssued {
                issuance_id,
                receipt_no,
                fee_yen: fee.total_yen,
                exemption: fee.exemption,
                warnings,
                documents,
                replayed: false,
            });
        }
        Err(AppError::Busy)
    }

    /// A retry of a counter issuance already made: the same numbers, receipt and fee,
    /// the copies re-rendered from the same inputs and checked against the digests
    /// the ledger holds (the registry changed since: not reproducible, void and
    /// issue anew).
    async fn counter_replay(
        &self,
        digest: &str,
        row: Vec<Cell>,
    ) -> Result<CounterIssued, AppError> {
        let issuance_id = text_of(row.first());
        if text_of(row.get(1)) != digest || text_of(row.get(6)) != "counter" {
            return Err(AppError::RequestIdReused);
        }
        let unreproducible = || AppError::NotReproducible(issuance_id.clone());
        let items: CounterItems =
            serde_json::from_str(&text_of(row.get(3))).map_err(|_| unreproducible())?;
        let kind: CertificateKind = text_of(row.get(2)).parse().map_err(|_| unreproducible())?;
        let at = OffsetDateTime::parse(
            &text_of(row.get(7)),
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| unreproducible())?;
        let point = text_of(row.get(8));
        let applicant: Applicant =
            serde_json::from_str(&text_of(row.get(9))).map_err(|_| unreproducible())?;
        let (terminal, printer) = point.split_once('/').ok_or_else(unreproducible)?;
        let copies = self
            .store
            .ledger_query(
                "SELECT copy, issue_number, pages, sha256 FROM issued_copies \
                 WHERE issuance_id = $1 ORDER BY copy",
                &[text(&issuance_id)],
                &[true, false, true, false],
            )
            .await?;
        // The first fee row is the one taken at issuance (a void adds a reversal).
        let fees = self
            .store
            .ledger_query(
                "SELECT receipt_no, exemption FROM fees \
                 WHERE issuance_id = $1 AND receipt_no IS NOT NULL",
                &[text(&issuance_id)],
                &[false, false],
            )
            .await?;
        let first_fee = fees.first().ok_or_else(unreproducible)?;
        let town = self
            .store
            .municipality()
            .await?
            .ok_or_else(|| AppError::NotFound("municipality".into()))?;
        let shape = CounterRequest {
            request_id: String::new(),
            applicant,
            identity: items.identity.clone(),
            kind,
            subject: items.subject,
            options: items.options,
            copies: 0,
            terminal: terminal.to_owned(),
            printer: printer.to_owned(),
            payment: items.payment,
            override_reason: None,
        };
        let mut cert_req = counter_certificate(&shape, &town.name, &issuance_id, at, 0);
        let data = load(&self.store, &cert_req, None).await?;
        let mut documents = Vec::new();
        for c in &copies {
            let number = text_of(c.get(1));
            cert_req.number.serial = number
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(unreproducible)?;
            let cert = render_loaded(&self.fonts, &cert_req, &data, Vec::new())
                .map_err(|_| unreproducible())?;
            let sha256 = sha256_hex(&cert.pdf.bytes);
            if sha256 != text_of(c.get(3)) {
                return Err(unreproducible());
            }
            documents.push(IssuedDocument {
                copy: u32::try_from(int(c.first())).unwrap_or(0),
                issue_number: number,
                pages: u32::try_from(int(c.get(2))).unwrap_or(0),
                sha256,
                pdf: cert.pdf.bytes,
            });
        }
        Ok(CounterIssued {
            issuance_id: issuance_id.clone(),
            receipt_no: text_of(first_fee.first()),
            fee_yen: u32::try_from(int(row.get(4))).unwrap_or(0),
            exemption: match first_fee.get(1) {
                Some(Cell::Text(t)) => Some(t.clone()),
                _ => None,
            },
            warnings: items.warnings,
            documents,
            replayed: true,
        })
    }

    /// Renders what an issuance would print, without numbers or ledger rows; the view
    /// is audited.
    pub async fn counter_preview(
        &self,
        session: &StaffSession,
        r: &CounterRequest,
        now: OffsetDateTime,
    ) -> Result<CounterIssued, AppError> {
        match self.counter_preview_unchecked(session, r, now).await {
            Ok(shown) => Ok(shown),
            Err(e) => Err(self.render_alert(e, session, r, now).await),
        }
    }

    async fn counter_preview_unchecked(
        &self,
        session: &StaffSession,
        r: &CounterRequest,
        now: OffsetDateTime,
    ) -> Result<CounterIssued, AppError> {
        self.authorize(session, Action::PreviewCertificate, now)
            .await?;
        let request_id = uuid::Uuid::new_v4().to_string();
        let (cert_req, data, warnings, overridden) =
            self.counter_decide(session, r, &request_id, now).await?;
        let cert = render_loaded(&self.fonts, &cert_req, &data, Vec::new())?;
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "counter.view".into(),
            target: cert.subject_id.clone(),
            detail: serde_json::json!({
                "preview": request_id, "certificate": r.kind.code(), "override": overridden,
            })
            .to_string(),
        })
        .await?;
        Ok(CounterIssued {
            issuance_id: String::new(),
            receipt_no: String::new(),
            fee_yen: 0,
            exemption: None,
            warnings,
            documents: vec![IssuedDocument {
                copy: 1,
                issue_number: String::new(),
                pages: u32::try_from(cert.pdf.pages).unwrap_or(u32::MAX),
                sha256: sha256_hex(&cert.pdf.bytes),
                pdf: cert.pdf.bytes,
            }],
            replayed: false,
        })
    }

    /// Records whether a printed copy of a counter issuance reached the printer
    /// (`printed`) or not (`failed`, with why): a `print` event the supervisor's day
    /// report lists when it failed. The terminal reports each print job; a repeat is
    /// one more event, not an error.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_print_outcome(
        &self,
        session: &StaffSession,
        issuance_id: &str,
        copy: u32,
        outcome: &str,
        job: Option<&str>,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.authorize(session, Action::IssueCertificate, now)
            .await?;
        if !matches!(outcome, "printed" | "failed") {
            return Err(AppError::BadRequest {
                field: "outcome",
                reason: "printed or failed".into(),
            });
        }
        for (field, value) in [("job", job), ("detail", detail)] {
            if value.is_some_and(|v| v.chars().count() > 500) {
                return Err(AppError::BadRequest {
                    field,
                    reason: "at most 500 characters".into(),
                });
            }
        }
        let mut tx = self.store.begin_ledger().await?;
        let issuance = tx
            .rows_where(&ISSUANCES, "issuance_id", issuance_id)
            .await?
            .into_iter()
            .next()
            .filter(|row| is_text(row.get(3), "counter"))
            .ok_or(AppError::UnknownIssuance)?;
        let copies = match issuance.get(10) {
            Some(Cell::Int(n)) => *n,
            _ => 0,
        };
        if copy == 0 || i64::from(copy) > copies {
            return Err(AppError::BadRequest {
                field: "copy",
                reason: format!("this issuance has copies 1 to {copies}"),
            });
        }
        let at = rfc3339(now);
        let detail = serde_json::json!({
            "copy": copy, "outcome": outcome, "job": job, "detail": detail,
        })
        .to_string();
        tx.append(
            &ISSUANCE_EVENTS,
            event_row(issuance_id, "print", &detail, &session.login, &at),
        )
        .await?;
        tx.commit(AuditEntry {
            at,
            actor: session.login.clone(),
            action: "counter.print_outcome".into(),
            target: issuance_id.to_owned(),
            detail,
        })
        .await?;
        Ok(())
    }

    /// Voids a counter issuance (処分情報): a `void` event and a reversing fee row.
    /// Voiding twice is refused.
    pub async fn counter_void(
        &self,
        session: &StaffSession,
        issuance_id: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.authorize(session, Action::VoidIssuance, now).await?;
        if reason.trim().is_empty() {
            return Err(AppError::BadRequest {
                field: "reason",
                reason: "a void needs its reason".into(),
            });
        }
        let mut tx = self.store.begin_ledger().await?;
        // Two voids at once (two supervisors, two servers): the second sees the first.
        tx.lock_issuance(issuance_id).await?;
        // The reversal is booked today: a signed-off today takes none.
        refuse_closed_day(&mut tx, local_date_time(now).0).await?;
        let issuance = tx
            .rows_where(&ISSUANCES, "issuance_id", issuance_id)
            .await?
            .into_iter()
            .next()
            .ok_or(AppError::UnknownIssuance)?;
        let events = tx
            .rows_where(&ISSUANCE_EVENTS, "issuance_id", issuance_id)
            .await?;
        if events
            .iter()
            .any(|e| matches!(e.get(2), Some(Cell::Text(t)) if t == "void"))
        {
            return Err(AppError::BadRequest {
                field: "issuance_id",
                reason: "already voided".into(),
            });
        }
        let fees = tx.rows_where(&FEES, "issuance_id", issuance_id).await?;
        let paid: i64 = fees
            .iter()
            .map(|f| match f.get(4) {
                Some(Cell::Int(n)) => *n,
                _ => 0,
            })
            .sum();
        let at = rfc3339(now);
        let detail = serde_json::json!({"reason": reason.trim()}).to_string();
        tx.append(
            &ISSUANCE_EVENTS,
            event_row(issuance_id, "void", &detail, &session.login, &at),
        )
        .await?;
        let cell = |i: usize| issuance.get(i).cloned().unwrap_or(Cell::Null);
        // The reversal is booked under the method the fee was taken by, so that the
        // day's expected cash is right.
        let method = fees
            .first()
            .and_then(|f| f.get(5).cloned())
            .unwrap_or_else(|| text("cash"));
        tx.append(
            &FEES,
            vec![
                text(uuid::Uuid::new_v4().to_string()),
                text(issuance_id),
                cell(8),
                cell(3),
                Cell::Int(-paid),
                method,
                text(format!("void: {}", reason.trim())),
                Cell::Null,
                text(&session.login),
                text(&at),
            ],
        )
        .await?;
        tx.commit(AuditEntry {
            at,
            actor: session.login.clone(),
            action: "counter.void".into(),
            target: issuance_id.to_owned(),
            detail,
        })
        .await?;
        Ok(())
    }
}

fn describe(warnings: &[kofu_domain::eligibility::Warning]) -> Vec<ClerkWarning> {
    warnings
        .iter()
        .map(|w| ClerkWarning {
            code: w.code.to_owned(),
            detail: w.detail.clone(),
        })
        .collect()
}

/// The rendering request of a counter issuance (serial 0 until numbered).
fn counter_certificate(
    r: &CounterRequest,
    town: &str,
    request_id: &str,
    at: OffsetDateTime,
    serial: u32,
) -> CertificateRequest {
    let (date, _) = local_date_time(at);
    CertificateRequest {
        request_id: request_id.to_owned(),
        kind: r.kind,
        subject: r.subject.clone(),
        options: r.options.clone(),
        channel: Channel::Counter,
        applicant: Some(r.applicant.clone()),
        at,
        number: IssueNumber {
            date,
            municipality: town.to_owned(),
            point: IssuePoint::Counter {
                terminal: r.terminal.clone(),
                printer: r.printer.clone(),
            },
            serial,
        },
        card: None,
    }
}

/// A signed-off day takes no more issuances or voids: its totals are sealed.
async fn refuse_closed_day(tx: &mut kofu_store::LedgerTx, day: Date) -> Result<(), AppError> {
    if tx
        .rows_where(&DAY_CLOSES, "day", &day.to_string())
        .await?
        .is_empty()
    {
        Ok(())
    } else {
        Err(AppError::DayClosed(day.to_string()))
    }
}

// ---------------------------------------------------------------------------------------
// The day close (日計・締め)

/// The counter's money and work of one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    /// Cash expected in the till: cash fees less cash reversals.
    pub cash_yen: i64,
    /// Cashless payments, less their reversals.
    pub cashless_yen: i64,
    /// Fee-exempt (公用) issuances.
    pub exempt: i64,
    /// Counter issuances.
    pub issuances: i64,
    /// Voids recorded.
    pub voids: i64,
}

/// A day signed off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayClose {
    /// The day (local).
    pub day: String,
    /// Its totals.
    pub totals: DayTotals,
    /// Cash counted in the till.
    pub counted_cash_yen: i64,
    /// Counted less expected.
    pub difference_yen: i64,
    /// The audit chain head the seal covers.
    pub audit_head: String,
}

fn local_day(at: Option<&Cell>) -> Option<Date> {
    match at {
        Some(Cell::Text(t)) => {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|i| local_date_time(i).0)
        }
        _ => None,
    }
}

fn int(cell: Option<&Cell>) -> i64 {
    match cell {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

/// An `issuance_events` row: a new event ID, then what happened to which issuance,
/// by whom, when.
fn event_row(issuance_id: &str, event: &str, detail: &str, staff: &str, at: &str) -> Vec<Cell> {
    vec![
        text(uuid::Uuid::new_v4().to_string()),
        text(issuance_id),
        text(event),
        text(detail),
        text(staff),
        text(at),
    ]
}

fn is_text(cell: Option<&Cell>, value: &str) -> bool {
    matches!(cell, Some(Cell::Text(t)) if t == value)
}

impl Office {
    async fn totals_in(
        &self,
        tx: &mut kofu_store::LedgerTx,
        day: Date,
    ) -> Result<DayTotals, AppError> {
        let mut t = DayTotals::default();
        for f in tx.rows_where(&FEES, "channel", "counter").await? {
            if local_day(f.get(9)) != Some(day) {
                continue;
            }
            let amount = int(f.get(4));
            if is_text(f.get(5), "cash") {
                t.cash_yen += amount;
            } else if is_text(f.get(5), "cashless") {
                t.cashless_yen += amount;
            } else if is_text(f.get(5), "exempt") {
                t.exempt += 1;
            }
        }
        t.issuances = tx
            .rows_where(&ISSUANCES, "channel", "counter")
            .await?
            .iter()
            .filter(|i| local_day(i.get(13)) == Some(day))
            .count() as i64;
        t.voids = tx
            .rows_where(&ISSUANCE_EVENTS, "event", "void")
            .await?
            .iter()
            .filter(|e| local_day(e.get(5)) == Some(day))
            .count() as i64;
        Ok(t)
    }

    /// The day's expected money by method, for counting the till (read only).
    pub async fn day_totals(
        &self,
        session: &StaffSession,
        day: Date,
        now: OffsetDateTime,
    ) -> Result<DayTotals, AppError> {
        self.authorize(session, Action::CountCash, now).await?;
        let mut tx = self.store.begin_ledger().await?;
        // Read in a ledger transaction so that totals and rows are one snapshot; it
        // writes nothing and is dropped (rolled back).
        self.totals_in(&mut tx, day).await
    }

    /// Signs the day off: the expected totals against the cash counted, sealed with
    /// the audit chain head in a `day_closes` row. A day is closed once.
    pub async fn close_day(
        &self,
        session: &StaffSession,
        day: Date,
        counted_cash_yen: i64,
        now: OffsetDateTime,
    ) -> Result<DayClose, AppError> {
        self.authorize(session, Action::SignOffDay, now).await?;
        if self.settings.offline.is_some() {
            return Err(AppError::OfflineLimit(
                "a day is signed off on the server, once this terminal's work is synced".into(),
            ));
        }
        if day > local_date_time(now).0 {
            // Sealing a day not yet begun would refuse all of its work in advance.
            return Err(AppError::BadRequest {
                field: "day",
                reason: format!("{day} has not begun"),
            });
        }
        let mut tx = self.store.begin_ledger().await?;
        if !tx
            .rows_where(&DAY_CLOSES, "day", &day.to_string())
            .await?
            .is_empty()
        {
            return Err(AppError::DayClosed(day.to_string()));
        }
        let totals = self.totals_in(&mut tx, day).await?;
        let audit_head = tx.audit_head().await?;
        let close = DayClose {
            day: day.to_string(),
            totals,
            counted_cash_yen,
            difference_yen: counted_cash_yen - totals.cash_yen,
            audit_head,
        };
        let totals_json = serde_json::to_string(&totals).map_err(|e| AppError::BadRequest {
            field: "day",
            reason: e.to_string(),
        })?;
        let at = rfc3339(now);
        tx.append(
            &DAY_CLOSES,
            vec![
                text(&close.day),
                text(totals_json),
                Cell::Int(counted_cash_yen),
                Cell::Int(close.difference_yen),
                text(&session.login),
                text(&close.audit_head),
                text(&at),
            ],
        )
        .await?;
        tx.commit(AuditEntry {
            at,
            actor: session.login.clone(),
            action: "counter.day_close".into(),
            target: close.day.clone(),
            detail: serde_json::to_string(&close).unwrap_or_default(),
        })
        .await?;
        Ok(close)
    }
}

// ---------------------------------------------------------------------------------------
// The supervisor's report

/// What a supervisor reviews for one day (DOMAIN.md §5, §6: every kiosk error and
/// every override surfaced, not dismissed).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DayReport {
    /// The day (local).
    pub day: String,
    /// Issuances by certificate kind.
    pub by_kind: std::collections::BTreeMap<String, i64>,
    /// Issuances by channel (`counter`, `kiosk`).
    pub by_channel: std::collections::BTreeMap<String, i64>,
    /// Issuances by local hour (`00`..`23`): late-night work stands out.
    pub by_hour: std::collections::BTreeMap<String, i64>,
    /// Counter issuances by staff login.
    pub by_staff: std::collections::BTreeMap<String, i64>,
    /// Copies issued.
    pub copies: i64,
    /// Voids: issuance, staff, reason, when.
    pub voids: Vec<serde_json::Value>,
    /// Support-measure overrides: who, for whom, why.
    pub overrides: Vec<serde_json::Value>,
    /// Kiosk outcomes other than `printed`.
    pub kiosk_failures: Vec<serde_json::Value>,
    /// Kiosk issuances (any day) still without an outcome past the outcome window.
    pub kiosk_without_outcome: Vec<serde_json::Value>,
    /// Kiosk issuances that failed on the server (a render error, the time limit):
    /// request, kiosk, code and message.
    pub kiosk_errors: Vec<serde_json::Value>,
    /// Counter requests that could not be rendered (a 外字, an overflow): who, for
    /// whom, the code and the field and character named.
    pub render_alerts: Vec<serde_json::Value>,
    /// Registry replicas sent to terminals: who, whether a whole snapshot, how many
    /// records, when.
    pub replica_downloads: Vec<serde_json::Value>,
    /// Staff access a supervisor should look at.
    pub access_anomalies: AccessAnomalies,
    /// The day's close, once signed off: who, when, the cash, and the audit chain's
    /// head it sealed (the anchor to keep outside the database).
    pub close: Option<DayCloseRecord>,
    /// Printed copies that did not reach the printer: which, who, why.
    pub print_failures: Vec<serde_json::Value>,
}

/// A day close as the report shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayCloseRecord {
    /// The supervisor who signed it off.
    pub supervisor: String,
    /// When (RFC 3339).
    pub at: String,
    /// Cash counted.
    pub counted_cash_yen: i64,
    /// Counted less expected.
    pub difference_yen: i64,
    /// The audit chain's head the close sealed.
    pub audit_head: String,
}

/// Access patterns that may mean a look-up without a reason (DOMAIN.md §6).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AccessAnomalies {
    /// Logins and look-ups outside 07:00–22:00 local time.
    pub late_night: Vec<serde_json::Value>,
    /// Staff with more look-ups in the day than the office's alert level.
    pub many_lookups: Vec<serde_json::Value>,
    /// Records a member of staff previewed without issuing anything for them that day.
    pub lookups_without_issuance: Vec<serde_json::Value>,
    /// Actions refused for the role.
    pub denied: Vec<serde_json::Value>,
}

/// Whether a local hour is outside the hall's working day.
fn late_night(hour: i64) -> bool {
    !(7..22).contains(&hour)
}

impl AccessAnomalies {
    /// Reads the day's audit rows (`rows` already restricted to the day, with their
    /// local hour).
    fn from_audit(rows: &[(&kofu_store::AuditRow, i64)], lookup_alert: u32) -> AccessAnomalies {
        use std::collections::{BTreeMap, BTreeSet};
        let mut a = AccessAnomalies::default();
        let mut lookups: BTreeMap<&str, u32> = BTreeMap::new();
        let mut viewed: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        let mut issued: BTreeSet<(&str, &str)> = BTreeSet::new();
        for (row, hour) in rows {
            let staff_action = row.action.starts_with("counter.") || row.action == "staff.login";
            if staff_action && late_night(*hour) {
                a.late_night.push(serde_json::json!({
                    "staff": row.actor, "action": row.action, "target": row.target, "at": row.at,
                }));
            }
            match row.action.as_str() {
                "counter.search" => *lookups.entry(&row.actor).or_default() += 1,
                "counter.view" => {
                    *lookups.entry(&row.actor).or_default() += 1;
                    *viewed.entry((&row.actor, &row.target)).or_default() += 1;
                }
                "counter.issue" | "counter.issue_override" => {
                    issued.insert((&row.actor, &row.target));
                }
                "access.denied" => {
                    let detail: serde_json::Value =
                        serde_json::from_str(&row.detail).unwrap_or_default();
                    a.denied.push(serde_json::json!({
                        "staff": row.actor, "action": detail["action"], "at": row.at,
                    }));
                }
                _ => {}
            }
        }
        for (staff, n) in lookups {
            if n > lookup_alert {
                a.many_lookups
                    .push(serde_json::json!({"staff": staff, "lookups": n}));
            }
        }
        for ((staff, subject), views) in viewed {
            if !issued.contains(&(staff, subject)) {
                a.lookups_without_issuance.push(
                    serde_json::json!({"staff": staff, "subject_id": subject, "views": views}),
                );
            }
        }
        a
    }
}

fn text_of(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

impl Office {
    /// The supervisor's report of a day; reading it is audited.
    pub async fn day_report(
        &self,
        session: &StaffSession,
        day: Date,
        now: OffsetDateTime,
    ) -> Result<DayReport, AppError> {
        self.authorize(session, Action::ViewReport, now).await?;
        let r = self.collect_day_report(day, now).await?;
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "counter.report".into(),
            target: r.day.clone(),
            detail: "{}".into(),
        })
        .await?;
        Ok(r)
    }

    /// The report of a day, read from the ledgers and the audit log; the caller has
    /// authorised the reading and audits it.
    pub(crate) async fn collect_day_report(
        &self,
        day: Date,
        now: OffsetDateTime,
    ) -> Result<DayReport, AppError> {
        let mut r = DayReport {
            day: day.to_string(),
            ..DayReport::default()
        };
        let issuances = self.store.ledger_rows(&ISSUANCES).await?;
        let events = self.store.ledger_rows(&ISSUANCE_EVENTS).await?;
        r.close = self
            .store
            .ledger_rows(&DAY_CLOSES)
            .await?
            .iter()
            .find(|c| text_of(c.first()) == r.day)
            .map(|c| DayCloseRecord {
                counted_cash_yen: match c.get(2) {
                    Some(Cell::Int(n)) => *n,
                    _ => 0,
                },
                difference_yen: match c.get(3) {
                    Some(Cell::Int(n)) => *n,
                    _ => 0,
                },
                supervisor: text_of(c.get(4)),
                audit_head: text_of(c.get(5)),
                at: text_of(c.get(6)),
            });
        let window =
            time::Duration::try_from(self.settings.outcome_window).unwrap_or(time::Duration::MAX);
        let parse = |c: Option<&Cell>| {
            OffsetDateTime::parse(&text_of(c), &time::format_description::well_known::Rfc3339).ok()
        };
        for i in &issuances {
            let channel = text_of(i.get(3));
            let issued_at = parse(i.get(13));
            if channel == "kiosk" {
                let id = text_of(i.first());
                let has_outcome = events
                    .iter()
                    .any(|e| text_of(e.get(1)) == id && is_text(e.get(2), "outcome"));
                if !has_outcome && issued_at.is_some_and(|t| t + window <= now) {
                    r.kiosk_without_outcome.push(serde_json::json!({
                        "issuance_id": id, "point": text_of(i.get(4)),
                        "issued_at": text_of(i.get(13)),
                    }));
                }
            }
            let Some(at) = issued_at.filter(|t| local_date_time(*t).0 == day) else {
                continue;
            };
            *r.by_kind.entry(text_of(i.get(8))).or_default() += 1;
            *r.by_channel.entry(channel.clone()).or_default() += 1;
            let hour = local_date_time(at).1.minutes() / 60;
            *r.by_hour.entry(format!("{hour:02}")).or_default() += 1;
            if channel == "counter" {
                *r.by_staff.entry(text_of(i.get(5))).or_default() += 1;
            }
            r.copies += int(i.get(10));
        }
        for e in &events {
            if local_day(e.get(5)) != Some(day) {
                continue;
            }
            let detail: serde_json::Value =
                serde_json::from_str(&text_of(e.get(3))).unwrap_or_default();
            if is_text(e.get(2), "void") {
                r.voids.push(serde_json::json!({
                    "issuance_id": text_of(e.get(1)), "staff": text_of(e.get(4)),
                    "reason": detail["reason"], "at": text_of(e.get(5)),
                }));
            } else if is_text(e.get(2), "outcome") && detail["outcome"] != "printed" {
                r.kiosk_failures.push(serde_json::json!({
                    "issuance_id": text_of(e.get(1)), "outcome": detail["outcome"],
                    "at": text_of(e.get(5)),
                }));
            }
        }
        let audit = self.store.audit_rows().await?;
        let on_day: Vec<(&kofu_store::AuditRow, i64)> = audit
            .iter()
            .filter_map(|a| {
                let t =
                    OffsetDateTime::parse(&a.at, &time::format_description::well_known::Rfc3339)
                        .ok()?;
                let (d, minutes) = local_date_time(t);
                (d == day).then_some((a, i64::from(minutes.minutes()) / 60))
            })
            .collect();
        r.access_anomalies = AccessAnomalies::from_audit(&on_day, self.settings.lookup_alert);
        for (a, _) in &on_day {
            if a.action == "counter.render_alert" || a.action == "kiosk.issue_failed" {
                let detail: serde_json::Value = serde_json::from_str(&a.detail).unwrap_or_default();
                let row = serde_json::json!({
                    "staff": a.actor, "subject_id": a.target,
                    "certificate": detail["certificate"], "code": detail["code"],
                    "message": detail["message"], "at": a.at,
                });
                if a.action == "kiosk.issue_failed" {
                    r.kiosk_errors.push(row);
                } else {
                    r.render_alerts.push(row);
                }
            }
            if a.action == "counter.print_outcome" {
                let detail: serde_json::Value = serde_json::from_str(&a.detail).unwrap_or_default();
                if detail["outcome"] == "failed" {
                    r.print_failures.push(serde_json::json!({
                        "issuance_id": a.target, "copy": detail["copy"], "issue_number": null,
                        "staff": a.actor, "detail": detail["detail"], "at": a.at,
                    }));
                }
            }
            if a.action == "offline.replica" {
                let detail: serde_json::Value = serde_json::from_str(&a.detail).unwrap_or_default();
                r.replica_downloads.push(serde_json::json!({
                    "staff": a.actor, "terminal": a.target, "snapshot": detail["snapshot"],
                    "records": detail["records"], "at": a.at,
                }));
            }
            if a.action == "counter.issue_override" {
                let detail: serde_json::Value = serde_json::from_str(&a.detail).unwrap_or_default();
                r.overrides.push(serde_json::json!({
                    "staff": a.actor, "subject_id": a.target,
                    "issuance_id": detail["issuance_id"], "reason": detail["override_reason"],
                    "at": a.at,
                }));
            }
        }
        // The failed copies' 発行番号, which the supervisor finds on the paper trail.
        let failed: Vec<String> = r
            .print_failures
            .iter()
            .filter_map(|f| f["issuance_id"].as_str().map(str::to_owned))
            .collect();
        if !failed.is_empty() {
            let copies = self
                .store
                .ledger_rows_by_first_key(&ISSUED_COPIES, &failed)
                .await?;
            for f in &mut r.print_failures {
                let number = copies
                    .iter()
                    .find(|c| {
                        f["issuance_id"].as_str() == Some(text_of(c.first()).as_str())
                            && f["copy"].as_i64()
                                == Some(match c.get(1) {
                                    Some(Cell::Int(n)) => *n,
                                    _ => 0,
                                })
                    })
                    .map(|c| text_of(c.get(2)));
                f["issue_number"] = serde_json::json!(number);
            }
        }
        Ok(r)
    }

    /// Recomputes the audit chain and checks every ledger row against it — the verdict
    /// `kofu audit verify` prints — for a supervisor or an administrator. The reading
    /// is itself audited (`counter.audit_verify`), after the verdict is taken, so the
    /// verdict covers every entry before it.
    pub async fn verify_audit(
        &self,
        session: &StaffSession,
        now: OffsetDateTime,
    ) -> Result<kofu_store::AuditVerdict, AppError> {
        self.authorize(session, Action::VerifyAudit, now).await?;
        let verdict = self.store.verify_audit().await?;
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "counter.audit_verify".into(),
            target: verdict.head.clone(),
            detail: serde_json::json!({
                "entries": verdict.entries,
                "rows": verdict.rows,
                "problems": verdict.problems.len(),
            })
            .to_string(),
        })
        .await?;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(actor: &str, action: &str, target: &str) -> kofu_store::AuditRow {
        kofu_store::AuditRow {
            seq: 0,
            at: "2026-05-07T10:00:00Z".into(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail: r#"{"action":"void_issuance"}"#.into(),
            records: "[]".into(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// One check per rule: the rows of a day (with their local hour) and what the
    /// report flags.
    fn check(rows: &[(kofu_store::AuditRow, i64)], alert: u32, expected: serde_json::Value) {
        let refs: Vec<(&kofu_store::AuditRow, i64)> = rows.iter().map(|(r, h)| (r, *h)).collect();
        let got = serde_json::to_value(AccessAnomalies::from_audit(&refs, alert)).unwrap();
        assert_eq!(got, expected);
    }

    #[test]
    fn access_anomalies() {
        let none = serde_json::json!({"late_night": [], "many_lookups": [],
            "lookups_without_issuance": [], "denied": []});
        // A preview followed by the issuance is ordinary work.
        check(
            &[
                (row("a", "counter.view", "R1"), 10),
                (row("a", "counter.issue", "R1"), 10),
            ],
            100,
            none.clone(),
        );
        // Kiosk work at night is not staff access.
        check(&[(row("kiosk:K1", "kiosk.issue", "R1"), 23)], 100, none);
        check(
            &[
                (row("a", "staff.login", "a"), 6),
                (row("a", "counter.search", ""), 22),
                (row("b", "counter.view", "R2"), 9),
                (row("b", "counter.view", "R2"), 9),
                (row("b", "counter.issue", "R3"), 9),
                (row("c", "access.denied", ""), 12),
            ],
            2,
            serde_json::json!({
                "late_night": [
                    {"staff": "a", "action": "staff.login", "target": "a", "at": "2026-05-07T10:00:00Z"},
                    {"staff": "a", "action": "counter.search", "target": "", "at": "2026-05-07T10:00:00Z"},
                ],
                "many_lookups": [],
                "lookups_without_issuance": [{"staff": "b", "subject_id": "R2", "views": 2}],
                "denied": [{"staff": "c", "action": "void_issuance", "at": "2026-05-07T10:00:00Z"}],
            }),
        );
        let many: Vec<_> = (0..4)
            .map(|_| (row("d", "counter.search", ""), 10))
            .collect();
        check(
            &many,
            3,
            serde_json::json!({"late_night": [], "many_lookups": [{"staff": "d", "lookups": 4}],
                "lookups_without_issuance": [], "denied": []}),
        );
    }
}
