//! kofu-feed: the registry feed of `registry-feed.md`, version 1.
//!
//! A feed is JSON Lines: full records (`{"type":"resident",…}`) and change events
//! (`{"type":"change","seq":…,"op":"upsert"|"delete","record":{…}}`). This crate
//! reads one line at a time into domain types, and reports every problem as
//! `line: field: reason` so that an importer can reject a file whole and say why.
//! It knows the wire format and nothing about storage.

mod change;
mod line;

pub use change::{Change, ChangeOp};
pub use line::{FeedLine, LineError, SeqCheck, parse_line, parse_line_as_sent};
