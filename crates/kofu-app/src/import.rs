//! Import of a registry feed (full records and change events) into the store.
//!
//! A feed is applied in one database transaction, so it lands whole or not at all:
//! any bad line — unreadable, invalid, or a change event out of sequence — rejects
//! the file, every bad line is reported, and nothing is written. A reader thread deals
//! chunks of lines to one parser thread per core, which also make each record into its
//! row, while the writer fills the transaction; their results are taken back in the
//! feed's order.

use std::collections::BTreeMap;
use std::io::Read;

use kofu_feed::{Change, ChangeOp, FeedLine, LineError, SeqCheck, parse_line_as_sent};
use kofu_store::{ImportRow, StoreError};
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

/// What a parser made of one line: a full record already made into its row (so that the
/// record is dropped on the thread that built it), or a change event.
enum Parsed {
    Row(Result<ImportRow, StoreError>),
    /// Boxed: a change event is five times a row's size, and rare in a large load.
    Change(Box<Change>),
}

/// A line's number and what it says.
type ParsedLine = (usize, Result<Parsed, Vec<LineError>>);

/// Lines read together and handed to one parser.
struct Chunk {
    /// The number of its first line (1-based).
    first_line: usize,
    /// Whole lines, each with its `\n` (the file's last line may lack it).
    text: Vec<u8>,
}

/// A chunk's size, about (it ends at a line's end): some 450 lines of a full load,
/// enough to make a hand-over cheap, few enough to keep every parser busy.
const CHUNK_BYTES: usize = 256 * 1024;

/// Chunks waiting per parser, and parsed chunks waiting to be written, at most.
const QUEUE: usize = 4;

/// Records written by one import from which the database's statistics are refreshed
/// ([`kofu_store::Store::refresh_statistics`]): a full load, not the day's events.
const REFRESH_AFTER: u64 = 10_000;

/// Parsers that run side by side: one per core. Parsing is most of a large load's
/// work, and one parser could not keep up with the database's writer.
fn parser_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8))
}

