//! The second look at a terminal's upload: its rows are not taken as sent but
//! re-derived. A chain that links and rows that match their digests prove only that
//! the terminal's key wrote them; whoever holds that key (or the replica) could have
//! written anything. So every row is held against what the server itself would have
//! written: fees from the schedule in force, numbers from the terminal's own ranges,
//! events and reversals only on the terminal's own issuances, and actors that existed,
//! were active and were allowed to do it, offline, at that instant.

use std::collections::{BTreeMap, HashMap, HashSet};

use kofu_domain::certificate::Applicant;
use kofu_domain::fee::{MAX_COPIES, compute_fee};
use kofu_domain::{CertificateKind, Channel, Municipality};
use kofu_store::ledger::{FEES, ISSUANCE_EVENTS, ISSUANCES, ISSUED_COPIES, LedgerTx};
use kofu_store::offline::OFFLINE_RANGES;
use kofu_store::{AuditRow, Cell};
use time::OffsetDateTime;

use super::{cell_int, cell_text, rejected};
use crate::staff::{Action, Role, allowed};
use crate::{AppError, Office};

/// The column of a row, by name: the ledgers' layouts live in kofu-store.
mod col {
    pub const ISSUANCE_ID: usize = 0;
    pub const I_CHANNEL: usize = 3;
    pub const I_STAFF: usize = 5;
    pub const I_APPLICANT: usize = 6;
    pub const I_KIND: usize = 8;
    pub const I_COPIES: usize = 10;
    pub const I_PAGES: usize = 11;
    pub const I_FEE: usize = 12;
    pub const I_AT: usize = 13;
    pub const C_ISSUANCE: usize = 0;
    pub const C_COPY: usize = 1;
    pub const C_NUMBER: usize = 2;
    pub const C_PAGES: usize = 3;
    pub const E_ISSUANCE: usize = 1;
    pub const E_EVENT: usize = 2;
    pub const E_DETAIL: usize = 3;
    pub const E_STAFF: usize = 4;
    pub const E_AT: usize = 5;
    pub const F_ISSUANCE: usize = 1;
    pub const F_KIND: usize = 2;
    pub const F_CHANNEL: usize = 3;
    pub const F_AMOUNT: usize = 4;
    pub const F_METHOD: usize = 5;
    pub const F_EXEMPTION: usize = 6;
    pub const F_RECEIPT: usize = 7;
    pub const F_STAFF: usize = 8;
}

fn instant(text: &str, what: &str) -> Result<OffsetDateTime, AppError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| rejected(format!("{what}: {text:?} is not an RFC 3339 instant")))
}

/// The serial at the end of an issue number (`… 本庁1 P001 100001`).
pub(super) fn serial_of(number: &str) -> i64 {
    number
        .rsplit(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1)
}

/// Who may have acted offline, and until when.
struct Actors<'a> {
    office: &'a Office,
    known: HashMap<String, Option<(Role, OffsetDateTime, Option<OffsetDateTime>)>>,
}

impl Actors<'_> {
    /// Refuses unless `login` existed at `at`, was not yet deactivated, and its role
    /// may work offline and do `action`.
    async fn check(
        &mut self,
        login: &str,
        at: OffsetDateTime,
        action: Action,
        row: &str,
    ) -> Result<(), AppError> {
        if !self.known.contains_key(login) {
            let found = match self.office.store.staff(login).await? {
                None => None,
                Some(staff) => {
                    let role: Role = staff
                        .role
                        .parse()
                        .map_err(|_| rejected(format!("{row}: {login} has no known role")))?;
                    let created = instant(&staff.created_at, "staff.created_at")?;
                    let deactivated = self.deactivated(login).await?;
                    Some((role, created, deactivated))
                }
            };
            self.known.insert(login.to_owned(), found);
        }
        let refuse = |why: &str| Err(rejected(format!("{row}: {login} {why} at {at}")));
        match self.known.get(login).cloned().flatten() {
            None => refuse("is no member of staff"),
            Some((_, created, _)) if at < created => refuse("did not exist yet"),
            Some((_, _, Some(off))) if off <= at => refuse("was deactivated"),
            Some((role, _, _)) if !allowed(role, Action::WorkOffline) => {
                refuse("may not work offline")
            }
            Some((role, _, _)) if !allowed(role, action) => refuse(&format!("may not {action:?}")),
            Some(_) => Ok(()),
        }
    }

    /// When the account was deactivated, if it was (the audit log says so).
    async fn deactivated(&self, login: &str) -> Result<Option<OffsetDateTime>, AppError> {
        const SQL: &str =
            "SELECT at FROM audit_log WHERE action = 'staff.deactivate' AND target = $1";
        let rows = self
            .office
            .store
            .ledger_query(SQL, &[Cell::Text(login.to_owned())], &[false])
            .await?;
        let mut first: Option<OffsetDateTime> = None;
        for r in rows {
            let at = instant(&cell_text(r.first()), "audit_log.at")?;
            first = Some(first.map_or(at, |f| f.min(at)));
        }
        Ok(first)
    }
}

