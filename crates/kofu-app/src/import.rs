//! Import of a registry feed (full records and change events) into the store.
//!
//! A feed is applied in one database transaction, so it lands whole or not at all:
//! any bad line — unreadable, invalid, or a change event out of sequence — rejects
//! the file, every bad line is reported, and nothing is written. Parsing runs on a
//! blocking thread while the writer fills the transaction, so the two cores are
//! both at work on a large load.

use std::collections::BTreeMap;
use std::io::BufRead;

use kofu_feed::{ChangeOp, FeedLine, LineError, SeqCheck, parse_line_as_sent};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::AppError;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Records written (full records and upsert events), per record type.
    pub upserts: BTreeMap<&'static str, u64>,
    /// Records deleted by change events.
    pub deletes: u64,
    /// Change events applied.
    pub changes: u64,
    /// The last change event now acknowledged.
    pub last_seq: Option<i64>,
}

/// A line's number and what it says, with a full record's JSON as sent, to store
/// ([`kofu_feed::parse_line_as_sent`]).
type Parsed = (usize, Result<(FeedLine, Option<String>), Vec<LineError>>);

const BATCH: usize = 512;

/// Records written by one import from which the database's statistics are refreshed
/// ([`kofu_store::Store::refresh_statistics`]): a full load, not the day's events.
const REFRESH_AFTER: u64 = 10_000;

/// Reads the feed on a blocking thread and sends parsed lines in batches.
fn parse_all(mut input: impl BufRead, out: mpsc::Sender<Vec<Parsed>>) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(4096);
    let mut batch = Vec::with_capacity(BATCH);
    let mut line_no = 0usize;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let parsed = match std::str::from_utf8(&buf) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => parse_line_as_sent(line_no, text.trim_end_matches(['\n', '\r'])),
            Err(e) => Err(vec![LineError {
                line: line_no,
                field: "(line)".into(),
                reason: format!("not valid UTF-8: {e}"),
            }]),
        };
        batch.push((line_no, parsed));
        if batch.len() == BATCH
            && out
                .blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .is_err()
        {
            // The writer stopped (a store error); it reports why.
            return Ok(line_no as u64);
        }
    }
    if !batch.is_empty() {
        let _ = out.blocking_send(batch);
    }
    Ok(line_no as u64)
}

/// Imports a feed into the store: all of it, or — if any line is bad — nothing, with
/// every bad line in [`AppError::FeedRejected`].
pub async fn import_feed<R>(store: &kofu_store::Store, input: R) -> Result<ImportReport, AppError>
where
    R: BufRead + Send + 'static,
{
    import_feed_at(store, input, None, false).await
}

/// [`import_feed`], for a snapshot of another store's records: when the input holds
/// no change events, `position` (the snapshot's last event) becomes the feed position;
/// with `replace`, every registry record held before is deleted first, in the same
/// transaction.
pub(crate) async fn import_feed_at<R>(
    store: &kofu_store::Store,
    input: R,
    position: Option<(i64, OffsetDateTime)>,
    replace: bool,
) -> Result<ImportReport, AppError>
where
    R: BufRead + Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel::<Vec<Parsed>>(16);
    let parser = tokio::task::spawn_blocking(move || parse_all(input, sender));

    let mut db = store.begin_import().await?;
    if replace {
        db.clear_registry().await?;
    }
    let mut seq = SeqCheck::new(db.last_seq().await?);
    let mut last_change: Option<(i64, OffsetDateTime)> = None;
    let mut errors: Vec<LineError> = Vec::new();
    let mut report = ImportReport::default();
    let mut loads_records = false;

    while let Some(batch) = receiver.recv().await {
        for (line, parsed) in batch {
            let change = match parsed {
                Err(bad) => {
                    errors.extend(bad);
                    continue;
                }
                Ok((FeedLine::Record(record), json)) => {
                    loads_records = true;
                    if errors.is_empty() {
                        match json {
                            Some(json) => db.upsert_json(&record, json).await?,
                            None => db.upsert(&record).await?,
                        }
                        *report.upserts.entry(record.type_name()).or_default() += 1;
                    }
                    continue;
                }
                Ok((FeedLine::Change(change), _)) => change,
            };
            if let Err(e) = seq.accept(line, change.seq) {
                errors.push(e);
                continue;
            }
            if !errors.is_empty() {
                continue;
            }
            // Logged for the terminals' replicas and for checking offline issuances.
            let at_text = change
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            db.log_change(change.seq, &at_text, change.to_line(), change.refs())
                .await?;
            match &change.op {
                ChangeOp::Upsert(record) => {
                    db.upsert(record).await?;
                    *report.upserts.entry(record.type_name()).or_default() += 1;
                }
                ChangeOp::Delete(key) => {
                    if db.delete(key).await? {
                        report.deletes += 1;
                    }
                }
            }
            report.changes += 1;
            last_change = Some((change.seq, change.at));
        }
    }
    report.lines = parser
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;

    if !errors.is_empty() {
        db.rollback().await?;
        return Err(AppError::FeedRejected(errors));
    }
    if loads_records {
        db.bump_loads().await?;
    }
    if let Some((seq, at)) = last_change.or(position) {
        db.set_feed_state(seq, at).await?;
    }
    report.last_seq = last_change.or(position).map(|(s, _)| s).or(seq.last());
    db.commit().await?;
    tracing::info!(
        lines = report.lines,
        changes = report.changes,
        "feed imported"
    );
    let written = report.upserts.values().sum::<u64>() + report.deletes;
    if written >= REFRESH_AFTER {
        // The import has landed; stale statistics only slow searches down, so a
        // failure here is logged, not reported as a failed import.
        if let Err(e) = store.refresh_statistics().await {
            tracing::warn!(error = %e, "statistics not refreshed after the import");
        }
    }
    Ok(report)
}
