//! The kiosk path (コンビニ交付): inquiry, issuance and outcome notice, as the LGWAN
//! protocol asks the town's issuance server to answer them.
//!
//! The rules this module exists for (DOMAIN.md §5): the request ID is the idempotency
//! key; eligibility is decided again at issuance on data no older than the last
//! acknowledged change event; an issuance is one transaction bounded in time (past the
//! limit nothing is issued or numbered); every copy is rendered by the same core as the
//! counter's and its page bindings are checked before it leaves; no PDF is kept.

use kofu_domain::eligibility::{Refusal, RefusalReason};
use kofu_domain::{
    CertificateKind, CertificateOption, CertificateOptions, Channel, HouseholdSelection,
    IssueNumber, IssuePoint, date::local_date_time,
};
use kofu_store::ledger::{FEES, ISSUANCE_EVENTS, ISSUANCES, ISSUED_COPIES};
use kofu_store::{AuditEntry, Cell, LedgerTx};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::certificate::{
    CertificateRequest, Prefetched, SubjectRef, check_eligibility_with, render_loaded,
};
use crate::{AppError, Office};

/// Who is at the kiosk: the relay center's view of the transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Kiosk {
    /// Kiosk ID, e.g. `K-12345`.
    pub id: String,
    /// The store chain.
    pub chain: String,
}

/// 利用可否照会.
#[derive(Clone, Debug)]
pub struct Inquiry {
    /// The relay center's transaction ID.
    pub request_id: String,
    /// The card's certificate serial (verified by the center).
    pub card_serial: String,
    /// The certificate asked about.
    pub kind: CertificateKind,
    /// The kiosk.
    pub kiosk: Kiosk,
    /// The center's clock: the service-hours rule uses it.
    pub requested_at: OffsetDateTime,
}

/// A household member the kiosk may offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberChoice {
    /// Opaque token, valid for this request ID only.
    pub member: String,
    /// The name as registered.
    pub name: String,
    /// Whether this is the card holder.
    #[serde(rename = "self")]
    pub is_self: bool,
}

/// The answer to an inquiry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InquiryAnswer {
    /// The certificate can be issued.
    Available {
        /// Fee per copy.
        fee_yen: u32,
        /// Household members (住民票 kinds).
        household_members: Vec<MemberChoice>,
        /// Options that apply.
        options: Vec<&'static str>,
        /// Years with a tax record (課税証明書), newest first.
        tax_years: Vec<i32>,
    },
    /// It cannot, and why (the screen shows `message`).
    Unavailable {
        /// The protocol reason.
        reason: RefusalReason,
        /// The sentence for the kiosk screen.
        message: &'static str,
    },
}

/// Which members a kiosk 住民票 shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KioskHousehold {
    /// `"all"` or `"self"`.
    Named(HouseholdWord),
    /// Member tokens from the inquiry.
    Members(Vec<String>),
}

/// The words of [`KioskHousehold::Named`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdWord {
    /// 世帯全員.
    All,
    /// The card holder only.
    #[serde(rename = "self")]
    SelfOnly,
}

/// The options of a kiosk issuance, as the protocol names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskOptions {
    /// Household members shown.
    #[serde(default)]
    pub household: Option<KioskHousehold>,
    /// 世帯主・続柄.
    #[serde(default)]
    pub show_relationship: bool,
    /// 本籍・筆頭者.
    #[serde(default)]
    pub show_honseki: bool,
    /// 個人番号.
    #[serde(default)]
    pub show_my_number: bool,
    /// 旧氏 併記.
    #[serde(default)]
    pub show_former_surname: bool,
    /// 課税証明書 year.
    #[serde(default)]
    pub tax_year: Option<i32>,
}

/// 発行要求.
#[derive(Clone, Debug)]
pub struct IssuanceRequest {
    /// The relay center's transaction ID: the idempotency key.
    pub request_id: String,
    /// The card's certificate serial.
    pub card_serial: String,
    /// The certificate.
    pub kind: CertificateKind,
    /// Options.
    pub options: KioskOptions,
    /// 1..=10.
    pub copies: u32,
    /// The kiosk.
    pub kiosk: Kiosk,
    /// The center's clock.
    pub requested_at: OffsetDateTime,
    /// A digest of the request body as received: the same request ID with another
    /// body is refused.
    pub body_digest: String,
}

