//! Finding issuances as the counter knows them: by a 発行番号 printed on a copy, a
//! receipt number, the resident, or the day they were issued; never by an internal
//! ID, which no screen shows. What is found is what a void or a reissue starts from.

use std::collections::BTreeSet;

use kofu_store::ledger::{FEES, ISSUANCE_EVENTS, ISSUANCES, ISSUED_COPIES};
use kofu_store::{AuditEntry, Cell};
use serde::Serialize;
use time::OffsetDateTime;

use crate::kiosk::rfc3339;
use crate::staff::{Action, StaffSession};
use crate::{AppError, Office};

/// The most issuances one search answers.
pub const MAX_FOUND: usize = 200;

/// What to look for; the criteria given must all hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssuanceQuery {
    /// A 発行番号 as printed on any copy.
    pub number: Option<String>,
    /// A receipt number.
    pub receipt: Option<String>,
    /// The resident (subject).
    pub resident: Option<String>,
    /// Issued on this local (JST) day or later.
    pub from: Option<kofu_domain::Date>,
    /// Issued on this local day or earlier.
    pub to: Option<kofu_domain::Date>,
}

/// One issuance found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundIssuance {
    /// Its ID (what a void names).
    pub issuance_id: String,
    /// `counter` or `kiosk`.
    pub channel: String,
    /// Terminal and printer, or the kiosk.
    pub point: String,
    /// The certificate kind.
    pub kind: String,
    /// The resident.
    pub subject_id: String,
    /// Who issued it (empty for a kiosk).
    pub staff: String,
    /// When (RFC 3339).
    pub issued_at: String,
    /// The fee taken.
    pub fee_yen: i64,
    /// The receipt number, at the counter.
    pub receipt_no: Option<String>,
    /// Every copy's 発行番号, in order.
    pub issue_numbers: Vec<String>,
    /// Whether it was voided.
    pub voided: bool,
}

fn text_of(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

fn int_of(cell: Option<&Cell>) -> i64 {
    match cell {
        Some(Cell::Int(n)) => *n,
        _ => 0,
    }
}

/// The instant (as [`crate::kiosk::instant_prefix`]) at which local day `day` starts.
fn day_start(day: kofu_domain::Date) -> String {
    let start = day
        .as_time()
        .with_hms(0, 0, 0)
        .unwrap_or(time::PrimitiveDateTime::MIN)
        .assume_offset(kofu_domain::date::JST);
    crate::kiosk::instant_prefix(start)
}

impl Office {
    /// The issuances that match `query` (at least one criterion), newest first, at
    /// most [`MAX_FOUND`]; the search is audited like a resident search.
    pub async fn find_issuances(
        &self,
        session: &StaffSession,
        query: &IssuanceQuery,
        now: OffsetDateTime,
    ) -> Result<Vec<FoundIssuance>, AppError> {
        self.authorize(session, Action::IssueCertificate, now)
            .await?;
        for (field, value) in [
            ("number", &query.number),
            ("receipt", &query.receipt),
            ("resident", &query.resident),
        ] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 100) {
                return Err(AppError::BadRequest {
                    field,
                    reason: "at most 100 characters".into(),
                });
            }
        }
        let no_criterion = query.number.is_none()
            && query.receipt.is_none()
            && query.resident.is_none()
            && query.from.is_none()
            && query.to.is_none();
        if no_criterion {
            return Err(AppError::BadRequest {
                field: "(query)",
                reason: "give a 発行番号, a receipt number, a resident or days".into(),
            });
        }
        // The range first (outside the transaction: a plain read).
        let mut ids: Option<BTreeSet<String>> = None;
        if query.from.is_some() || query.to.is_some() {
            const SQL: &str = "SELECT issuance_id FROM issuances \
                WHERE issued_at >= $1 AND issued_at < $2 ORDER BY issued_at DESC LIMIT 1000";
            let from = query.from.map_or_else(|| "0000".to_owned(), day_start);
            let to = query
                .to
                .and_then(kofu_domain::Date::next_day)
                .map_or_else(|| "9999".to_owned(), day_start);
            let rows = self
                .store
                .ledger_query(SQL, &[Cell::Text(from), Cell::Text(to)], &[false])
                .await?;
            ids = Some(rows.iter().map(|r| text_of(r.first())).collect());
        }
        let mut tx = self.store.begin_ledger().await?;
        let mut narrow = |found: BTreeSet<String>| {
            ids = Some(match ids.take() {
                None => found,
                Some(before) => before.intersection(&found).cloned().collect(),
            });
        };
        if let Some(n) = &query.number {
            let rows = tx
                .rows_where(&ISSUED_COPIES, "issue_number", n.trim())
                .await?;
            narrow(rows.iter().map(|r| text_of(r.first())).collect());
        }
        if let Some(r) = &query.receipt {
            let rows = tx.rows_where(&FEES, "receipt_no", r.trim()).await?;
            narrow(rows.iter().map(|r| text_of(r.get(1))).collect());
        }
        if let Some(id) = &query.resident {
            let rows = tx.rows_where(&ISSUANCES, "subject_id", id.trim()).await?;
            narrow(rows.iter().map(|r| text_of(r.first())).collect());
        }
        let mut found = Vec::new();
        for id in ids.unwrap_or_default() {
            let Some(row) = tx
                .rows_where(&ISSUANCES, "issuance_id", &id)
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            let copies = tx.rows_where(&ISSUED_COPIES, "issuance_id", &id).await?;
            let fees = tx.rows_where(&FEES, "issuance_id", &id).await?;
            let events = tx.rows_where(&ISSUANCE_EVENTS, "issuance_id", &id).await?;
            let mut numbered: Vec<(i64, String)> = copies
                .iter()
                .map(|c| (int_of(c.get(1)), text_of(c.get(2))))
                .collect();
            numbered.sort();
            found.push(FoundIssuance {
                issuance_id: id.clone(),
                channel: text_of(row.get(3)),
                point: text_of(row.get(4)),
                staff: text_of(row.get(5)),
                subject_id: text_of(row.get(7)),
                kind: text_of(row.get(8)),
                fee_yen: int_of(row.get(12)),
                issued_at: text_of(row.get(13)),
                receipt_no: fees
                    .iter()
                    .map(|f| text_of(f.get(7)))
                    .find(|r| !r.is_empty()),
                issue_numbers: numbered.into_iter().map(|(_, n)| n).collect(),
                voided: events.iter().any(|e| text_of(e.get(2)) == "void"),
            });
        }
        found.sort_by(|a, b| b.issued_at.cmp(&a.issued_at));
        found.truncate(MAX_FOUND);
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "counter.find_issuances".into(),
            target: String::new(),
            detail: serde_json::json!({
                "number": query.number, "receipt": query.receipt, "resident": query.resident,
                "from": query.from.map(|d| d.to_string()), "to": query.to.map(|d| d.to_string()),
                "found": found.iter().map(|f| f.issuance_id.as_str()).collect::<Vec<_>>(),
            })
            .to_string(),
        })
        .await?;
        Ok(found)
    }
}
