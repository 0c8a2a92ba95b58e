//! Offline operation: the server's side (replica feed, cached logins, reserved number
//! ranges, accepting a terminal's chain exactly once, flags and their review) and the
//! terminal's side (loading its replica, the bounds of offline work, the upload).
//!
//! A terminal works offline through the very same use cases as online, on an
//! [`Office`] over its own encrypted replica whose settings carry an
//! [`OfflineTerminal`]: numbers come from the ranges the server reserved for it, its
//! ledgers and audit chain are its own, and the bounds fail closed. Back online, its
//! audit entries after the last acknowledged one go up with the ledger rows they
//! notarise; the server verifies the chain link by link and every row against its
//! digest, appends them to its own ledgers in one transaction notarised by its own
//! chain, and answers how far it accepted. A retry of a batch whose answer was lost
//! finds every entry already accepted with the same hash and changes nothing.

mod recheck;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use kofu_store::ledger::{FEES, ISSUANCE_EVENTS, ISSUANCES, ISSUED_COPIES, LedgerTable, Notarised};
use kofu_store::offline::{
    OFFLINE_FLAG_RESOLUTIONS, OFFLINE_FLAGS, OFFLINE_RANGES, TERMINAL_AUDIT,
};
use kofu_store::staff::StaffRow;
use kofu_store::{AuditEntry, AuditRow, Cell, Store};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::kiosk::rfc3339;
use crate::staff::{Action, StaffSession};
use crate::terminal::VerifiedTerminal;
use crate::{AppError, Office};

/// The first serial of offline ranges: far above any day's online serials, so an
/// offline 発行番号 is told apart at a glance (`… 本庁1 P001 100001`).
pub const OFFLINE_SERIAL_BASE: i64 = 100_000;

/// The most whole-registry snapshots one terminal may download in an hour.
pub const MAX_SNAPSHOTS_PER_HOUR: usize = 6;

/// The most audit entries one upload may carry.
pub const MAX_BATCH_ENTRIES: usize = 2_000;

/// The ledgers a terminal's upload may write.
static UPLOADED_TABLES: [&LedgerTable; 4] = [&ISSUANCES, &ISSUED_COPIES, &ISSUANCE_EVENTS, &FEES];

/// What bounds offline work on a terminal; past either bound it refuses to issue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineLimits {
    /// The oldest the replica may be (since the server last confirmed it current).
    pub max_replica_age_secs: u64,
    /// The most issuances not yet acknowledged by the server.
    pub max_unsynced: u32,
}

impl Default for OfflineLimits {
    fn default() -> Self {
        OfflineLimits {
            max_replica_age_secs: 8 * 3600,
            max_unsynced: 500,
        }
    }
}

/// Set on the office of a terminal working offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineTerminal {
    /// The terminal's name (as in its counter requests).
    pub terminal: String,
    /// The bounds.
    pub limits: OfflineLimits,
}

/// A range of serials reserved for one terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialRange {
    /// First serial.
    pub first: i64,
    /// Last serial (inclusive).
    pub last: i64,
}

/// What a terminal keeps to let one member of staff log in offline, and to issue.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineKit {
    /// The login.
    pub login: String,
    /// Its role's code.
    pub role: String,
    /// The Argon2id hash of the password (PHC string).
    pub password_hash: String,
    /// The TOTP secret (base32).
    pub totp_secret: String,
    /// The last TOTP step used online: offline, only later codes are taken.
    pub last_totp_step: i64,
    /// A fresh range of serials, when the terminal had few left.
    pub range: Option<SerialRange>,
    /// The key of this terminal's encrypted replica (hex, 32 bytes): derived from the
    /// installation's secret and the terminal's enrolment, handed only to the terminal
    /// itself (a signed request), so any online login on it gets the same key; the
    /// terminal keeps it only wrapped under staff passwords.
    pub replica_key: String,
    /// The bounds of offline work the town set.
    pub limits: OfflineLimits,
}

impl std::fmt::Debug for OfflineKit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash and the secret never reach a log.
        f.debug_struct("OfflineKit")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// A replica's catch-up: change events after its position, or the whole registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaFeed {
    /// The server's feed position the lines bring the replica to.
    pub last_seq: Option<i64>,
    /// Its instant (RFC 3339), with `snapshot`.
    pub last_at: Option<String>,
    /// Whether the lines are a full snapshot (load into an empty replica).
    pub snapshot: bool,
    /// Feed lines: records (snapshot) or change events.
    pub lines: Vec<String>,
    /// Whether more change events follow (ask again from `last_seq`).
    pub more: bool,
    /// The server's data generation (imports of full records): a replica passes the
    /// one it holds; another one means a snapshot.
    pub loads: i64,
    /// The administration's settings in force on the server (fees, hours, certifier,
    /// seal, terminals), which the replica applies like the server does.
    #[serde(default)]
    pub settings: Vec<kofu_store::settings::SettingRow>,
    /// The logins that may work offline now (active, with the right): a terminal
    /// forgets every other cached account, so a deactivated one is gone from every
    /// replica at its next sync. `None` from a server that does not send it.
    #[serde(default)]
    pub staff: Option<Vec<String>>,
    /// With `more` on a snapshot: ask for the next page with this (`?cursor=`).
    #[serde(default)]
    pub cursor: Option<String>,
    /// Whether this page continues a snapshot (added to the records the earlier pages
    /// loaded) rather than starting one (which replaces the replica's records).
    #[serde(default)]
    pub continued: bool,
}