/// Reads the feed in chunks of whole lines and deals them to the parsers in turn, so
/// that taking their results in the same turn keeps the feed's order. Returns the
/// number of lines read; stops early if the parsers stopped (the writer failed, and
/// says why).
///
/// The file is read straight into the chunks, in large reads: read line by line
/// through a buffer, each byte was copied twice. The reader still counts each chunk's
/// line ends, to number the next chunk's lines.
fn read_chunks(
    mut input: impl Read,
    parsers: Vec<mpsc::Sender<Chunk>>,
    used: std::sync::mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<u64> {
    let mut lines_read = 0usize;
    // The start of the line that the last read cut: it opens the next chunk.
    let mut cut_line = Vec::new();
    let mut at_end = false;
    for parser in parsers.iter().cycle() {
        let mut text = used
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
        text.append(&mut cut_line);
        let mut size = CHUNK_BYTES;
        let lines_end = loop {
            let room = size.saturating_sub(text.len()) as u64;
            if !at_end && room > 0 {
                let read = input.by_ref().take(room).read_to_end(&mut text)?;
                at_end = (read as u64) < room;
            }
            if at_end {
                break text.len();
            }
            match memchr::memrchr(b'\n', &text) {
                Some(newline) => break newline + 1,
                // A line longer than a chunk: read on to its end.
                None => size += CHUNK_BYTES,
            }
        };
        cut_line.extend_from_slice(&text[lines_end..]);
        text.truncate(lines_end);
        let Some(&last) = text.last() else {
            break;
        };
        let lines = memchr::memchr_iter(b'\n', &text).count() + usize::from(last != b'\n');
        let chunk = Chunk {
            first_line: lines_read + 1,
            text,
        };
        lines_read += lines;
        if parser.blocking_send(chunk).is_err() {
            break;
        }
    }
    Ok(lines_read as u64)
}

/// Parses chunks until the reader is done, each line into a row or a change event.
fn parse_chunks(
    mut chunks: mpsc::Receiver<Chunk>,
    out: mpsc::Sender<Vec<ParsedLine>>,
    used: std::sync::mpsc::SyncSender<Vec<u8>>,
) {
    while let Some(mut chunk) = chunks.blocking_recv() {
        // Room for a full load's chunk at once (some 450 lines).
        let mut parsed = Vec::with_capacity(512);
        let mut take = |line: usize, result: Option<Result<Parsed, Vec<LineError>>>| {
            if let Some(result) = result {
                parsed.push((line, result));
            }
        };
        match simdutf8::basic::from_utf8(&chunk.text) {
            // One check for the whole chunk, and its lines found with SIMD.
            Ok(text) => {
                for (i, text) in lines_of(text).enumerate() {
                    let line = chunk.first_line + i;
                    take(line, parse_text_line(line, text));
                }
            }
            // Some line is not UTF-8: look line by line to say which, and where.
            Err(_) => {
                for (i, raw) in chunk.text.split_inclusive(|&b| b == b'\n').enumerate() {
                    let line = chunk.first_line + i;
                    let result = match std::str::from_utf8(raw) {
                        Ok(text) => parse_text_line(line, text),
                        Err(e) => Some(Err(vec![LineError {
                            line,
                            field: "(line)".into(),
                            reason: format!("not valid UTF-8: {e}"),
                        }])),
                    };
                    take(line, result);
                }
            }
        }
        chunk.text.clear();
        let _ = used.try_send(chunk.text);
        if out.blocking_send(parsed).is_err() {
            return;
        }
    }
}

/// The lines of `text`, each with its `\n` (the last one may lack it): as
/// `split_inclusive('\n')`, but found with `memchr`'s SIMD search, not std's
/// word-at-a-time one.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).map(|newline| newline + 1);
    ends.chain(std::iter::once(text.len()))
        .filter_map(move |end| {
            let line = text.get(start..end).filter(|line| !line.is_empty());
            start = end;
            line
        })
}

/// Line number `line` as read (with its line ending); `None` for a blank line.
fn parse_text_line(line: usize, text: &str) -> Option<Result<Parsed, Vec<LineError>>> {
    if text.trim().is_empty() {
        return None;
    }
    let text = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .trim_end_matches('\r');
    let parsed = parse_line_as_sent(line, text);
    Some(parsed.map(|(feed_line, json)| match feed_line {
        FeedLine::Record(record) => Parsed::Row(ImportRow::new(record, json)),
        FeedLine::Change(change) => Parsed::Change(Box::new(change)),
    }))
}

