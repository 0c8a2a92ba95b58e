//! What the supervisor must look at on the kiosk path (足立区: error notices were
//! dismissed): failed outcomes, and issuances whose outcome never came. A missing
//! outcome is flagged in the ledger once the window has passed, never closed silently.

use kofu_store::ledger::ISSUANCE_EVENTS;
use kofu_store::{AuditEntry, Cell};
use serde::Serialize;
use time::OffsetDateTime;

use crate::kiosk::{cell_text, rfc3339, text};
use crate::{AppError, Office};

/// One kiosk issuance for review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    /// The issuance.
    pub issuance_id: String,
    /// The relay center's request ID.
    pub request_id: String,
    /// The kiosk.
    pub kiosk: String,
    /// The subject's resident ID.
    pub subject_id: String,
    /// The certificate kind.
    pub kind: String,
    /// When it was issued (UTC).
    pub issued_at: String,
    /// The outcome notice's details (JSON), for failures.
    pub outcome: Option<String>,
}

/// The kiosk issuances a supervisor must review.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KioskReview {
    /// Outcomes other than `printed`: the numbers were voided, the fee reversed.
    pub failed: Vec<ReviewItem>,
    /// No outcome notice within the window.
    pub missing_outcome: Vec<ReviewItem>,
}

const MISSING: &str = "SELECT i.issuance_id, i.request_id, i.point, i.subject_id, i.kind, i.issued_at \
     FROM issuances i WHERE i.channel = 'kiosk' AND i.issued_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM issuance_events e \
                     WHERE e.issuance_id = i.issuance_id AND e.event = 'outcome') \
     ORDER BY i.issued_at, i.issuance_id";

const FAILED: &str = "SELECT i.issuance_id, i.request_id, i.point, i.subject_id, i.kind, i.issued_at, e.detail \
     FROM issuances i JOIN issuance_events e ON e.issuance_id = i.issuance_id \
     WHERE i.channel = 'kiosk' AND e.event = 'outcome' \
     AND e.detail NOT LIKE '%\"outcome\":\"printed\"%' \
     ORDER BY i.issued_at, i.issuance_id, e.at";

fn item(row: &[Cell]) -> ReviewItem {
    let t = |i| cell_text(row, i).unwrap_or_default().to_owned();
    ReviewItem {
        issuance_id: t(0),
        request_id: t(1),
        kiosk: t(2),
        subject_id: t(3),
        kind: t(4),
        issued_at: t(5),
        outcome: cell_text(row, 6).map(str::to_owned),
    }
}

impl Office {
    /// The kiosk issuances to review at `now`: failed outcomes, and outcomes missing
    /// past the office's outcome window.
    pub async fn kiosk_review(&self, now: OffsetDateTime) -> Result<KioskReview, AppError> {
        let cutoff = rfc3339(now - self.settings.outcome_window);
        let missing = self
            .store
            .ledger_query(MISSING, &[text(cutoff)], &[false; 6])
            .await?;
        let failed = self.store.ledger_query(FAILED, &[], &[false; 7]).await?;
        Ok(KioskReview {
            failed: failed.iter().map(|r| item(r)).collect(),
            missing_outcome: missing.iter().map(|r| item(r)).collect(),
        })
    }

    /// Flags, once each, the kiosk issuances whose outcome is missing past the window:
    /// an `outcome_missing` event in the ledger, audited. Returns how many were flagged.
    pub async fn flag_missing_outcomes(&self, now: OffsetDateTime) -> Result<usize, AppError> {
        let cutoff = rfc3339(now - self.settings.outcome_window);
        let missing = self
            .store
            .ledger_query(MISSING, &[text(cutoff)], &[false; 6])
            .await?;
        if missing.is_empty() {
            return Ok(0);
        }
        // Checked again inside the transaction, against a sweep that ran meanwhile.
        let mut tx = self.store.begin_ledger().await?;
        let mut flagged = Vec::new();
        for row in &missing {
            let id = cell_text(row, 0).unwrap_or_default();
            let events = tx.rows_where(&ISSUANCE_EVENTS, "issuance_id", id).await?;
            if events
                .iter()
                .any(|e| cell_text(e, 2) == Some("outcome_missing"))
            {
                continue;
            }
            let window = self.settings.outcome_window.as_secs();
            tx.append(
                &ISSUANCE_EVENTS,
                vec![
                    text(uuid::Uuid::new_v4().to_string()),
                    text(id),
                    text("outcome_missing"),
                    text(serde_json::json!({"window_secs": window}).to_string()),
                    Cell::Null,
                    text(rfc3339(now)),
                ],
            )
            .await?;
            flagged.push(id.to_owned());
        }
        if flagged.is_empty() {
            return Ok(0); // nothing to record: the transaction rolls back unused
        }
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: "system".into(),
            action: "kiosk.outcome_missing".into(),
            target: format!("{} issuance(s)", flagged.len()),
            detail: serde_json::json!({"issuances": flagged}).to_string(),
        })
        .await?;
        Ok(flagged.len())
    }
}