/// A paged snapshot's cursor as the wire carries it (hex of its JSON): where to go on,
/// and the generation and position of its first page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PageCursor {
    loads: i64,
    last_seq: Option<i64>,
    last_at: Option<String>,
    at: kofu_store::offline::SnapshotCursor,
}

impl PageCursor {
    fn encode(&self) -> Result<String, AppError> {
        let json = serde_json::to_vec(self).map_err(|e| crate::staff::internal(e.to_string()))?;
        Ok(crate::staff::hex(&json))
    }

    fn decode(text: &str) -> Result<PageCursor, AppError> {
        let bad = || AppError::BadRequest {
            field: "cursor",
            reason: "not a cursor this server gave".into(),
        };
        if text.len() > 8192 {
            return Err(bad());
        }
        let bytes = hex::decode(text).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

/// A replica line without the resident's 個人番号: unless the administrator allowed it,
/// offline issuance never prints one, so a terminal's replica never holds one (a lost
/// or stolen terminal leaks none).
/// Lines of other records, and residents without one, pass unchanged.
fn without_my_number(line: &str) -> String {
    if !line.contains("\"my_number\"") {
        return line.to_owned();
    }
    let strip = |record: &mut serde_json::Value| {
        if record.get("type").and_then(serde_json::Value::as_str) == Some("resident")
            && let Some(fields) = record.as_object_mut()
        {
            fields.remove("my_number");
        }
    };
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_owned();
    };
    strip(&mut value);
    if let Some(record) = value.get_mut("record") {
        strip(record);
    }
    value.to_string()
}

/// One ledger row of an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedRow {
    /// The ledger table's name.
    pub table: String,
    /// Its values, in column order.
    pub cells: Vec<Cell>,
}

/// A terminal's upload: its audit entries after the last acknowledged one, and the
/// ledger rows they notarise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncBatch {
    /// The terminal.
    pub terminal: String,
    /// Its audit entries, in chain order.
    pub entries: Vec<AuditRow>,
    /// The ledger rows those entries notarise.
    pub rows: Vec<UploadedRow>,
}

/// The server's answer to an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReceipt {
    /// The terminal's chain is accepted up to this entry.
    pub accepted_through: i64,
    /// Entries accepted by this upload (0 for a repeat).
    pub new_entries: usize,
    /// Issuances accepted by this upload.
    pub issuances: usize,
    /// Flags raised for the supervisor.
    pub flags: usize,
}

/// Where a terminal's offline work stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfflineStatus {
    /// The replica's feed position.
    pub replica_seq: Option<i64>,
    /// When the server last confirmed the replica current.
    pub replica_current_at: Option<String>,
    /// Seconds since then (`None`: never).
    pub replica_age_secs: Option<i64>,
    /// Issuances not yet acknowledged by the server.
    pub unsynced_issuances: i64,
    /// Reserved serials left.
    pub numbers_left: i64,
    /// Why it would refuse to issue now, if it would.
    pub refusal: Option<String>,
}

/// Refuses a request whose body names another terminal than the one that signed it.
fn same_terminal(verified: &VerifiedTerminal, named: &str) -> Result<(), AppError> {
    if verified.name() == named {
        Ok(())
    } else {
        Err(AppError::TerminalUnverified(format!(
            "the request names terminal {named:?} but was signed by {:?}",
            verified.name()
        )))
    }
}

fn rejected(why: impl Into<String>) -> AppError {
    AppError::SyncRejected(why.into())
}