/// One issued copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedDocument {
    /// 1-based copy number.
    pub copy: u32,
    /// Its 発行番号.
    pub issue_number: String,
    /// Pages.
    pub pages: u32,
    /// sha256 of the PDF, hex.
    pub sha256: String,
    /// The PDF (kept nowhere after the answer).
    pub pdf: Vec<u8>,
}

/// The answer to an issuance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The request ID.
    pub request_id: String,
    /// The issuance's ID.
    pub issuance_id: String,
    /// Total fee.
    pub fee_yen: u32,
    /// One per copy.
    pub documents: Vec<IssuedDocument>,
}

/// 交付結果.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Printed and handed over.
    Printed,
    /// The printer failed.
    PrintFailed,
    /// A sheet jammed (stamped 無効 and destroyed by store staff).
    PaperJam,
    /// The resident cancelled.
    Cancelled,
    /// Payment failed.
    PaymentFailed,
}

impl Outcome {
    /// The wire name.
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

/// 交付結果通知.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeNotice {
    /// The request ID.
    pub request_id: String,
    /// The issuance.
    pub issuance_id: String,
    /// What happened.
    pub outcome: Outcome,
    /// Pages printed.
    pub pages_printed: u32,
    /// Fee the kiosk collected.
    pub fee_collected_yen: u32,
    /// When the kiosk reported it (RFC 3339).
    pub reported_at: String,
}

/// What the ledger keeps of a kiosk issuance's inputs, to reproduce it on a retry.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KioskItems {
    options: KioskOptions,
    resolved_members: Option<Vec<String>>,
    requested_at: String,
    /// The instant the rules judged and the certificate was dated at (the later of the
    /// center's clock and the server's), when the clock bound is on; absent in
    /// issuances recorded before it, which were judged at `requested_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    judged_at: Option<String>,
    kiosk: Kiosk,
    card_serial: String,
}

/// The instant a kiosk request is judged at: the later of the center's clock
/// (`requested_at`) and the server's, so that a backdated request never steps around
/// a measure that began since. A request further from the server's clock than
/// `max_skew` is refused (`clock_skew`); with no bound, the center's clock is taken as
/// it is.
fn judged_at(
    requested_at: OffsetDateTime,
    now: OffsetDateTime,
    max_skew: Option<std::time::Duration>,
) -> Result<OffsetDateTime, Refusal> {
    let Some(max) = max_skew else {
        return Ok(requested_at);
    };
    let skew = (requested_at - now).abs();
    if skew > max {
        return Err(Refusal {
            reason: RefusalReason::ClockSkew,
            detail: format!(
                "requested_at {} is {} s from the server's clock {} (at most {} s)",
                rfc3339(requested_at),
                skew.whole_seconds(),
                rfc3339(now),
                max.as_secs()
            ),
            person: None,
        });
    }
    Ok(requested_at.max(now))
}

/// An instant as the ledgers keep it: RFC 3339 in UTC with exactly six fractional
/// digits, so that text order is time order on both backends.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_default()
}

/// An instant as the start of the ledgers' RFC 3339 text for it (to the second, no
/// zone): compared as text, every stored instant of that second or later sorts at or
/// after it.
pub(crate) fn instant_prefix(at: OffsetDateTime) -> String {
    let text = rfc3339(at);
    text.get(..19).unwrap_or(&text).to_owned()
}

fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Options that apply to a kind at a kiosk, in protocol order.
fn kiosk_options_for(kind: CertificateKind) -> Vec<&'static str> {
    // The inquiry lists the flags a kiosk screen offers; household members and tax
    // years are offered as choices of their own.
    kind.accepted_options(Channel::Kiosk)
        .into_iter()
        .filter(|o| !matches!(o, CertificateOption::Household | CertificateOption::TaxYear))
        .map(CertificateOption::code)
        .collect()
}

pub(crate) fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn cell_text(cells: &[Cell], i: usize) -> Option<&str> {
    match cells.get(i) {
        Some(Cell::Text(t)) => Some(t),
        _ => None,
    }
}

