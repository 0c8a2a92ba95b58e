//! Reading one feed line into a record or a change, with errors naming the field.

use std::borrow::Cow;
use std::fmt;

use kofu_domain::municipality::Municipality;
use kofu_domain::records::{SuppressionScope, TaxRecord};
use kofu_domain::{
    Card, Fuhyo, Koseki, RecordKey, RegistryRecord, Resident, Seal, SupportMeasure, Suppression,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::change::{Change, ChangeOp};

/// One parsed line.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per line, moved once: boxing buys nothing
pub enum FeedLine {
    /// A full record.
    Record(RegistryRecord),
    /// A change event.
    Change(Change),
}

/// A problem on one line of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The field's path (`record.my_number`, `members[1].birth_date`), or `(line)`
    /// when the line as a whole is wrong.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl fmt::Display for LineError {
    /// `LINE: field: reason`; an importer prefixes the file name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.line, self.field, self.reason)
    }
}

const RECORD_TYPES: &str =
    "municipality, resident, seal, card, koseki, fuhyo, tax, support_measure, suppression, change";

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    Upsert,
    Delete,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    seq: i64,
    #[serde(deserialize_with = "rfc3339")]
    at: OffsetDateTime,
    op: Op,
    #[serde(borrow)]
    record: &'a RawValue,
}

#[derive(Deserialize)]
struct KeyProbe {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    resident_id: Option<String>,
    auth_serial: Option<String>,
    koseki_id: Option<String>,
    member_no: Option<u32>,
    fiscal_year: Option<i32>,
    scope: Option<SuppressionScope>,
    id: Option<String>,
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let s = <Cow<'de, str>>::deserialize(d)?;
    OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).map_err(|_| {
        serde::de::Error::custom(format!(
            "'{s}' is not an RFC 3339 date-time (e.g. 2026-05-02T10:15:00+09:00)"
        ))
    })
}

/// Reads the `"type"` of a line without requiring the rest to be well formed, so the
/// full parse can report the first real problem with its field.
fn probe(text: &str) -> Result<Probe<'_>, serde_json::Error> {
    Probe::deserialize(&mut serde_json::Deserializer::from_str(text))
}

/// The `"type"` of a line that opens with it, as feeds are written
/// (`{"type":"resident",…`), and the rest of the line from the `,` after that member,
/// read without parsing the rest: the probe would parse all of it once more before the
/// record's own parse (a fifth of a full load's time). Any other shape gives `None`, and
/// so does a line where `"type"` appears again: the probe refuses a second `"type"`
/// member, which the record's parse would ignore.
fn leading_type(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("{\"type\":\"")?;
    let end = rest.find('"')?;
    let (kind, after) = (&rest[..end], &rest[end + 1..]);
    let plain = !kind.contains('\\') && after.starts_with(',') && !after.contains("\"type\"");
    plain.then_some((kind, after))
}

/// Parses line number `line` (1-based) of a feed. Blank lines are the caller's to skip.
pub fn parse_line(line: usize, text: &str) -> Result<FeedLine, Vec<LineError>> {
    parse(line, text).map(|(parsed, _)| parsed)
}

/// [`parse_line`], and for a full record whose line opens with its `"type"` (as feeds
/// are written) the record's JSON object as the registry wrote it, less that member: what
/// a store keeps of the record without writing it out again (a quarter of the import's
/// own work on a full load). It reads back to the record, members kofu does not know
/// included. `None` for a change event and for a line of another shape.
pub fn parse_line_as_sent(
    line: usize,
    text: &str,
) -> Result<(FeedLine, Option<String>), Vec<LineError>> {
    let (parsed, after_type) = parse(line, text)?;
    let json = after_type.map(|after| {
        // `after` opens with the `,` that followed the `"type"` member.
        let mut json = String::with_capacity(after.len());
        json.push('{');
        json.push_str(&after[1..]);
        json
    });
    Ok((parsed, json))
}