/// An issuance the upload may refer to: one of its own rows, or one of this terminal's
/// offline issuances the server accepted before.
struct Known {
    kind: String,
    staff: String,
    fee_yen: i64,
    /// Fees already booked for it on the server (amount, method).
    booked: Vec<(i64, String)>,
    voided_before: bool,
}

/// Re-derives every uploaded row; see the module documentation. `rows` are the rows
/// the upload's new entries notarise, by table; `ranges` the serials reserved for
/// `terminal`.
pub(super) async fn recheck(
    office: &Office,
    tx: &mut LedgerTx,
    terminal: &str,
    entries: &[&AuditRow],
    rows: &BTreeMap<&'static str, Vec<Vec<Cell>>>,
    ranges: &[(i64, i64)],
    now: OffsetDateTime,
) -> Result<(), AppError> {
    // Nothing offline happens before the terminal's numbers were reserved, or later
    // than now (give or take a terminal's clock).
    let latest = now + time::Duration::seconds(crate::terminal::PROOF_SKEW_SECS);
    let mut reserved: Vec<(i64, i64, OffsetDateTime)> = Vec::new();
    for r in tx.rows_where(&OFFLINE_RANGES, "terminal", terminal).await? {
        reserved.push((
            cell_int(r.first()),
            cell_int(r.get(1)),
            instant(&cell_text(r.get(4)), "offline_ranges.at")?,
        ));
    }
    let in_window = |at: OffsetDateTime, serial: i64, what: &str| {
        let since = reserved
            .iter()
            .filter(|(f, l, _)| (*f..=*l).contains(&serial))
            .map(|(_, _, at)| *at)
            .min();
        match since {
            Some(since) if at >= since && at <= latest => Ok(()),
            _ => Err(rejected(format!(
                "{what}: {at} is outside the time its numbers were reserved for (up to now)"
            ))),
        }
    };
    let table =
        |t: &kofu_store::ledger::LedgerTable| rows.get(t.name).map_or(&[][..], Vec::as_slice);
    let (issuances, copies, events, fees) = (
        table(&ISSUANCES),
        table(&ISSUED_COPIES),
        table(&ISSUANCE_EVENTS),
        table(&FEES),
    );
    let mut actors = Actors {
        office,
        known: HashMap::new(),
    };

    // Whoever issued, overrode or voided was someone allowed to, offline, then. (Other
    // entries, a failed login among them, may name anyone: they did nothing.)
    for e in entries {
        let action = match e.action.as_str() {
            "counter.issue_override" => Action::OverrideSupportMeasure,
            "counter.issue" => Action::IssueCertificate,
            "counter.void" => Action::VoidIssuance,
            "counter.print_outcome" => Action::IssueCertificate,
            _ => continue,
        };
        let at = instant(&e.at, &format!("entry {}", e.seq))?;
        actors
            .check(&e.actor, at, action, &format!("entry {}", e.seq))
            .await?;
    }

    // The audit log read below must hold every entry written so far.
    office.store.seal_audit().await?;
    // Only downloads the issuances could have been made from: a terminal refuses to
    // issue from a replica older than its bound, so none before the earliest
    // issuance less that bound (and a day for clocks) is read.
    let earliest = issuances
        .iter()
        .filter_map(|r| instant(&cell_text(r.get(col::I_AT)), "issued_at").ok())
        .min()
        .unwrap_or(now);
    let bound = i64::try_from(office.settings.offline_limits.max_replica_age_secs)
        .unwrap_or(i64::MAX / 2)
        .saturating_add(24 * 3600);
    let replica_downloads =
        downloads_of(office, terminal, earliest - time::Duration::seconds(bound)).await?;
    let schedules = office.store.fee_schedules().await?;
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut new_ids: HashSet<String> = HashSet::new();
    for row in issuances {
        let id = cell_text(row.get(col::ISSUANCE_ID));
        let what = format!("issuance {id}");
        if cell_text(row.get(col::I_CHANNEL)) != "counter" {
            return Err(rejected(format!(
                "{what}: an offline issuance is a counter one"
            )));
        }
        let kind: CertificateKind = cell_text(row.get(col::I_KIND)).parse().map_err(|_| {
            rejected(format!(
                "{what}: no certificate kind {:?}",
                cell_text(row.get(col::I_KIND))
            ))
        })?;
        let n = cell_int(row.get(col::I_COPIES));
        if !(1..=i64::from(MAX_COPIES)).contains(&n) {
            return Err(rejected(format!("{what}: {n} copies")));
        }
        let at = instant(&cell_text(row.get(col::I_AT)), &what)?;
        let staff = cell_text(row.get(col::I_STAFF));
        actors
            .check(&staff, at, Action::IssueCertificate, &what)
            .await?;

        // Its copies: 1..=n, each once, pages adding up.
        let mine: Vec<&Vec<Cell>> = copies
            .iter()
            .filter(|c| cell_text(c.get(col::C_ISSUANCE)) == id)
            .collect();
        let mut numbers: Vec<i64> = mine.iter().map(|c| cell_int(c.get(col::C_COPY))).collect();
        numbers.sort_unstable();
        if numbers != (1..=n).collect::<Vec<_>>() {
            return Err(rejected(format!(
                "{what}: copies {numbers:?}, not 1 to {n}"
            )));
        }
        for c in &mine {
            in_window(at, serial_of(&cell_text(c.get(col::C_NUMBER))), &what)?;
        }
        let pages: i64 = mine.iter().map(|c| cell_int(c.get(col::C_PAGES))).sum();
        if pages != cell_int(row.get(col::I_PAGES)) {
            return Err(rejected(format!(
                "{what}: its copies have {pages} pages, not {}",
                cell_int(row.get(col::I_PAGES))
            )));
        }

        // Its fee: what the schedule in force then asks for this kind and number of
        // copies (公用 exempt), under any schedule in force from the terminal's last
        // replica to the issuance.
        let applicant: Applicant = serde_json::from_str(&cell_text(row.get(col::I_APPLICANT)))
            .map_err(|_| rejected(format!("{what}: the applicant is unreadable")))?;
        let exemption = match &applicant {
            Applicant::Official { office } => Some(format!("公用: {office}")),
            _ => None,
        };
        let since = replica_downloads
            .iter()
            .copied()
            .filter(|d| *d <= at)
            .max()
            .unwrap_or(at);
        let towns = schedules.between(since, at);
        let fee_yen = cell_int(row.get(col::I_FEE));
        let due = fees_due(
            &towns,
            kind,
            u32::try_from(n).unwrap_or(0),
            exemption.as_deref(),
        );
        if !due.contains(&fee_yen) {
            return Err(rejected(format!(
                "{what}: a fee of {fee_yen} yen, where the schedule asks {due:?}"
            )));
        }
        known.insert(
            id.clone(),
            Known {
                kind: kind.code().to_owned(),
                staff,
                fee_yen,
                booked: Vec::new(),
                voided_before: false,
            },
        );
        new_ids.insert(id);
    }
    for c in copies {
        let id = cell_text(c.get(col::C_ISSUANCE));
        if !new_ids.contains(&id) {
            return Err(rejected(format!(
                "copy of issuance {id}: not an issuance of this upload"
            )));
        }
    }

    // Issuances referred to by events and fees but uploaded before: this terminal's
    // own offline ones only.
    let referred: Vec<String> = events
        .iter()
        .map(|e| cell_text(e.get(col::E_ISSUANCE)))
        .chain(fees.iter().map(|f| cell_text(f.get(col::F_ISSUANCE))))
        .filter(|id| !new_ids.contains(id))
        .collect();
    for id in referred {
        if known.contains_key(&id) {
            continue;
        }
        let found = tx.rows_where(&ISSUANCES, "issuance_id", &id).await?;
        let own_copies = tx.rows_where(&ISSUED_COPIES, "issuance_id", &id).await?;
        let is_own = found
            .first()
            .is_some_and(|row| cell_text(row.get(4)).split('/').next() == Some(terminal))
            && !own_copies.is_empty()
            && own_copies.iter().all(|c| {
                let serial = serial_of(&cell_text(c.get(col::C_NUMBER)));
                ranges.iter().any(|(f, l)| (*f..=*l).contains(&serial))
            });
        let Some(row) = found.first().filter(|_| is_own) else {
            return Err(rejected(format!(
                "issuance {id} is not one this terminal issued offline"
            )));
        };
        let events_before = tx.rows_where(&ISSUANCE_EVENTS, "issuance_id", &id).await?;
        let booked = tx
            .rows_where(&FEES, "issuance_id", &id)
            .await?
            .iter()
            .map(|f| {
                (
                    cell_int(f.get(col::F_AMOUNT)),
                    cell_text(f.get(col::F_METHOD)),
                )
            })
            .collect();
        known.insert(
            id,
            Known {
                kind: cell_text(row.get(col::I_KIND)),
                staff: cell_text(row.get(col::I_STAFF)),
                fee_yen: cell_int(row.get(col::I_FEE)),
                booked,
                voided_before: events_before
                    .iter()
                    .any(|e| cell_text(e.get(col::E_EVENT)) == "void"),
            },
        );
    }

    // Events: voids of its own issuances, once, by someone who may void; print
    // outcomes of its own issuances, by someone who may issue.
    let mut voided: HashMap<String, String> = HashMap::new();
    for e in events {
        let id = cell_text(e.get(col::E_ISSUANCE));
        let what = format!("event on issuance {id}");
        if cell_text(e.get(col::E_EVENT)) == "print" {
            known
                .get(&id)
                .ok_or_else(|| rejected(format!("{what}: unknown issuance")))?;
            let detail: serde_json::Value =
                serde_json::from_str(&cell_text(e.get(col::E_DETAIL))).unwrap_or_default();
            if !matches!(detail["outcome"].as_str(), Some("printed" | "failed")) {
                return Err(rejected(format!(
                    "{what}: a print outcome is printed or failed"
                )));
            }
            let at = instant(&cell_text(e.get(col::E_AT)), &what)?;
            if at > latest {
                return Err(rejected(format!("{what}: {at} is later than now")));
            }
            let staff = cell_text(e.get(col::E_STAFF));
            actors
                .check(&staff, at, Action::IssueCertificate, &what)
                .await?;
            continue;
        }
        if cell_text(e.get(col::E_EVENT)) != "void" {
            return Err(rejected(format!(
                "{what}: {:?} is not an offline event",
                cell_text(e.get(col::E_EVENT))
            )));
        }
        let issuance = known
            .get(&id)
            .ok_or_else(|| rejected(format!("{what}: unknown issuance")))?;
        if issuance.voided_before || voided.contains_key(&id) {
            return Err(rejected(format!("{what}: voided already")));
        }
        let detail: serde_json::Value =
            serde_json::from_str(&cell_text(e.get(col::E_DETAIL))).unwrap_or_default();
        if detail["reason"]
            .as_str()
            .is_none_or(|r| r.trim().is_empty())
        {
            return Err(rejected(format!("{what}: a void needs its reason")));
        }
        let staff = cell_text(e.get(col::E_STAFF));
        let at = instant(&cell_text(e.get(col::E_AT)), &what)?;
        actors
            .check(&staff, at, Action::VoidIssuance, &what)
            .await?;
        voided.insert(id, staff);
    }

    // Fees: one taken per new issuance, as re-derived; one reversal per void, of what
    // was taken, under the same method.
    let mut taken: HashSet<String> = HashSet::new();
    let mut reversed: HashSet<String> = HashSet::new();
    let mut fees_taken: HashMap<String, usize> = HashMap::new();
    for f in fees {
        if !cell_text(f.get(col::F_EXEMPTION)).starts_with("void: ") {
            *fees_taken
                .entry(cell_text(f.get(col::F_ISSUANCE)))
                .or_default() += 1;
        }
    }
    if let Some((id, _)) = fees_taken
        .iter()
        .find(|(id, n)| **n > 1 || !new_ids.contains(*id))
    {
        return Err(rejected(format!(
            "fee of issuance {id}: a fee is taken once, with its issuance"
        )));
    }
    for f in fees {
        let id = cell_text(f.get(col::F_ISSUANCE));
        let what = format!("fee of issuance {id}");
        let issuance = known
            .get(&id)
            .ok_or_else(|| rejected(format!("{what}: unknown issuance")))?;
        if cell_text(f.get(col::F_KIND)) != issuance.kind
            || cell_text(f.get(col::F_CHANNEL)) != "counter"
        {
            return Err(rejected(format!(
                "{what}: its kind or channel is not the issuance's"
            )));
        }
        let amount = cell_int(f.get(col::F_AMOUNT));
        let method = cell_text(f.get(col::F_METHOD));
        let exemption = cell_text(f.get(col::F_EXEMPTION));
        if exemption.starts_with("void: ") {
            let Some(voider) = voided.get(&id) else {
                return Err(rejected(format!("{what}: a reversal without a void")));
            };
            let mut paid: Vec<(i64, String)> = issuance.booked.clone();
            if new_ids.contains(&id) {
                paid.push((issuance.fee_yen, String::new()));
            }
            let total: i64 = paid.iter().map(|(a, _)| a).sum();
            let first_method = issuance
                .booked
                .first()
                .map(|(_, m)| m.clone())
                .or_else(|| {
                    fees.iter()
                        .find(|g| {
                            cell_text(g.get(col::F_ISSUANCE)) == id
                                && !cell_text(g.get(col::F_EXEMPTION)).starts_with("void: ")
                        })
                        .map(|g| cell_text(g.get(col::F_METHOD)))
                })
                .unwrap_or_default();
            if amount != -total
                || method != first_method
                || cell_text(f.get(col::F_STAFF)) != *voider
            {
                return Err(rejected(format!(
                    "{what}: a reversal of {amount} yen by {method}, where {} yen by {first_method} was taken",
                    total
                )));
            }
            if !reversed.insert(id) {
                return Err(rejected(format!("{what}: reversed twice")));
            }
            continue;
        }
        if !new_ids.contains(&id) || !taken.insert(id.clone()) {
            return Err(rejected(format!(
                "{what}: a fee is taken once, with its issuance"
            )));
        }
        let exempt = method == "exempt";
        let expected_method = if exempt {
            !exemption.is_empty()
        } else {
            matches!(method.as_str(), "cash" | "cashless") && exemption.is_empty()
        };
        if amount != issuance.fee_yen || !expected_method || (exempt && amount != 0) {
            return Err(rejected(format!(
                "{what}: {amount} yen by {method:?}, where the issuance's fee is {} yen",
                issuance.fee_yen
            )));
        }
        if cell_text(f.get(col::F_STAFF)) != issuance.staff {
            return Err(rejected(format!(
                "{what}: taken by someone else than the issuer"
            )));
        }
        let last_serial = copies
            .iter()
            .filter(|c| cell_text(c.get(col::C_ISSUANCE)) == id)
            .map(|c| serial_of(&cell_text(c.get(col::C_NUMBER))))
            .max()
            .unwrap_or(-1);
        let receipt = cell_text(f.get(col::F_RECEIPT));
        if !receipt.ends_with(&format!("-{terminal}-OFF{last_serial}")) {
            return Err(rejected(format!(
                "{what}: receipt {receipt:?} is not this terminal's offline receipt"
            )));
        }
    }
    if let Some(id) = new_ids.iter().find(|id| !taken.contains(*id)) {
        return Err(rejected(format!("issuance {id} has no fee")));
    }
    if let Some(id) = voided.keys().find(|id| !reversed.contains(*id)) {
        return Err(rejected(format!(
            "the void of issuance {id} has no reversal"
        )));
    }
    Ok(())
}

/// Every fee the schedules of `towns` ask.
fn fees_due(
    towns: &[&Municipality],
    kind: CertificateKind,
    copies: u32,
    exemption: Option<&str>,
) -> Vec<i64> {
    let mut due: Vec<i64> = towns
        .iter()
        .filter_map(|t| compute_fee(t, kind, Channel::Counter, copies, exemption).ok())
        .map(|f| i64::from(f.total_yen))
        .collect();
    due.sort_unstable();
    due.dedup();
    due
}

/// When the terminal downloaded its replica (each `offline.replica` access).
async fn downloads_of(
    office: &Office,
    terminal: &str,
    since: OffsetDateTime,
) -> Result<Vec<OffsetDateTime>, AppError> {
    const SQL: &str = "SELECT at FROM audit_log WHERE action = 'offline.replica' \
        AND target = $1 AND at >= $2";
    office
        .store
        .ledger_query(
            SQL,
            &[
                Cell::Text(terminal.to_owned()),
                Cell::Text(crate::kiosk::instant_prefix(since)),
            ],
            &[false],
        )
        .await?
        .iter()
        .map(|r| instant(&cell_text(r.first()), "audit_log.at"))
        .collect()
}