fn cell_int(cells: &[Cell], i: usize) -> i64 {
    match cells.get(i) {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

/// What a kiosk request reads first ([`Office::card_holder`]).
struct CardRead {
    card: Option<kofu_domain::Card>,
    prefetched: Prefetched,
    /// For an issuance: the registry version the rest was read at.
    registry_version: i64,
    /// For an issuance: its request ID was issued before.
    issued_before: bool,
}

impl Office {
    /// The opaque token of a household member for one request.
    fn member_token(&self, request_id: &str, resident_id: &str) -> String {
        let digest = sha256_hex(format!("{}\0{request_id}\0{resident_id}", self.secret).as_bytes());
        format!("m{}", &digest[..16])
    }

    async fn card(&self, serial: &str) -> Result<Option<kofu_domain::Card>, AppError> {
        if let Some(card) = self.store.card(&serial.to_ascii_uppercase()).await? {
            return Ok(Some(card));
        }
        // Serials are hex: accept the registry's spelling whatever its case.
        Ok(self.store.card(&serial.to_ascii_lowercase()).await?)
    }

    /// The card with this serial (in either case), with the town and its holder's
    /// records for the rules, in one statement; for an issuance (its request ID), also
    /// the registry version and whether the request was issued before.
    async fn card_holder(
        &self,
        serial: &str,
        issuance_request: Option<&str>,
    ) -> Result<CardRead, AppError> {
        let found = self
            .store
            .card_holder(
                &serial.to_ascii_uppercase(),
                &serial.to_ascii_lowercase(),
                issuance_request,
            )
            .await?;
        let resident_id = found
            .card
            .as_ref()
            .map(|c| c.resident_id.clone())
            .unwrap_or_default();
        Ok(CardRead {
            card: found.card,
            prefetched: Prefetched {
                resident_id,
                town: found.town,
                records: found.records,
            },
            registry_version: found.registry_version.unwrap_or_default(),
            issued_before: found.issued_before,
        })
    }

    #[allow(clippy::too_many_arguments)] // the fields of one kiosk request, named at each call
    fn kiosk_request(
        &self,
        request_id: &str,
        kind: CertificateKind,
        card: Option<kofu_domain::Card>,
        options: CertificateOptions,
        kiosk: &Kiosk,
        at: OffsetDateTime,
        serial: u32,
        town: &str,
    ) -> CertificateRequest {
        let (date, _) = local_date_time(at);
        CertificateRequest {
            request_id: request_id.to_owned(),
            kind,
            subject: SubjectRef::Resident(
                card.as_ref()
                    .map(|c| c.resident_id.clone())
                    .unwrap_or_default(),
            ),
            options,
            channel: Channel::Kiosk,
            applicant: None,
            at,
            number: IssueNumber {
                date,
                municipality: town.to_owned(),
                point: IssuePoint::Kiosk {
                    kiosk: kiosk.id.clone(),
                },
                serial,
            },
            card,
        }
    }

    /// 利用可否照会: whether the card holder may obtain `kind` now, with the choices.
    /// Bounded by the office's time limit, like an issuance.
    pub async fn kiosk_inquiry(
        &self,
        q: &Inquiry,
        now: OffsetDateTime,
    ) -> Result<InquiryAnswer, AppError> {
        self.bounded(self.kiosk_inquiry_unbounded(q, now)).await
    }

    async fn kiosk_inquiry_unbounded(
        &self,
        q: &Inquiry,
        now: OffsetDateTime,
    ) -> Result<InquiryAnswer, AppError> {
        let CardRead {
            card, prefetched, ..
        } = self.card_holder(&q.card_serial, None).await?;
        let tax_years = match &card {
            Some(c) if q.kind == CertificateKind::ShotokuKazei => {
                let mut years = self.store.tax_years(&c.resident_id).await?;
                years.sort_unstable_by(|a, b| b.cmp(a));
                years
            }
            _ => Vec::new(),
        };
        let options = CertificateOptions {
            tax_year: if q.kind == CertificateKind::ShotokuKazei {
                // No year is chosen yet: ask about the newest one held, or any year
                // (which the rules then refuse for want of a record).
                Some(tax_years.first().copied().unwrap_or(0))
            } else {
                None
            },
            ..CertificateOptions::default()
        };
        let judged = judged_at(q.requested_at, now, self.settings.max_clock_skew);
        let req = self.kiosk_request(
            &q.request_id,
            q.kind,
            card.clone(),
            options,
            &q.kiosk,
            *judged.as_ref().unwrap_or(&q.requested_at),
            0,
            // No number is made for an inquiry; the rules load the town themselves.
            "",
        );
        let target = card
            .as_ref()
            .map_or_else(String::new, |c| c.resident_id.clone());
        let eligibility = match judged {
            Ok(_) => check_eligibility_with(&self.store, &req, Some(prefetched)).await,
            Err(skew) => Err(AppError::Refused(skew)),
        };
        let answer = match eligibility {
            Ok((data, _)) => {
                let me = data.resident.as_ref();
                let household_members = if q.kind.is_juminhyo() {
                    kofu_domain::Household::new(
                        me.map(|r| r.household_id.clone()).unwrap_or_default(),
                        data.household.clone(),
                    )
                    .active_members()
                    .map(|m| MemberChoice {
                        member: self.member_token(&q.request_id, &m.resident_id),
                        name: m.full_name(),
                        is_self: me.is_some_and(|r| r.resident_id == m.resident_id),
                    })
                    .collect()
                } else {
                    Vec::new()
                };
                InquiryAnswer::Available {
                    fee_yen: data.town.fee(q.kind, Channel::Kiosk).unwrap_or(0),
                    household_members,
                    options: kiosk_options_for(q.kind),
                    tax_years,
                }
            }
            Err(AppError::Refused(r)) => InquiryAnswer::Unavailable {
                reason: r.reason,
                message: r.reason.kiosk_message(),
            },
            Err(e) => return Err(e),
        };
        let detail = match &answer {
            InquiryAnswer::Available { .. } => serde_json::json!({
                "request_id": q.request_id, "certificate": q.kind.code(), "available": true
            }),
            InquiryAnswer::Unavailable { reason, .. } => serde_json::json!({
                "request_id": q.request_id, "certificate": q.kind.code(),
                "available": false, "reason": reason.code()
            }),
        };
        self.store
            .record_audit(AuditEntry {
                at: rfc3339(now),
                actor: format!("kiosk:{}", q.kiosk.id),
                action: "kiosk.inquiry".into(),
                target,
                detail: detail.to_string(),
            })
            .await?;
        Ok(answer)
    }

    /// 発行要求: issues `copies` copies, or answers what was issued for this request ID
    /// before. Bounded by the office's time limit: past it, nothing is issued.
    pub async fn kiosk_issue(
        &self,
        req: &IssuanceRequest,
        now: OffsetDateTime,
    ) -> Result<Issued, AppError> {
        if !(1..=kofu_domain::fee::MAX_COPIES).contains(&req.copies) {
            return Err(AppError::BadRequest {
                field: "copies",
                reason: format!("must be 1..=10, not {}", req.copies),
            });
        }
        match self.bounded(self.kiosk_issue_unbounded(req, now)).await {
            Ok(issued) => Ok(issued),
            Err(e) => Err(self
                .alert(
                    e,
                    "kiosk.issue_failed",
                    &format!("kiosk:{}", req.kiosk.id),
                    &req.request_id,
                    serde_json::json!({"request_id": req.request_id, "certificate": req.kind.code()}),
                    now,
                )
                .await),
        }
    }

    /// Runs a use case within the office's time limit (a kiosk waits for nobody, and
    /// an import holding the registry must not hold the relay center).
    async fn bounded<T>(
        &self,
        use_case: impl std::future::Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let limit = self.settings.issue_time_limit;
        match tokio::time::timeout(limit, use_case).await {
            Ok(result) => result,
            // Dropping the future dropped its transaction: rolled back, nothing numbered.
            Err(_) => Err(AppError::Timeout(limit)),
        }
    }

    async fn kiosk_issue_unbounded(
        &self,
        req: &IssuanceRequest,
        now: OffsetDateTime,
    ) -> Result<Issued, AppError> {
        // A few attempts: an import committing between our reads and our write, or
        // a concurrent twin of this request, sends us round again.
        for _ in 0..4 {
            // The registry version, a possible earlier issuance of this request, the
            // card and what the rules read, in one snapshot.
            let read = self
                .card_holder(&req.card_serial, Some(&req.request_id))
                .await?;
            if read.issued_before
                && let Some(previous) = self.issuance_by_request(&req.request_id).await?
            {
                return self.replay(req, previous).await;
            }
            let at = judged_at(req.requested_at, now, self.settings.max_clock_skew)
                .map_err(AppError::Refused)?;
            let CardRead {
                card,
                prefetched,
                registry_version: version,
                ..
            } = read;
            let (options, resolved) = self.resolve_options(req, card.as_ref()).await?;
            let mut cert_req = self.kiosk_request(
                &req.request_id,
                req.kind,
                card.clone(),
                options,
                &req.kiosk,
                at,
                0,
                "",
            );
            // Every read happens here, before the transaction: a transaction then needs
            // no second connection, and proves below that the data is still current.
            let (data, warnings) =
                check_eligibility_with(&self.store, &cert_req, Some(prefetched)).await?;
            let town = &data.town;
            cert_req.number.municipality.clone_from(&town.name);
            let mut tx = self.store.begin_ledger().await?;
            if tx.registry_version() != version {
                continue;
            }
            let (day, _) = local_date_time(at);
            let mut documents = Vec::new();
            let mut subject_id = String::new();
            for copy in 1..=req.copies {
                cert_req.number.serial = tx.next_serial(&day.to_string(), &req.kiosk.id).await?;
                if let Some(stall) = self.settings.render_stall {
                    tokio::time::sleep(stall).await;
                }
                let cert = render_loaded(&self.fonts, &cert_req, &data, warnings.clone())?;
                subject_id = cert.subject_id.clone();
                documents.push(IssuedDocument {
                    copy,
                    issue_number: cert_req.number.to_string(),
                    pages: u32::try_from(cert.pdf.pages).unwrap_or(u32::MAX),
                    sha256: sha256_hex(&cert.pdf.bytes),
                    pdf: cert.pdf.bytes,
                });
            }
            let fee =
                kofu_domain::fee::compute_fee(town, req.kind, Channel::Kiosk, req.copies, None)
                    .map_err(|e| AppError::BadRequest {
                        field: "copies",
                        reason: e.to_string(),
                    })?;
            let issuance_id = uuid::Uuid::new_v4().to_string();
            let items = KioskItems {
                options: req.options.clone(),
                resolved_members: resolved,
                requested_at: rfc3339(req.requested_at),
                judged_at: (at != req.requested_at).then(|| rfc3339(at)),
                kiosk: req.kiosk.clone(),
                card_serial: req.card_serial.clone(),
            };
            let pages: u32 = documents.iter().map(|d| d.pages).sum();
            record_issuance(
                &mut tx,
                req,
                &issuance_id,
                &subject_id,
                &items,
                pages,
                fee.total_yen,
                &documents,
                now,
            )?;
            let detail = serde_json::json!({
                "request_id": req.request_id,
                "issuance_id": issuance_id,
                "certificate": req.kind.code(),
                "copies": req.copies,
                "issue_numbers": documents.iter().map(|d| d.issue_number.as_str()).collect::<Vec<_>>(),
            });
            match tx
                .commit(AuditEntry {
                    at: rfc3339(now),
                    actor: format!("kiosk:{}", req.kiosk.id),
                    action: "kiosk.issue".into(),
                    target: subject_id,
                    detail: detail.to_string(),
                })
                .await
            {
                Ok(()) => {}
                // The twin of this request committed first: answer what it issued.
                Err(e) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
            return Ok(Issued {
                request_id: req.request_id.clone(),
                issuance_id,
                fee_yen: fee.total_yen,
                documents,
            });
        }
        Err(AppError::Busy)
    }

    /// Turns protocol options into certificate options, resolving member tokens.
    async fn resolve_options(
        &self,
        req: &IssuanceRequest,
        card: Option<&kofu_domain::Card>,
    ) -> Result<(CertificateOptions, Option<Vec<String>>), AppError> {
        let o = &req.options;
        let mut resolved = None;
        let household = match &o.household {
            None | Some(KioskHousehold::Named(HouseholdWord::SelfOnly)) => {
                HouseholdSelection::SelfOnly
            }
            Some(KioskHousehold::Named(HouseholdWord::All)) => HouseholdSelection::All,
            Some(KioskHousehold::Members(tokens)) => {
                let Some(card) = card else {
                    // The rules refuse an unknown card; no member can be resolved.
                    return Ok((CertificateOptions::default(), None));
                };
                let me = self
                    .store
                    .resident(&card.resident_id)
                    .await?
                    .ok_or_else(|| AppError::NotFound("resident".into()))?;
                let members = self.store.household(&me.household_id).await?;
                let mut ids = Vec::new();
                for token in tokens {
                    let m = members
                        .iter()
                        .find(|m| self.member_token(&req.request_id, &m.resident_id) == *token)
                        .ok_or_else(|| AppError::BadRequest {
                            field: "options.household",
                            reason: format!("unknown member token {token:?} for this request"),
                        })?;
                    ids.push(m.resident_id.clone());
                }
                if ids.is_empty() {
                    return Err(AppError::BadRequest {
                        field: "options.household",
                        reason: "no member chosen".into(),
                    });
                }
                resolved = Some(ids.clone());
                HouseholdSelection::Members(ids)
            }
        };
        let options = CertificateOptions {
            household,
            show_relationship: o.show_relationship,
            show_honseki: o.show_honseki,
            show_my_number: o.show_my_number,
            show_former_surname: o.show_former_surname,
            show_resident_code: false,
            tax_year: o.tax_year,
            omit_seal: false,
        };
        options
            .check(req.kind, Channel::Kiosk, None)
            .map_err(AppError::InvalidOptions)?;
        Ok((options, resolved))
    }

    /// The issuance recorded for a request ID: issuance_id, request_hash, kind, items,
    /// fee_yen, subject_id, channel, issued_at, point, applicant.
    pub(crate) async fn issuance_by_request(
        &self,
        request_id: &str,
    ) -> Result<Option<Vec<Cell>>, AppError> {
        Ok(self.issuance_and_version(request_id).await?.0)
    }

    /// [`issuance_by_request`](Self::issuance_by_request) and the registry version, read in
    /// one statement: what an issuance reads first, before it reads its subject (one
    /// round trip less for each certificate issued).
    pub(crate) async fn issuance_and_version(
        &self,
        request_id: &str,
    ) -> Result<(Option<Vec<Cell>>, i64), AppError> {
        let mut rows = self
            .store
            .ledger_query(
                "SELECT i.*, f.version FROM feed_state f LEFT JOIN (SELECT issuance_id, \
                 request_hash, kind, items, fee_yen, subject_id, channel, issued_at, point, \
                 applicant FROM issuances WHERE request_id = $1) i ON TRUE WHERE f.id = 1",
                &[text(request_id)],
                &[
                    false, false, false, false, true, false, false, false, false, false, true,
                ],
            )
            .await?;
        let mut row = rows.pop().unwrap_or_default();
        let Some(Cell::Int(version)) = row.pop() else {
            return Err(AppError::NotFound(
                "the feed state (a database not migrated)".into(),
            ));
        };
        let recorded = matches!(row.first(), Some(Cell::Text(_)));
        Ok((recorded.then_some(row), version))
    }

    /// A retry of an issuance already made: the same answer, re-rendered from the same
    /// inputs and checked against the digests the ledger holds.
    async fn replay(&self, req: &IssuanceRequest, row: Vec<Cell>) -> Result<Issued, AppError> {
        let issuance_id = cell_text(&row, 0).unwrap_or_default().to_owned();
        if cell_text(&row, 1) != Some(req.body_digest.as_str()) {
            return Err(AppError::RequestIdReused);
        }
        let items: KioskItems = cell_text(&row, 3)
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or_else(|| AppError::NotReproducible(issuance_id.clone()))?;
        let at = parse_rfc3339(items.judged_at.as_deref().unwrap_or(&items.requested_at))
            .ok_or_else(|| AppError::NotReproducible(issuance_id.clone()))?;
        let copies = self
            .store
            .ledger_query(
                "SELECT copy, issue_number, pages, sha256 FROM issued_copies \
                 WHERE issuance_id = $1 ORDER BY copy",
                &[text(&issuance_id)],
                &[true, false, true, false],
            )
            .await?;
        let town = self
            .store
            .municipality()
            .await?
            .ok_or_else(|| AppError::NotFound("municipality".into()))?;
        let card = self.card(&items.card_serial).await?;
        let mut household = CertificateOptions::default().household;
        if let Some(ids) = items.resolved_members.clone() {
            household = HouseholdSelection::Members(ids);
        } else if items.options.household == Some(KioskHousehold::Named(HouseholdWord::All)) {
            household = HouseholdSelection::All;
        }
        let options = CertificateOptions {
            household,
            show_relationship: items.options.show_relationship,
            show_honseki: items.options.show_honseki,
            show_my_number: items.options.show_my_number,
            show_former_surname: items.options.show_former_surname,
            show_resident_code: false,
            tax_year: items.options.tax_year,
            omit_seal: false,
        };
        let mut documents = Vec::new();
        for c in &copies {
            let number = cell_text(c, 1).unwrap_or_default();
            let serial: u32 = number
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| AppError::NotReproducible(issuance_id.clone()))?;
            let cert_req = self.kiosk_request(
                &req.request_id,
                req.kind,
                card.clone(),
                options.clone(),
                &items.kiosk,
                at,
                serial,
                &town.name,
            );
            let cert = crate::render_certificate(&self.store, &self.fonts, &cert_req)
                .await
                .map_err(|_| AppError::NotReproducible(issuance_id.clone()))?;
            let sha256 = sha256_hex(&cert.pdf.bytes);
            if Some(sha256.as_str()) != cell_text(c, 3) {
                return Err(AppError::NotReproducible(issuance_id));
            }
            documents.push(IssuedDocument {
                copy: u32::try_from(cell_int(c, 0)).unwrap_or(0),
                issue_number: number.to_owned(),
                pages: u32::try_from(cell_int(c, 2)).unwrap_or(0),
                sha256,
                pdf: cert.pdf.bytes,
            });
        }
        Ok(Issued {
            request_id: req.request_id.clone(),
            issuance_id,
            fee_yen: u32::try_from(cell_int(&row, 4)).unwrap_or(0),
            documents,
        })
    }

    /// 交付結果通知: records the kiosk's outcome. Repeating a notice changes nothing;
    /// anything but `printed` voids the numbers and reverses the fee.
    pub async fn kiosk_outcome(
        &self,
        notice: &OutcomeNotice,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.bounded(self.kiosk_outcome_unbounded(notice, now))
            .await
    }

    async fn kiosk_outcome_unbounded(
        &self,
        notice: &OutcomeNotice,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        // An outcome depends on the ledgers alone, not on registry data.
        let mut tx = self.store.begin_audit().await?;
        // Two notices at once (on two servers): one reads after the other has written.
        tx.lock_issuance(&notice.issuance_id).await?;
        // The issuance (request, kind, fee) with each of its events (kind, detail), in
        // one statement: a row per event, or one row with no event.
        const ISSUANCE_AND_EVENTS: &str = "SELECT i.request_id, i.kind, i.fee_yen, e.event, \
            e.detail FROM issuances i LEFT JOIN issuance_events e \
            ON e.issuance_id = i.issuance_id WHERE i.issuance_id = $1";
        let rows = tx
            .query(
                ISSUANCE_AND_EVENTS,
                &[text(&notice.issuance_id)],
                &[false, false, true, false, false],
            )
            .await?;
        let issuance = rows
            .first()
            .filter(|row| cell_text(row, 0) == Some(notice.request_id.as_str()))
            .ok_or(AppError::UnknownIssuance)?;
        let (kind, fee_yen) = (
            cell_text(issuance, 1).unwrap_or_default(),
            cell_int(issuance, 2),
        );
        let events: Vec<(&str, &str)> = rows
            .iter()
            .filter_map(|r| Some((cell_text(r, 3)?, cell_text(r, 4)?)))
            .collect();
        let detail = serde_json::json!({
            "outcome": notice.outcome.code(),
            "pages_printed": notice.pages_printed,
            "fee_collected_yen": notice.fee_collected_yen,
            "reported_at": notice.reported_at,
        })
        .to_string();
        if events
            .iter()
            .any(|&(event, d)| event == "outcome" && d == detail)
        {
            return Ok(()); // the same notice again: already recorded
        }
        let already_voided = events
            .iter()
            .any(|&(event, d)| event == "outcome" && !d.contains("\"outcome\":\"printed\""));
        tx.append_at_commit(
            &ISSUANCE_EVENTS,
            vec![
                text(uuid::Uuid::new_v4().to_string()),
                text(&notice.issuance_id),
                text("outcome"),
                text(detail.clone()),
                Cell::Null,
                text(rfc3339(now)),
            ],
        );
        if notice.outcome != Outcome::Printed && !already_voided {
            // The kiosk collected nothing: a correcting fee row referencing the issuance.
            tx.append_at_commit(
                &FEES,
                vec![
                    text(uuid::Uuid::new_v4().to_string()),
                    text(&notice.issuance_id),
                    text(kind),
                    text("kiosk"),
                    Cell::Int(-fee_yen),
                    text("kiosk_settlement"),
                    text(format!("reversed: {}", notice.outcome.code())),
                    Cell::Null,
                    Cell::Null,
                    text(rfc3339(now)),
                ],
            );
        }
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: "relay-center".into(),
            action: if notice.outcome == Outcome::Printed {
                "kiosk.outcome".into()
            } else {
                "kiosk.outcome_failed".into()
            },
            target: notice.issuance_id.clone(),
            detail,
        })
        .await?;
        Ok(())
    }
}