/// Parses a line; for a full record read from a line that opens with its `"type"`, also
/// the rest of the line after that member (see [`leading_type`]).
fn parse(line: usize, text: &str) -> Result<(FeedLine, Option<&str>), Vec<LineError>> {
    let err = |field: &str, reason: String| {
        vec![LineError {
            line,
            field: field.to_owned(),
            reason,
        }]
    };
    // A line that fails goes the long way below, which names its problem.
    if let Some((kind, after)) = leading_type(text)
        && kind != "change"
        && let Ok(record) = record_of_kind(line, "", kind, text)
    {
        return Ok((FeedLine::Record(record), Some(after)));
    }
    let probe =
        probe(text).map_err(|e| err("(line)", format!("not a JSON object: {}", message(&e))))?;
    let Some(kind) = probe.kind else {
        return Err(err("type", "is required".into()));
    };
    if kind == "change" {
        let env: Envelope<'_> = de(line, "", text)?;
        let op = match env.op {
            Op::Upsert => ChangeOp::Upsert(record(line, "record.", env.record.get())?),
            Op::Delete => ChangeOp::Delete(key(line, env.record.get())?),
        };
        let change = Change {
            seq: env.seq,
            at: env.at,
            op,
        };
        return Ok((FeedLine::Change(change), None));
    }
    let record = record_of_kind(line, "", &kind, text)?;
    Ok((FeedLine::Record(record), None))
}

/// Parses the record of a change event, and validates it.
fn record(line: usize, prefix: &str, text: &str) -> Result<RegistryRecord, Vec<LineError>> {
    let probe = probe(text).map_err(|e| {
        vec![LineError {
            line,
            field: format!("{prefix}(record)"),
            reason: format!("not a JSON object: {}", message(&e)),
        }]
    })?;
    record_of_kind(line, prefix, &probe.kind.unwrap_or_default(), text)
}

/// Parses a record whose `"type"` was read already, and validates it.
fn record_of_kind(
    line: usize,
    prefix: &str,
    kind: &str,
    text: &str,
) -> Result<RegistryRecord, Vec<LineError>> {
    let rec = match kind {
        "municipality" => RegistryRecord::Municipality(de::<Municipality>(line, prefix, text)?),
        "resident" => RegistryRecord::Resident(de::<Resident>(line, prefix, text)?),
        "seal" => RegistryRecord::Seal(de::<Seal>(line, prefix, text)?),
        "card" => RegistryRecord::Card(de::<Card>(line, prefix, text)?),
        "koseki" => RegistryRecord::Koseki(de::<Koseki>(line, prefix, text)?),
        "fuhyo" => RegistryRecord::Fuhyo(de::<Fuhyo>(line, prefix, text)?),
        "tax" => RegistryRecord::Tax(de::<TaxRecord>(line, prefix, text)?),
        "support_measure" => {
            RegistryRecord::SupportMeasure(de::<SupportMeasure>(line, prefix, text)?)
        }
        "suppression" => RegistryRecord::Suppression(de::<Suppression>(line, prefix, text)?),
        "" => {
            return Err(vec![LineError {
                line,
                field: format!("{prefix}type"),
                reason: "is required".into(),
            }]);
        }
        other => {
            return Err(vec![LineError {
                line,
                field: format!("{prefix}type"),
                reason: format!("unknown record type '{other}' (expected one of {RECORD_TYPES})"),
            }]);
        }
    };
    let problems = rec.validate();
    if problems.is_empty() {
        Ok(rec)
    } else {
        Err(problems
            .into_iter()
            .map(|p| LineError {
                line,
                field: format!("{prefix}{}", p.field),
                reason: p.reason,
            })
            .collect())
    }
}