fn cell_text(cell: Option<&Cell>) -> String {
    match cell {
        Some(Cell::Text(t)) => t.clone(),
        Some(Cell::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn cell_int(cell: Option<&Cell>) -> i64 {
    match cell {
        Some(Cell::Int(i)) => *i,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------
// The server's side

impl Office {
    /// The replica catch-up for a terminal at `after` of generation `loads`: the
    /// change events since, or — when it has none yet, holds an older generation (full
    /// records were imported since) or the log does not reach back — a snapshot, in
    /// pages of `limit` records; `cursor` (a page's [`ReplicaFeed::cursor`]) asks for
    /// the next page of one.
    #[allow(clippy::too_many_arguments)]
    pub async fn replica_feed(
        &self,
        session: &StaffSession,
        terminal: &VerifiedTerminal,
        after: Option<i64>,
        loads: Option<i64>,
        limit: usize,
        cursor: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<ReplicaFeed, AppError> {
        self.authorize(session, Action::WorkOffline, now).await?;
        let limit = limit.clamp(1, 10_000);
        if let Some(cursor) = cursor {
            let page = PageCursor::decode(cursor)?;
            let generation = self.store.feed_loads().await?;
            if page.loads != generation {
                return Err(AppError::BadRequest {
                    field: "cursor",
                    reason: "the registry was reloaded since this snapshot began: start again"
                        .into(),
                });
            }
            return self
                .snapshot_page(session, terminal, Some(page), limit, now)
                .await;
        }
        let generation = self.store.feed_loads().await?;
        let current = self.store.feed_state().await?;
        let first_logged = self.store.first_logged_change().await?;
        let can_catch_up = match (after, first_logged) {
            _ if loads != Some(generation) => false,
            (None, _) => false,
            // Nothing logged: current only if the server has no events either.
            (Some(a), None) => current.is_none_or(|c| c.last_seq == a),
            (Some(a), Some(first)) => a >= first - 1,
        };
        if !can_catch_up {
            self.check_snapshot_rate(terminal, now).await?;
            return self
                .snapshot_page(session, terminal, None, limit, now)
                .await;
        }
        let changes = self
            .store
            .changes_after(after, i64::try_from(limit + 1).unwrap_or(i64::MAX))
            .await?;
        let more = changes.len() > limit;
        let lines: Vec<_> = changes.into_iter().take(limit).collect();
        let feed = ReplicaFeed {
            last_seq: lines.last().map(|c| c.seq).or(after),
            last_at: lines.last().map(|c| c.at.clone()),
            snapshot: false,
            lines: lines.iter().map(|c| self.replica_line(&c.line)).collect(),
            more,
            loads: generation,
            settings: self.store.current_settings().await?,
            staff: Some(self.offline_logins().await?),
            cursor: None,
            continued: false,
        };
        self.replica_sent(session, terminal, feed, now).await
    }

    /// One page of a snapshot: the first (`from` `None`, at the feed's position now)
    /// or the one a cursor names (reporting the first page's position, which the
    /// replica replays the change log from once the last page is in).
    async fn snapshot_page(
        &self,
        session: &StaffSession,
        terminal: &VerifiedTerminal,
        from: Option<PageCursor>,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<ReplicaFeed, AppError> {
        let generation = self.store.feed_loads().await?;
        let page = self
            .store
            .snapshot_page(from.as_ref().map(|c| &c.at), limit)
            .await?;
        let (last_seq, last_at) = match &from {
            Some(c) => (c.last_seq, c.last_at.clone()),
            None => (page.last_seq, page.last_at.map(rfc3339)),
        };
        let cursor = match page.next {
            Some(at) => Some(
                PageCursor {
                    loads: generation,
                    last_seq,
                    last_at: last_at.clone(),
                    at,
                }
                .encode()?,
            ),
            None => None,
        };
        let feed = ReplicaFeed {
            last_seq,
            last_at,
            snapshot: true,
            lines: page.lines.iter().map(|l| self.replica_line(l)).collect(),
            more: cursor.is_some(),
            loads: generation,
            settings: self.store.current_settings().await?,
            staff: Some(self.offline_logins().await?),
            cursor,
            continued: from.is_some(),
        };
        self.replica_sent(session, terminal, feed, now).await
    }

    /// A registry line as a replica gets it: without the resident's 個人番号 unless
    /// the administrator allowed offline issuance of it (`offline_my_number`).
    fn replica_line(&self, line: &str) -> String {
        if self.settings.offline_my_number {
            line.to_owned()
        } else {
            without_my_number(line)
        }
    }

    /// Refuses a whole-registry snapshot to a terminal that had
    /// [`MAX_SNAPSHOTS_PER_HOUR`] in the last hour: a terminal needs one when it is new
    /// or the server reloaded; more is a copy being drained, and waits.
    async fn check_snapshot_rate(
        &self,
        terminal: &VerifiedTerminal,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        // First pages only: a snapshot's later pages are the same download.
        const SQL: &str = "SELECT at FROM audit_log WHERE action = 'offline.replica' \
            AND target = $1 AND detail LIKE '%\"snapshot\":true%' \
            AND detail NOT LIKE '%\"continued\":true%' AND at >= $2";
        let hour = time::Duration::hours(1);
        // Entries still pending (PostgreSQL's sealer) are counted too.
        self.store.seal_audit().await?;
        let mut recent: Vec<OffsetDateTime> = self
            .store
            .ledger_query(
                SQL,
                &[
                    Cell::Text(terminal.name().to_owned()),
                    Cell::Text(crate::kiosk::instant_prefix(now - hour)),
                ],
                &[false],
            )
            .await?
            .iter()
            .filter_map(|r| {
                OffsetDateTime::parse(
                    &cell_text(r.first()),
                    &time::format_description::well_known::Rfc3339,
                )
                .ok()
            })
            .filter(|at| *at > now - hour)
            .collect();
        if recent.len() < MAX_SNAPSHOTS_PER_HOUR {
            return Ok(());
        }
        recent.sort_unstable();
        let oldest = recent[recent.len() - MAX_SNAPSHOTS_PER_HOUR];
        let wait = (oldest + hour - now).whole_seconds().max(1);
        Err(AppError::RateLimited(u64::try_from(wait).unwrap_or(1)))
    }

    /// The logins that may work offline now: active accounts whose role may.
    async fn offline_logins(&self) -> Result<Vec<String>, AppError> {
        Ok(self
            .store
            .staff_list()
            .await?
            .into_iter()
            .filter(|s| {
                s.active
                    && s.role
                        .parse::<crate::staff::Role>()
                        .is_ok_and(|r| crate::staff::allowed(r, Action::WorkOffline))
            })
            .map(|s| s.login)
            .collect())
    }

    /// Records a replica download as an audited access (who, how many records, from
    /// which position), which the supervisor's review lists, and hands the feed on.
    async fn replica_sent(
        &self,
        session: &StaffSession,
        terminal: &VerifiedTerminal,
        feed: ReplicaFeed,
        now: OffsetDateTime,
    ) -> Result<ReplicaFeed, AppError> {
        self.store
            .record_audit(AuditEntry {
                at: rfc3339(now),
                actor: session.login.clone(),
                action: "offline.replica".into(),
                target: terminal.name().to_owned(),
                detail: serde_json::json!({
                    "snapshot": feed.snapshot,
                    "continued": feed.continued,
                    "records": feed.lines.len(),
                    "last_seq": feed.last_seq,
                })
                .to_string(),
            })
            .await?;
        Ok(feed)
    }

    /// The offline kit of the session's own account for `terminal`; with a fresh
    /// range of serials when it has fewer than half a range left.
    pub async fn offline_kit(
        &self,
        session: &StaffSession,
        verified: &VerifiedTerminal,
        terminal: &str,
        numbers_left: i64,
        now: OffsetDateTime,
    ) -> Result<OfflineKit, AppError> {
        self.authorize(session, Action::WorkOffline, now).await?;
        same_terminal(verified, terminal)?;
        let row = self
            .store
            .staff(&session.login)
            .await?
            .ok_or_else(|| AppError::UnknownStaff(session.login.clone()))?;
        let size = i64::from(self.settings.offline_range_size.max(1));
        let mut tx = self.store.begin_ledger().await?;
        let range = if numbers_left < size / 2 {
            let first = tx.last_reserved_serial().await?.max(OFFLINE_SERIAL_BASE) + 1;
            let range = SerialRange {
                first,
                last: first + size - 1,
            };
            tx.append(
                &OFFLINE_RANGES,
                vec![
                    Cell::Int(range.first),
                    Cell::Int(range.last),
                    Cell::Text(terminal.to_owned()),
                    Cell::Text(session.login.clone()),
                    Cell::Text(rfc3339(now)),
                ],
            )
            .await?;
            Some(range)
        } else {
            None
        };
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "offline.kit".into(),
            target: terminal.to_owned(),
            detail: serde_json::json!({"range": range}).to_string(),
        })
        .await?;
        Ok(OfflineKit {
            login: row.login,
            role: row.role,
            password_hash: row.password_hash,
            totp_secret: row.totp_secret,
            last_totp_step: row.last_totp_step,
            range,
            replica_key: self.replica_key(verified),
            limits: self.settings.offline_limits.clone(),
        })
    }

    /// Accepts a terminal's upload, all of it or nothing: see the module documentation.
    pub async fn accept_sync(
        &self,
        session: &StaffSession,
        verified: &VerifiedTerminal,
        batch: &SyncBatch,
        now: OffsetDateTime,
    ) -> Result<SyncReceipt, AppError> {
        self.authorize(session, Action::WorkOffline, now).await?;
        same_terminal(verified, &batch.terminal)?;
        if batch.entries.len() > MAX_BATCH_ENTRIES {
            return Err(AppError::BadRequest {
                field: "entries",
                reason: format!("at most {MAX_BATCH_ENTRIES} per upload"),
            });
        }
        let terminal = batch.terminal.as_str();
        let mut tx = self.store.begin_ledger().await?;
        let (mut last_seq, mut prev_hash) = tx
            .terminal_head(terminal)
            .await?
            .unwrap_or((0, kofu_store::ledger::GENESIS.to_owned()));
        let accepted_before = last_seq;

        // 1. The chain: repeats must match what was accepted, new entries must link on.
        let mut fresh: Vec<&AuditRow> = Vec::new();
        let mut repeated: HashSet<String> = HashSet::new();
        for entry in &batch.entries {
            if entry.seq <= accepted_before {
                match tx.terminal_entry_hash(terminal, entry.seq).await? {
                    Some(hash) if hash == entry.hash => {
                        let records: Vec<Notarised> =
                            serde_json::from_str(&entry.records).unwrap_or_default();
                        repeated.extend(records.into_iter().map(|n| n.key));
                        continue;
                    }
                    _ => {
                        return Err(rejected(format!(
                            "entry {} differs from the one accepted before",
                            entry.seq
                        )));
                    }
                }
            }
            if entry.seq != last_seq + 1 {
                return Err(rejected(format!(
                    "entries {}..{} are missing before entry {}",
                    last_seq + 1,
                    entry.seq - 1,
                    entry.seq
                )));
            }
            if entry.computed_hash() != entry.hash {
                return Err(rejected(format!(
                    "entry {}: its content does not match its hash",
                    entry.seq
                )));
            }
            if entry.prev_hash != prev_hash {
                return Err(rejected(format!(
                    "entry {} does not follow entry {}",
                    entry.seq, last_seq
                )));
            }
            last_seq = entry.seq;
            prev_hash = entry.hash.clone();
            fresh.push(entry);
        }
        if fresh.is_empty() {
            return Ok(SyncReceipt {
                accepted_through: accepted_before,
                new_entries: 0,
                issuances: 0,
                flags: 0,
            });
        }

        // 2. The rows: exactly those the new entries notarise, each matching its digest.
        let mut wanted: HashMap<String, String> = HashMap::new();
        for entry in &fresh {
            let records: Vec<Notarised> = serde_json::from_str(&entry.records)
                .map_err(|e| rejected(format!("entry {}: records: {e}", entry.seq)))?;
            for n in records {
                wanted.insert(n.key, n.digest);
            }
        }
        let mut by_table: BTreeMap<&'static str, Vec<Vec<Cell>>> = BTreeMap::new();
        for row in &batch.rows {
            let table = UPLOADED_TABLES
                .iter()
                .find(|t| t.name == row.table)
                .ok_or_else(|| {
                    rejected(format!("rows of table {:?} are not uploaded", row.table))
                })?;
            if row.cells.len() != table.column_count() {
                return Err(rejected(format!(
                    "a {} row has the wrong width",
                    table.name
                )));
            }
            let key = table.key_of(&row.cells);
            match wanted.remove(&key) {
                Some(digest) if digest == table.digest_of(&row.cells) => {
                    by_table
                        .entry(table.name)
                        .or_default()
                        .push(row.cells.clone());
                }
                Some(_) => return Err(rejected(format!("row {key} differs from its audit entry"))),
                // Notarised by an entry accepted before: a repeat, already in.
                None if repeated.contains(&key) => {}
                None => return Err(rejected(format!("row {key} is notarised by no entry"))),
            }
        }
        if let Some(key) = wanted.keys().min() {
            return Err(rejected(format!(
                "row {key} is missing ({} in all)",
                wanted.len()
            )));
        }

        // 3. The numbers: every copy within a range reserved for this terminal, every
        //    issuance from this terminal.
        let ranges: Vec<(i64, i64)> = tx
            .rows_where(&OFFLINE_RANGES, "terminal", terminal)
            .await?
            .iter()
            .map(|r| (cell_int(r.first()), cell_int(r.get(1))))
            .collect();
        for cells in by_table.get(ISSUED_COPIES.name).into_iter().flatten() {
            let number = cell_text(cells.get(2));
            let serial = recheck::serial_of(&number);
            if !ranges.iter().any(|(f, l)| (*f..=*l).contains(&serial)) {
                return Err(rejected(format!(
                    "issue number {number:?} is outside the ranges reserved for {terminal}"
                )));
            }
        }
        let issuances: &[Vec<Cell>] = by_table.get(ISSUANCES.name).map_or(&[], Vec::as_slice);
        for cells in issuances {
            let point = cell_text(cells.get(4));
            if point.split('/').next() != Some(terminal) {
                return Err(rejected(format!(
                    "issuance {} was issued at {point:?}, not at {terminal}",
                    cell_text(cells.first())
                )));
            }
        }
        //    Then every row is re-derived, not taken as sent.
        recheck::recheck(self, &mut tx, terminal, &fresh, &by_table, &ranges, now).await?;

        // 4. Flags: offline issuances whose subject changed after the replica's event.
        let flags = self.flags_for(terminal, &fresh, issuances, now).await?;

        // 5. Append: the terminal's entries, its rows, the flags; notarised by our chain.
        let received = rfc3339(now);
        let audit_rows: Vec<Vec<Cell>> = fresh
            .iter()
            .map(|e| {
                vec![
                    Cell::Text(terminal.to_owned()),
                    Cell::Int(e.seq),
                    Cell::Text(e.at.clone()),
                    Cell::Text(e.actor.clone()),
                    Cell::Text(e.action.clone()),
                    Cell::Text(e.target.clone()),
                    Cell::Text(e.detail.clone()),
                    Cell::Text(e.records.clone()),
                    Cell::Text(e.prev_hash.clone()),
                    Cell::Text(e.hash.clone()),
                    Cell::Text(received.clone()),
                ]
            })
            .collect();
        tx.append_many(&TERMINAL_AUDIT, &audit_rows).await?;
        for table in UPLOADED_TABLES {
            if let Some(rows) = by_table.get(table.name) {
                tx.append_many(table, rows).await.map_err(|e| {
                    if e.is_unique_violation() {
                        rejected(format!(
                            "a {} row or issue number is taken already",
                            table.name
                        ))
                    } else {
                        AppError::Store(e)
                    }
                })?;
            }
        }
        tx.append_many(&OFFLINE_FLAGS, &flags).await?;
        let receipt = SyncReceipt {
            accepted_through: last_seq,
            new_entries: fresh.len(),
            issuances: issuances.len(),
            flags: flags.len(),
        };
        tx.commit(AuditEntry {
            at: received,
            actor: session.login.clone(),
            action: "offline.sync".into(),
            target: terminal.to_owned(),
            detail: serde_json::json!({
                "from": accepted_before + 1,
                "through": last_seq,
                "issuances": receipt.issuances,
                "flags": receipt.flags,
            })
            .to_string(),
        })
        .await?;
        Ok(receipt)
    }

    /// The flag rows for offline issuances whose subject (or a member of the
    /// subject's household) changed after the replica's last event.
    async fn flags_for(
        &self,
        terminal: &str,
        entries: &[&AuditRow],
        issuances: &[Vec<Cell>],
        now: OffsetDateTime,
    ) -> Result<Vec<Vec<Cell>>, AppError> {
        // The replica position each issuance was decided on, from its audit entry.
        let mut replica_seq: HashMap<String, Option<i64>> = HashMap::new();
        for e in entries
            .iter()
            .filter(|e| e.action.starts_with("counter.issue"))
        {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            if let Some(id) = detail["issuance_id"].as_str() {
                replica_seq.insert(id.to_owned(), detail["registry_seq"].as_i64());
            }
        }
        let oldest = replica_seq.values().map(|s| s.unwrap_or(i64::MIN)).min();
        let Some(oldest) = oldest else {
            return Ok(Vec::new());
        };
        let changes = self.store.changes_after(Some(oldest), i64::MAX).await?;
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        // Each change concerns its own IDs and, through households, their members.
        let mut concerns: HashMap<String, BTreeSet<usize>> = HashMap::new();
        for (i, change) in changes.iter().enumerate() {
            let Ok(kofu_feed::FeedLine::Change(parsed)) = kofu_feed::parse_line(0, &change.line)
            else {
                continue;
            };
            let refs = parsed.refs();
            let mut ids: HashSet<String> = refs.iter().cloned().collect();
            for id in &refs {
                if let Some(resident) = self.store.resident(id).await? {
                    ids.insert(resident.household_id.clone());
                }
            }
            for id in ids.clone() {
                for member in self.store.household(&id).await? {
                    ids.insert(member.resident_id.clone());
                }
            }
            for id in ids {
                concerns.entry(id).or_default().insert(i);
            }
        }
        // Days the supervisor signed off before this upload arrived.
        let closed: HashSet<String> = self
            .store
            .ledger_query("SELECT day FROM day_closes", &[], &[false])
            .await?
            .iter()
            .map(|r| cell_text(r.first()))
            .collect();
        let mut flags = Vec::new();
        for cells in issuances {
            let issuance_id = cell_text(cells.first());
            let subject_id = cell_text(cells.get(7));
            let seq = replica_seq.get(&issuance_id).copied().flatten();
            let mut what: Vec<serde_json::Value> = Vec::new();
            // The same request issued online too (its answer lost before the outage).
            let key = cell_text(cells.get(1));
            if let Some(request) = key.strip_prefix(&format!("offline:{terminal}:"))
                && let Some(online) = self
                    .issuance_by_request(&format!("counter:{request}"))
                    .await?
            {
                what.push(serde_json::json!({
                    "type": "duplicate_request",
                    "op": "issued online too",
                    "issuance_id": cell_text(online.first()),
                }));
            }
            let issued_at = cell_text(cells.get(13));
            if let Ok(at) =
                OffsetDateTime::parse(&issued_at, &time::format_description::well_known::Rfc3339)
            {
                let day = kofu_domain::date::local_date_time(at).0.to_string();
                if closed.contains(&day) {
                    what.push(serde_json::json!({
                        "type": "day_closed",
                        "op": "arrived after the day was signed off",
                        "day": day,
                    }));
                }
            }
            if let Some(hits) = concerns.get(&subject_id) {
                what.extend(
                    hits.iter()
                        .map(|&i| &changes[i])
                        .filter(|c| seq.is_none_or(|s| c.seq > s))
                        .map(describe_change),
                );
            }
            if !what.is_empty() {
                flags.push(flag_row(
                    terminal,
                    cells,
                    seq,
                    serde_json::Value::Array(what),
                    now,
                ));
            }
        }
        Ok(flags)
    }

    /// Resolves an offline flag (supervisor): what was done about it.
    pub async fn resolve_offline_flag(
        &self,
        session: &StaffSession,
        flag_id: &str,
        resolution: &str,
        note: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.authorize(session, Action::ReviewOffline, now).await?;
        if !matches!(resolution, "confirmed_valid" | "recalled" | "voided") {
            return Err(AppError::BadRequest {
                field: "resolution",
                reason: "confirmed_valid, recalled or voided".into(),
            });
        }
        let mut tx = self.store.begin_ledger().await?;
        let flag = tx.rows_where(&OFFLINE_FLAGS, "flag_id", flag_id).await?;
        if flag.is_empty() {
            return Err(AppError::BadRequest {
                field: "flag_id",
                reason: format!("no offline flag {flag_id:?}"),
            });
        }
        if !tx
            .rows_where(&OFFLINE_FLAG_RESOLUTIONS, "flag_id", flag_id)
            .await?
            .is_empty()
        {
            return Err(AppError::BadRequest {
                field: "flag_id",
                reason: "this flag is resolved already".into(),
            });
        }
        tx.append(
            &OFFLINE_FLAG_RESOLUTIONS,
            vec![
                Cell::Text(flag_id.to_owned()),
                Cell::Text(resolution.to_owned()),
                Cell::Text(note.trim().to_owned()),
                Cell::Text(session.login.clone()),
                Cell::Text(rfc3339(now)),
            ],
        )
        .await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "offline.flag_resolved".into(),
            target: flag_id.to_owned(),
            detail: serde_json::json!({"resolution": resolution}).to_string(),
        })
        .await?;
        Ok(())
    }

    /// The supervisor's review of offline work: per terminal, what was issued, by
    /// whom, and the flags with their resolutions.
    pub async fn offline_review(
        &self,
        session: &StaffSession,
        now: OffsetDateTime,
    ) -> Result<OfflineReview, AppError> {
        self.authorize(session, Action::ReviewOffline, now).await?;
        let audit = self.store.ledger_rows(&TERMINAL_AUDIT).await?;
        let flags = self.store.ledger_rows(&OFFLINE_FLAGS).await?;
        let resolutions = self.store.ledger_rows(&OFFLINE_FLAG_RESOLUTIONS).await?;
        let resolved: HashMap<String, &Vec<Cell>> = resolutions
            .iter()
            .map(|r| (cell_text(r.first()), r))
            .collect();
        let flag_of: HashMap<String, &Vec<Cell>> =
            flags.iter().map(|f| (cell_text(f.get(2)), f)).collect();
        let mut terminals: BTreeMap<String, OfflineTerminalReview> = BTreeMap::new();
        for e in &audit {
            let terminal = cell_text(e.first());
            let review =
                terminals
                    .entry(terminal.clone())
                    .or_insert_with(|| OfflineTerminalReview {
                        terminal: terminal.clone(),
                        entries: 0,
                        first_at: cell_text(e.get(2)),
                        last_at: String::new(),
                        issuances: Vec::new(),
                    });
            review.entries += 1;
            review.last_at = cell_text(e.get(2));
            if !cell_text(e.get(4)).starts_with("counter.issue") {
                continue;
            }
            let detail: serde_json::Value =
                serde_json::from_str(&cell_text(e.get(6))).unwrap_or_default();
            let issuance_id = detail["issuance_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let flag = flag_of.get(&issuance_id).map(|f| {
                let flag_id = cell_text(f.first());
                let resolution = resolved.get(&flag_id).map(|r| FlagResolution {
                    resolution: cell_text(r.get(1)),
                    note: cell_text(r.get(2)),
                    supervisor: cell_text(r.get(3)),
                    at: cell_text(r.get(4)),
                });
                OfflineFlag {
                    flag_id,
                    replica_seq: cell_int(f.get(6)),
                    changes: serde_json::from_str(&cell_text(f.get(7))).unwrap_or_default(),
                    resolution,
                }
            });
            review.issuances.push(OfflineIssuance {
                issuance_id,
                staff: cell_text(e.get(3)),
                subject_id: cell_text(e.get(5)),
                at: cell_text(e.get(2)),
                override_used: cell_text(e.get(4)) == "counter.issue_override",
                flag,
            });
        }
        let open_flags = flags
            .iter()
            .filter(|f| !resolved.contains_key(&cell_text(f.first())))
            .count();
        Ok(OfflineReview {
            terminals: terminals.into_values().collect(),
            open_flags,
        })
    }
}

/// An `offline_flags` row for an uploaded issuance row.
fn flag_row(
    terminal: &str,
    issuance: &[Cell],
    replica_seq: Option<i64>,
    what: serde_json::Value,
    now: OffsetDateTime,
) -> Vec<Cell> {
    vec![
        Cell::Text(uuid::Uuid::new_v4().to_string()),
        Cell::Text(terminal.to_owned()),
        Cell::Text(cell_text(issuance.first())),
        Cell::Text(cell_text(issuance.get(7))),
        Cell::Text(cell_text(issuance.get(5))),
        Cell::Text(cell_text(issuance.get(13))),
        Cell::Int(replica_seq.unwrap_or(0)),
        Cell::Text(what.to_string()),
        Cell::Text(rfc3339(now)),
    ]
}

/// What a logged change did, for the supervisor (never a 個人番号).
fn describe_change(change: &kofu_store::offline::LoggedChange) -> serde_json::Value {
    let line: serde_json::Value = serde_json::from_str(&change.line).unwrap_or_default();
    let record = &line["record"];
    let mut what = serde_json::json!({
        "seq": change.seq,
        "at": change.at,
        "op": line["op"],
        "type": record["type"],
    });
    for field in [
        "status",
        "status_since",
        "address",
        "from",
        "to",
        "level",
        "scope",
        "id",
    ] {
        if !record[field].is_null() {
            what[field] = record[field].clone();
        }
    }
    what
}

/// The supervisor's review of offline work.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfflineReview {
    /// Each terminal that uploaded offline work.
    pub terminals: Vec<OfflineTerminalReview>,
    /// Flags not yet resolved.
    pub open_flags: usize,
}

/// One terminal's offline work.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfflineTerminalReview {
    /// The terminal.
    pub terminal: String,
    /// Audit entries uploaded.
    pub entries: usize,
    /// The first entry's instant.
    pub first_at: String,
    /// The last entry's instant.
    pub last_at: String,
    /// What it issued.
    pub issuances: Vec<OfflineIssuance>,
}

