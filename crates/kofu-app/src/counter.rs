//! The counter path (窓口交付): what a clerk's session asks of the office. Every call
//! takes the session, checks its right in [`crate::staff::allowed`] and is audited
//! under the clerk's own login.

use kofu_domain::date::local_date_time;
use kofu_domain::search::NameQuery;
use kofu_domain::{Date, ResidentStatus};
use kofu_store::{AuditEntry, ResidentQuery};
use serde::Serialize;
use time::OffsetDateTime;

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
        session.require(Action::SearchResidents)?;
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
        let mut hits = Vec::new();
        for r in self.store.search(&query, SEARCH_LIMIT).await? {
            let mut ids: Vec<String> = self
                .store
                .household(&r.household_id)
                .await?
                .into_iter()
                .map(|m| m.resident_id)
                .collect();
            ids.push(r.resident_id.clone());
            // Fail closed: a measure past its planned end is still in force.
            let support_measure = !self.store.support_measures(&ids).await?.is_empty();
            let suppression = self
                .store
                .suppressions(&r.resident_id, &r.household_id)
                .await?
                .iter()
                .any(|s| s.from <= today);
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