/// The key named by a `delete` change's record.
fn key(line: usize, text: &str) -> Result<RecordKey, Vec<LineError>> {
    let p: KeyProbe = de(line, "record.", text)?;
    let need = |field: &str, v: Option<String>| {
        v.filter(|s| !s.is_empty()).ok_or_else(|| {
            vec![LineError {
                line,
                field: format!("record.{field}"),
                reason: "is required to name the record to delete".into(),
            }]
        })
    };
    let need_num = |field: &str, v: Option<i64>| {
        v.ok_or_else(|| {
            vec![LineError {
                line,
                field: format!("record.{field}"),
                reason: "is required to name the record to delete".into(),
            }]
        })
    };
    Ok(match p.kind.as_deref() {
        Some("municipality") => RecordKey::Municipality,
        Some("resident") => RecordKey::Resident(need("resident_id", p.resident_id)?),
        Some("seal") => RecordKey::Seal(need("resident_id", p.resident_id)?),
        Some("card") => RecordKey::Card(need("auth_serial", p.auth_serial)?),
        Some("koseki") => RecordKey::Koseki(need("koseki_id", p.koseki_id)?),
        Some("fuhyo") => {
            let no = need_num("member_no", p.member_no.map(i64::from))?;
            RecordKey::Fuhyo(
                need("koseki_id", p.koseki_id)?,
                u32::try_from(no).unwrap_or_default(),
            )
        }
        Some("tax") => {
            let year = need_num("fiscal_year", p.fiscal_year.map(i64::from))?;
            RecordKey::Tax(
                need("resident_id", p.resident_id)?,
                i32::try_from(year).unwrap_or_default(),
            )
        }
        Some("support_measure") => RecordKey::SupportMeasure(need("resident_id", p.resident_id)?),
        Some("suppression") => {
            let scope = p.scope.ok_or_else(|| {
                vec![LineError {
                    line,
                    field: "record.scope".into(),
                    reason: "is required to name the record to delete".into(),
                }]
            })?;
            RecordKey::Suppression(scope, need("id", p.id)?)
        }
        Some(other) => {
            return Err(vec![LineError {
                line,
                field: "record.type".into(),
                reason: format!("unknown record type '{other}'"),
            }]);
        }
        None => {
            return Err(vec![LineError {
                line,
                field: "record.type".into(),
                reason: "is required".into(),
            }]);
        }
    })
}

/// Deserializes `text` as `T`, naming the failing field by its path.
///
/// A well-formed line is read once, without tracking the path (a third of the parse's
/// time on a full load); only a line that fails is read again to name the field.
fn de<'a, T: Deserialize<'a>>(
    line: usize,
    prefix: &str,
    text: &'a str,
) -> Result<T, Vec<LineError>> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut json = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let msg = message(e.inner());
        // serde reports a missing field at its parent; name the field itself.
        let (field, reason) = match msg
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            Some(name) if path.is_empty() => (name.to_owned(), "is required".to_owned()),
            Some(name) => (format!("{path}.{name}"), "is required".to_owned()),
            None if path.is_empty() => ("(line)".to_owned(), msg),
            None => (path, msg),
        };
        vec![LineError {
            line,
            field: format!("{prefix}{field}"),
            reason,
        }]
    })?;
    json.end().map_err(|e| {
        vec![LineError {
            line,
            field: format!("{prefix}(line)"),
            reason: format!("unexpected text after the record: {}", message(&e)),
        }]
    })?;
    Ok(value)
}

/// serde_json's message without its ` at line 1 column N` suffix (the line is ours).
fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Checks that change events follow the last acknowledged one without gap or repeat.
#[derive(Clone, Debug)]
pub struct SeqCheck {
    last: Option<i64>,
}

impl SeqCheck {
    /// Starts after `last_acknowledged` (`None` when no event was ever applied: the
    /// first event may then have any number).
    pub fn new(last_acknowledged: Option<i64>) -> Self {
        SeqCheck {
            last: last_acknowledged,
        }
    }

    /// Accepts the next event's `seq`, or explains why it cannot follow.
    pub fn accept(&mut self, line: usize, seq: i64) -> Result<(), LineError> {
        let bad = |reason: String| LineError {
            line,
            field: "seq".into(),
            reason,
        };
        match self.last {
            Some(last) if seq <= last => {
                return Err(bad(format!(
                    "{seq} repeats an event already applied (last is {last})"
                )));
            }
            Some(last) if seq != last + 1 => {
                return Err(bad(format!(
                    "{seq} leaves a gap: expected {} after {last}",
                    last + 1
                )));
            }
            _ => {}
        }
        self.last = Some(seq);
        Ok(())
    }

    /// The last sequence number accepted.
    pub fn last(&self) -> Option<i64> {
        self.last
    }
}