/// One offline issuance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfflineIssuance {
    /// The issuance.
    pub issuance_id: String,
    /// Who issued it.
    pub staff: String,
    /// About whom.
    pub subject_id: String,
    /// When.
    pub at: String,
    /// Whether a support-measure stop was overridden.
    pub override_used: bool,
    /// Its flag, if its subject's data changed meanwhile.
    pub flag: Option<OfflineFlag>,
}

/// A flag on an offline issuance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OfflineFlag {
    /// The flag.
    pub flag_id: String,
    /// The replica's last event when it was issued.
    pub replica_seq: i64,
    /// What changed after it.
    pub changes: serde_json::Value,
    /// The supervisor's resolution, once given.
    pub resolution: Option<FlagResolution>,
}

/// A supervisor's resolution of a flag.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlagResolution {
    /// `confirmed_valid`, `recalled` or `voided`.
    pub resolution: String,
    /// Their note.
    pub note: String,
    /// Who.
    pub supervisor: String,
    /// When.
    pub at: String,
}

// ---------------------------------------------------------------------------------------
// The terminal's side

/// Brings a terminal's replica up to the server's answer: a snapshot loads into an
/// empty replica, change events apply in seq order (a gap is refused); either way the
/// replica is then confirmed current at `now` if nothing more is pending.
pub async fn apply_replica_feed(
    store: &Store,
    feed: &ReplicaFeed,
    now: OffsetDateTime,
) -> Result<crate::ImportReport, AppError> {
    let mut text = feed.lines.join("\n");
    text.push('\n');
    let input = std::io::Cursor::new(text.into_bytes());
    let report = if feed.snapshot && feed.continued {
        // A later page of a snapshot: more records, the position is the first page's.
        crate::import::import_feed_at(store, input, None, false).await?
    } else if feed.snapshot {
        let position = match (feed.last_seq, &feed.last_at) {
            (Some(seq), Some(at)) => Some((
                seq,
                OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).map_err(
                    |e| AppError::BadRequest {
                        field: "last_at",
                        reason: e.to_string(),
                    },
                )?,
            )),
            _ => None,
        };
        crate::import::import_feed_at(store, input, position, true).await?
    } else {
        crate::import_feed(store, input).await?
    };
    store.replace_replica_settings(&feed.settings).await?;
    if let Some(keep) = &feed.staff {
        store.forget_cached_staff_except(keep).await?;
    }
    if !feed.more {
        // Only a whole snapshot makes a replica of this generation: one cut off
        // half-way (the app closed) asks for a snapshot again.
        store.set_replica_loads(feed.loads).await?;
        store.set_replica_current(&rfc3339(now)).await?;
    }
    Ok(report)
}