/// Appends an issuance's ledger rows (交付履歴, its copies, the fee) to be written with
/// its audit entry when `tx` commits.
#[allow(clippy::too_many_arguments)]
fn record_issuance(
    tx: &mut LedgerTx,
    req: &IssuanceRequest,
    issuance_id: &str,
    subject_id: &str,
    items: &KioskItems,
    pages: u32,
    fee_yen: u32,
    documents: &[IssuedDocument],
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let items_json = serde_json::to_string(items).map_err(|e| AppError::BadRequest {
        field: "options",
        reason: e.to_string(),
    })?;
    tx.append_at_commit(
        &ISSUANCES,
        vec![
            text(issuance_id),
            text(&req.request_id),
            text(&req.body_digest),
            text("kiosk"),
            text(&req.kiosk.id),
            Cell::Null,
            Cell::Null,
            text(subject_id),
            text(req.kind.code()),
            text(items_json),
            Cell::Int(i64::from(req.copies)),
            Cell::Int(i64::from(pages)),
            Cell::Int(i64::from(fee_yen)),
            text(rfc3339(now)),
        ],
    );
    for d in documents {
        tx.append_at_commit(
            &ISSUED_COPIES,
            vec![
                text(issuance_id),
                Cell::Int(i64::from(d.copy)),
                text(&d.issue_number),
                Cell::Int(i64::from(d.pages)),
                text(&d.sha256),
            ],
        );
    }
    tx.append_at_commit(
        &FEES,
        vec![
            text(uuid::Uuid::new_v4().to_string()),
            text(issuance_id),
            text(req.kind.code()),
            text("kiosk"),
            Cell::Int(i64::from(fee_yen)),
            text("kiosk_settlement"),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            text(rfc3339(now)),
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).expect("a time")
    }

    /// (requested_at, server clock, bound) → the instant judged, or `None` for clock_skew.
    fn check(requested: &str, now: &str, bound: Option<u64>, expected: Option<&str>) {
        let got = judged_at(
            at(requested),
            at(now),
            bound.map(std::time::Duration::from_secs),
        );
        match (got, expected) {
            (Ok(t), Some(e)) => assert_eq!(t, at(e), "{requested} at {now}"),
            (Err(r), None) => assert_eq!(r.reason, RefusalReason::ClockSkew),
            (got, _) => panic!("{requested} at {now}: {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn requests_are_judged_at_the_later_instant_within_the_bound() {
        let noon = "2026-05-07T12:00:00+09:00";
        // Backdated by four minutes: judged at the server's clock.
        check("2026-05-07T11:56:00+09:00", noon, Some(300), Some(noon));
        // A center clock ahead of ours: judged at its instant.
        check(
            "2026-05-07T12:04:00+09:00",
            noon,
            Some(300),
            Some("2026-05-07T12:04:00+09:00"),
        );
        // Exactly the bound is still accepted; a second more is not.
        check("2026-05-07T11:55:00+09:00", noon, Some(300), Some(noon));
        check("2026-05-07T11:54:59+09:00", noon, Some(300), None);
        check("2026-05-07T12:05:01+09:00", noon, Some(300), None);
        // A month back: refused; with the check off, taken as it is.
        check("2026-04-07T12:00:00+09:00", noon, Some(300), None);
        check(
            "2026-04-07T12:00:00+09:00",
            noon,
            None,
            Some("2026-04-07T12:00:00+09:00"),
        );
    }
}