/// Imports a feed into the store: all of it, or — if any line is bad — nothing, with
/// every bad line in [`AppError::FeedRejected`].
pub async fn import_feed<R>(store: &kofu_store::Store, input: R) -> Result<ImportReport, AppError>
where
    R: Read + Send + 'static,
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
    R: Read + Send + 'static,
{
    // The reader deals chunks to the parsers in turn; their results are taken in the
    // same turn, so records and events are applied in the feed's order.
    let mut parsers = Vec::new();
    let mut to_parsers = Vec::new();
    let mut from_parsers = Vec::new();
    // Parsed chunks' buffers go back to the reader: a buffer freed on one thread and
    // allocated anew on another made the allocator give its memory back to the system
    // and fault it in again (about 1.5 s of kernel time in a million-resident load).
    let (used, reusable) = std::sync::mpsc::sync_channel(parser_count() * (QUEUE + 2));
    for _ in 0..parser_count() {
        let (chunks, chunks_in) = mpsc::channel::<Chunk>(QUEUE);
        let (parsed_out, parsed) = mpsc::channel::<Vec<ParsedLine>>(QUEUE);
        let used = used.clone();
        parsers.push(tokio::task::spawn_blocking(move || {
            parse_chunks(chunks_in, parsed_out, used)
        }));
        to_parsers.push(chunks);
        from_parsers.push(parsed);
    }
    drop(used);
    let reader = tokio::task::spawn_blocking(move || read_chunks(input, to_parsers, reusable));

    // One database serves one town: a feed of another town is refused whole (else
    // town A's residents would get certificates certified by town B's mayor).
    let town = match replace {
        true => None,
        false => store.municipality().await?.map(|m| m.code),
    };
    let other_town = |line: usize, code: &str| -> Option<LineError> {
        let town = town.as_deref()?;
        (code != town).then(|| LineError {
            line,
            field: "code".into(),
            reason: format!(
                "municipality {code} is not this database's town ({town}): one database serves one town; load another town into a database of its own"
            ),
        })
    };
    let mut db = store.begin_import().await?;
    if replace {
        db.clear_registry().await?;
    }
    let mut seq = SeqCheck::new(db.last_seq().await?);
    let mut last_change: Option<(i64, OffsetDateTime)> = None;
    let mut errors: Vec<LineError> = Vec::new();
    let mut report = ImportReport::default();
    let mut loads_records = false;

    // A parser's channel ends when the reader has no chunk left for it: every chunk
    // before was dealt to, and taken from, the parsers before it in the turn.
    for turn in (0..from_parsers.len()).cycle() {
        let Some(batch) = from_parsers[turn].recv().await else {
            break;
        };
        for (line, parsed) in batch {
            let change = match parsed {
                Err(bad) => {
                    errors.extend(bad);
                    continue;
                }
                Ok(Parsed::Row(row)) => {
                    loads_records = true;
                    let row = row?;
                    if let Some(e) = row.municipality_code().and_then(|c| other_town(line, c)) {
                        errors.push(e);
                        continue;
                    }
                    if errors.is_empty() {
                        *report.upserts.entry(row.type_name()).or_default() += 1;
                        db.upsert_row(row).await?;
                    }
                    continue;
                }
                Ok(Parsed::Change(change)) => *change,
            };
            if let Err(e) = seq.accept(line, change.seq) {
                errors.push(e);
                continue;
            }
            if let ChangeOp::Upsert(kofu_domain::records::RegistryRecord::Municipality(m)) =
                &change.op
                && let Some(e) = other_town(line, &m.code)
            {
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
    // A parser that stopped short (it panicked) would look like the end of the feed:
    // make sure each ended for want of chunks.
    for parser in parsers {
        parser
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    report.lines = reader
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident number `n`'s ID (11 digits).
    fn id(n: usize) -> String {
        format!("{:011}", 10_000_000_000 + n)
    }

    /// Resident `n`'s feed line, `"type"` first as feeds are written.
    fn resident(n: usize, family: &str) -> String {
        let mut r = kofu_domain::sample::head_of_household();
        r.resident_id = id(n);
        r.family = family.to_owned();
        let json = serde_json::to_string(&r).expect("a resident writes out");
        format!("{{\"type\":\"resident\",{}\n", &json[1..])
    }

    /// Lines of `resident` that fill a chunk.
    fn lines_per_chunk() -> usize {
        CHUNK_BYTES / resident(1, "行1").len()
    }

    /// Imports `feed` into a new SQLite store.
    async fn import(
        feed: Vec<u8>,
    ) -> (
        tempfile::TempDir,
        kofu_store::Store,
        Result<ImportReport, AppError>,
    ) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("kofu.db").display());
        let store = kofu_store::Store::open(&url).await.expect("a new store");
        let result = import_feed(&store, std::io::Cursor::new(feed)).await;
        (dir, store, result)
    }

    /// Lines spread over many parsers' chunks come back in the feed's order: a later
    /// upsert of a record wins over an earlier one in another chunk, and the last line
    /// counts without its newline.
    #[tokio::test]
    async fn records_apply_in_feed_order_across_chunks() {
        let lines = lines_per_chunk() * (parser_count() + 2) + 7;
        let mut feed = Vec::new();
        for n in 1..lines {
            // Three residents, each written again and again; line n names its writer.
            feed.extend(resident(n % 3, &format!("行{n}")).into_bytes());
        }
        let last = resident(0, "最後");
        feed.extend(last.trim_end().as_bytes());
        let (_dir, store, result) = import(feed).await;
        let report = result.expect("a good feed imports");
        assert_eq!(report.lines, lines as u64);
        assert_eq!(report.upserts.get("resident"), Some(&(lines as u64)));
        let family = |n: usize| {
            let store = &store;
            async move {
                store
                    .resident(&id(n))
                    .await
                    .expect("readable")
                    .map(|r| r.family)
            }
        };
        assert_eq!(family(0).await.as_deref(), Some("最後"));
        let last_of = |k: usize| (1..lines).filter(|n| n % 3 == k).max().expect("some line");
        assert_eq!(family(1).await, Some(format!("行{}", last_of(1))));
        assert_eq!(family(2).await, Some(format!("行{}", last_of(2))));
    }

    /// Bad lines in different chunks are each reported with their own number, blank
    /// lines counted, and nothing is written.
    #[tokio::test]
    async fn bad_lines_in_any_chunk_are_reported_by_number() {
        let lines = lines_per_chunk() * (parser_count() + 1) + 3;
        let bad_json = lines_per_chunk() + 2;
        let blank = lines_per_chunk() * 2;
        let not_utf8 = lines - 1;
        let mut feed = Vec::new();
        for n in 1..=lines {
            match n {
                _ if n == bad_json => feed.extend(b"{\"type\":\"resident\",\n"),
                _ if n == blank => feed.extend(b"   \r\n"),
                _ if n == not_utf8 => feed.extend(b"{\"type\":\"\xff\"}\n"),
                _ => feed.extend(resident(n, "佐藤").into_bytes()),
            }
        }
        let (_dir, store, result) = import(feed).await;
        let Err(AppError::FeedRejected(errors)) = result else {
            panic!("a feed with bad lines was not rejected: {result:?}");
        };
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [(bad_json, "(line)"), (not_utf8, "(line)")],
            "{:?}",
            errors.first()
        );
        assert!(
            errors[1].reason.starts_with("not valid UTF-8"),
            "{errors:?}"
        );
        let stats = store.stats().await.expect("stats");
        assert_eq!(stats.residents, 0, "written from a rejected feed");
    }

    /// A chunk's lines are `split_inclusive`'s: each with its `\n`, the last one
    /// with or without, none made of nothing.
    #[test]
    fn lines_of_a_chunk_are_split_inclusive() {
        let check = |text: &str, expected: &[&str]| {
            let got: Vec<&str> = lines_of(text).collect();
            assert_eq!(got, expected, "{text:?}");
            let std: Vec<&str> = text.split_inclusive('\n').collect();
            assert_eq!(got, std, "{text:?}");
        };
        check("", &[]);
        check("\n", &["\n"]);
        check("a", &["a"]);
        check("a\n", &["a\n"]);
        check("a\nb", &["a\n", "b"]);
        check("佐藤\r\n\n鈴木\n", &["佐藤\r\n", "\n", "鈴木\n"]);
    }

    /// A line longer than a chunk is read whole, and the lines after it keep their
    /// numbers.
    #[tokio::test]
    async fn a_line_longer_than_a_chunk_keeps_the_numbering() {
        let mut feed = resident(1, "佐藤").into_bytes();
        let long = format!(
            "{{\"type\":\"resident\",\"note\":\"{}\"\n",
            "x".repeat(3 * CHUNK_BYTES)
        );
        feed.extend(long.into_bytes());
        feed.extend(resident(2, "鈴木").into_bytes());
        feed.extend(b"{\n");
        let (_dir, _store, result) = import(feed).await;
        let Err(AppError::FeedRejected(errors)) = result else {
            panic!("a feed with bad lines was not rejected: {result:?}");
        };
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4], "{errors:?}");
    }
}