/// Keeps what the server sent for offline work: the account (for offline logins) and
/// the range of serials.
pub async fn install_kit(
    store: &Store,
    kit: &OfflineKit,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    store
        .cache_staff(&StaffRow {
            login: kit.login.clone(),
            role: kit.role.clone(),
            password_hash: kit.password_hash.clone(),
            totp_secret: kit.totp_secret.clone(),
            last_totp_step: kit.last_totp_step,
            failed_attempts: 0,
            active: true,
            created_at: rfc3339(now),
            last_failed_unix: 0,
        })
        .await?;
    if let Some(range) = kit.range {
        store.add_terminal_range(range.first, range.last).await?;
    }
    Ok(())
}

/// The next upload of a terminal: up to `limit` audit entries after the last
/// acknowledged one, with the rows they notarise. Empty when all is synced.
pub async fn sync_batch(
    store: &Store,
    terminal: &str,
    limit: usize,
) -> Result<SyncBatch, AppError> {
    let acknowledged = store.acknowledged().await?;
    let mut entries = store.audit_rows_after(acknowledged).await?;
    entries.truncate(limit.clamp(1, MAX_BATCH_ENTRIES));
    let mut keys: HashSet<String> = HashSet::new();
    for e in &entries {
        let records: Vec<Notarised> = serde_json::from_str(&e.records).unwrap_or_default();
        keys.extend(records.into_iter().map(|n| n.key));
    }
    let mut rows = Vec::new();
    for table in UPLOADED_TABLES {
        // Each key is `table/first[/second]`: read by the first key column.
        let prefix = format!("{}/", table.name);
        let mut firsts: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
            .collect();
        firsts.sort();
        firsts.dedup();
        for cells in store.ledger_rows_by_first_key(table, &firsts).await? {
            if keys.contains(&table.key_of(&cells)) {
                rows.push(UploadedRow {
                    table: table.name.to_owned(),
                    cells,
                });
            }
        }
    }
    Ok(SyncBatch {
        terminal: terminal.to_owned(),
        entries,
        rows,
    })
}

