//! Fuzzes the registry-feed line parser of kofu-feed (`kofu_feed::parse_line`), which
//! the importer calls on every line of a feed file.
//!
//! Properties: parsing never panics; a refused line yields at least one error, each
//! on the given line number and naming a field with a reason; a line that parses is
//! valid (`RegistryRecord::validate` finds nothing, for a record and for a change's
//! upsert), parsing it again gives the same result, and a parsed record written back
//! as JSON (as the store keeps it) parses to the same record.

#![no_main]

use kofu_domain::RegistryRecord;
use kofu_feed::{ChangeOp, FeedLine, parse_line};
use libfuzzer_sys::fuzz_target;

const LINE: usize = 7;

fn check_record(rec: &RegistryRecord) {
    let problems = rec.validate();
    assert!(problems.is_empty(), "parsed but invalid: {problems:?}");
    let text = serde_json::to_string(rec).expect("a record serializes");
    match parse_line(LINE, &text) {
        Ok(FeedLine::Record(back)) => assert_eq!(&back, rec, "round trip through {text}"),
        other => panic!("{text} does not read back: {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_line(LINE, text) {
        Ok(parsed) => {
            match &parsed {
                FeedLine::Record(rec) => check_record(rec),
                FeedLine::Change(c) => {
                    if let ChangeOp::Upsert(rec) = &c.op {
                        check_record(rec);
                    }
                }
            }
            assert_eq!(parse_line(LINE, text).ok(), Some(parsed), "not deterministic");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for e in &errors {
                assert_eq!(e.line, LINE, "{e:?}");
                assert!(!e.field.is_empty(), "no field named: {e:?}");
                assert!(!e.reason.is_empty(), "no reason given: {e:?}");
                assert!(e.to_string().starts_with("7: "), "{e}");
            }
        }
    }
});