/// Records the server's receipt: entries up to it need no upload again.
pub async fn acknowledge(store: &Store, receipt: &SyncReceipt) -> Result<(), AppError> {
    store.set_acknowledged(receipt.accepted_through).await?;
    Ok(())
}

/// Where the terminal's offline work stands at `now`, and whether it may issue.
pub async fn offline_status(
    store: &Store,
    limits: &OfflineLimits,
    now: OffsetDateTime,
) -> Result<OfflineStatus, AppError> {
    let replica_seq = store.feed_state().await?.map(|f| f.last_seq);
    let current = store.replica_current().await?;
    let age = current.as_deref().and_then(|c| {
        OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| (now - t).whole_seconds())
    });
    let unsynced = store.unsynced_issuances().await?;
    let left = store.offline_numbers_left().await?;
    let max_age = i64::try_from(limits.max_replica_age_secs).unwrap_or(i64::MAX);
    let refusal = match age {
        None => Some("this terminal has no current replica of the registry".to_owned()),
        Some(a) if a > max_age => Some(format!(
            "the registry data is {} old, more than the {} allowed offline",
            human(a),
            human(max_age)
        )),
        _ if unsynced >= i64::from(limits.max_unsynced) => Some(format!(
            "{unsynced} issuances are not yet synced, the most allowed offline is {}",
            limits.max_unsynced
        )),
        _ if left <= 0 => Some("no reserved offline issue numbers are left".to_owned()),
        _ => None,
    };
    Ok(OfflineStatus {
        replica_seq,
        replica_current_at: current,
        replica_age_secs: age,
        unsynced_issuances: unsynced,
        numbers_left: left,
        refusal,
    })
}

fn human(secs: i64) -> String {
    let d = Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    let (h, m) = (d.as_secs() / 3600, (d.as_secs() % 3600) / 60);
    if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min")
    }
}

impl Office {
    /// Refuses offline work past its bounds (see [`offline_status`]); online, nothing.
    pub(crate) async fn check_offline_bounds(&self, now: OffsetDateTime) -> Result<(), AppError> {
        let Some(offline) = &self.settings.offline else {
            return Ok(());
        };
        match offline_status(&self.store, &offline.limits, now)
            .await?
            .refusal
        {
            Some(why) => Err(AppError::OfflineLimit(why)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn ages_read_as_hours_and_minutes() {
        let check = |secs: i64, expected: &str| assert_eq!(human(secs), expected, "{secs}");
        check(0, "0 min");
        check(59 * 60, "59 min");
        check(8 * 3600 + 5 * 60, "8 h 5 min");
        check(-5, "0 min");
    }
}
