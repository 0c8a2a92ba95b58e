//! The feed format, line by line: what is accepted and how each mistake is reported.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a failed test

use kofu_domain::RecordKey;
use kofu_feed::{ChangeOp, FeedLine, SeqCheck, parse_line, parse_line_as_sent};

const RESIDENT: &str = r#"{"type":"resident","resident_id":"00000000019","household_id":"H0001","family":"見本","given":"太郎","family_kana":"ミホン","given_kana":"タロウ","former_family":null,"alias":null,"sex":"male","birth_date":"1980-04-01","relationship":"世帯主","address":"見本県見本市中央一丁目2番3号","resident_since":"2010-04-01","address_since":"2010-04-01","notified_on":"2010-04-05","previous_address":"東京都千代田区","honseki":"見本県見本市中央一丁目2番","hitto":"見本 太郎","my_number":"123456789018","status":"active","status_since":null,"foreign":null}"#;

/// What a line becomes: the record type, or the errors as `field: reason` strings.
fn check(line: &str, expected: Result<&str, &[&str]>) {
    let got = match parse_line(7, line) {
        Ok(FeedLine::Record(r)) => Ok(r.type_name().to_owned()),
        Ok(FeedLine::Change(c)) => Ok(match c.op {
            ChangeOp::Upsert(r) => format!("change {} upsert {}", c.seq, r.type_name()),
            ChangeOp::Delete(k) => format!("change {} delete {k:?}", c.seq),
        }),
        Err(errors) => {
            assert!(errors.iter().all(|e| e.line == 7), "{errors:?}");
            Err(errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>())
        }
    };
    let expected = expected
        .map(str::to_owned)
        .map_err(|e| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    assert_eq!(got, expected, "{line}");
}

fn resident_with(field: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(RESIDENT).unwrap();
    if value == "<remove>" {
        v.as_object_mut().unwrap().remove(field);
    } else {
        v[field] = serde_json::from_str(value).unwrap();
    }
    v.to_string()
}

#[test]
fn records() {
    check(RESIDENT, Ok("resident"));
    check(
        &resident_with("extra_field_from_a_newer_registry", "1"),
        Ok("resident"),
    );
    // `"type"` anywhere in the object, not only first (as feeds write it); but once.
    let rest = RESIDENT.strip_prefix(r#"{"type":"resident","#).unwrap();
    check(
        &format!(r#"{{{}, "type": "resident"}}"#, rest.trim_end_matches('}')),
        Ok("resident"),
    );
    check(
        &RESIDENT.replace(r#""resident","#, r#""resid\u0065nt","#),
        Ok("resident"),
    );
    check(
        &format!(r#"{{"type":"resident","type":"seal",{rest}"#),
        Err(&["(line): not a JSON object: duplicate field `type`"]),
    );
    check(
        &resident_with("my_number", r#""123456789012""#),
        Err(&["my_number: check digit is 2, expected 8"]),
    );
    check(
        &resident_with("my_number", r#""12345""#),
        Err(&["my_number: must be exactly 12 digits"]),
    );
    check(
        &resident_with("birth_date", "<remove>"),
        Err(&["birth_date: is required"]),
    );
    check(
        &resident_with("birth_date", r#""1980-02-30""#),
        Err(&["birth_date: '1980-02-30' is not a day of the calendar"]),
    );
    check(
        &resident_with("birth_date", r#""S55.4.1""#),
        Err(&["birth_date: 'S55.4.1' is not a date in the form YYYY-MM-DD"]),
    );
    check(
        &resident_with("sex", r#""m""#),
        Err(&["sex: unknown variant `m`, expected `male` or `female`"]),
    );
    check(
        &resident_with("resident_id", r#""19""#),
        Err(&["resident_id: must be exactly 11 digits, got '19'"]),
    );
    check(
        &resident_with("family_kana", r#""みほん""#),
        Err(&["family_kana: must be written in katakana"]),
    );
    check(
        &resident_with(
            "foreign",
            r#"{"nationality":"","residence_status":"永住者","period":"無期限","period_end":"2099-12-31","card_number":"A1","category":"中長期在留者"}"#,
        ),
        Err(&[
            "foreign.nationality: must not be empty",
            "foreign.card_number: must be two capital letters, eight digits, two capital letters",
        ]),
    );
    check(
        &resident_with("foreign", r#"{"nationality":"中国"}"#),
        Err(&["foreign.residence_status: is required"]),
    );
    check(
        r#"{"type":"villager","id":1}"#,
        Err(&[
            "type: unknown record type 'villager' (expected one of municipality, resident, seal, card, koseki, fuhyo, tax, support_measure, suppression, change)",
        ]),
    );
    check(
        r#"{"resident_id":"00000000019"}"#,
        Err(&["type: is required"]),
    );
    check(
        "not json",
        Err(&["(line): not a JSON object: expected ident"]),
    );
    check(
        &format!("{RESIDENT} {{}}"),
        Err(&["(line): unexpected text after the record: trailing characters"]),
    );
    check(
        r#"{"type":"card","resident_id":"00000000019","auth_serial":"0A1B2C3D","status":"active"}"#,
        Ok("card"),
    );
    check(
        r#"{"type":"card","resident_id":"00000000019","auth_serial":"XYZ","status":"active"}"#,
        Err(&["auth_serial: must be a hexadecimal serial number"]),
    );
    check(
        r#"{"type":"support_measure","resident_id":"00000000019","from":"2026-01-10","to":"2027-01-09"}"#,
        Ok("support_measure"),
    );
    check(
        r#"{"type":"support_measure","resident_id":"00000000019","from":"2026-01-10","to":"2025-01-09"}"#,
        Err(&["to: 2025-01-09 is before 2026-01-10"]),
    );
    check(
        r#"{"type":"suppression","scope":"household","id":"H0001","certificates":["juminhyo"],"level":"error","from":"2026-03-01","to":null,"reason":"…"}"#,
        Ok("suppression"),
    );
    check(
        r#"{"type":"suppression","scope":"household","id":"H0001","certificates":["jumin"],"level":"error","from":"2026-03-01"}"#,
        Err(&[
            "certificates[0]: unknown variant `jumin`, expected one of `juminhyo`, `kisai_jiko`, `inkan`, `koseki_zenbu`, `koseki_kojin`, `fuhyo`, `shotoku_kazei`",
        ]),
    );
    check(
        r#"{"type":"tax","resident_id":"00000000019","fiscal_year":2026,"assessed_address":"…","income":{"給与":5200000},"total_income":3660000,"deductions":{"社会保険料控除":720000,"基礎控除":430000},"total_deductions":1150000,"taxable_base":2510000,"municipal_tax":150600,"prefectural_tax":100400}"#,
        Ok("tax"),
    );
    check(
        r#"{"type":"tax","resident_id":"00000000019","fiscal_year":2026,"assessed_address":"…","income":{},"total_income":1,"deductions":{"基礎控除":430000},"total_deductions":1,"taxable_base":1,"municipal_tax":-5,"prefectural_tax":1}"#,
        Err(&[
            "municipal_tax: must not be negative",
            "total_deductions: is 1 but the breakdown adds up to 430000",
        ]),
    );
    check(
        r#"{"type":"koseki","koseki_id":"K0001","honseki":"見本県見本市中央一丁目2番","hitto":"見本 太郎","events":[{"kind":"編製","date":"2008-10-10","details":{"編製事由":"婚姻"}}],"members":[{"member_no":1,"family":"見本","given":"太郎","birth_date":"1980-04-01","sex":"male","father":"見本 一郎","mother":"見本 春子","parent_relationship":"長男","role":"夫","events":[{"kind":"出生","date":"1980-04-01","details":{"出生地":"見本県見本市","届出人":"父"}}],"removed":null}]}"#,
        Ok("koseki"),
    );
    check(
        r#"{"type":"koseki","koseki_id":"K0001","honseki":"x","hitto":"y","members":[{"member_no":1,"family":"見本","given":"太郎","birth_date":"1980-04-01","sex":"male"},{"member_no":1,"family":"見本","given":"花子","birth_date":"19820815","sex":"female"}]}"#,
        Err(&["members[1].birth_date: '19820815' is not a date in the form YYYY-MM-DD"]),
    );
    // Each rule on a member and an event names its own path.
    check(
        r#"{"type":"koseki","koseki_id":"K0001","honseki":"x","hitto":"y","events":[{"kind":"編製","date":"2008-10-10"},{"kind":" ","date":"2009-01-01"}],"members":[{"member_no":1,"family":"見本","given":"太郎","birth_date":"1980-04-01","sex":"male","resident_id":"123","events":[{"kind":"出生","date":"1980-04-01"},{"kind":"","date":"1981-01-01"}]},{"member_no":2,"family":"見本","given":"　","birth_date":"1982-08-15","sex":"female"},{"member_no":2,"family":"見本","given":"次郎","birth_date":"1984-01-01","sex":"male","resident_id":"00000000019"}]}"#,
        Err(&[
            "members[0].resident_id: must be exactly 11 digits, got '123'",
            "members[0].events[1].kind: must not be empty",
            "members[1].given: must not be empty",
            "members[2].member_no: member number 2 appears twice",
            "events[1].kind: must not be empty",
        ]),
    );
    check(
        r#"{"type":"fuhyo","koseki_id":"K0001","member_no":1,"entries":[{"address":"東京都千代田区","from":"1980-04-01"},{"address":"見本県見本市中央一丁目2番3号","from":"2010-04-01"}]}"#,
        Ok("fuhyo"),
    );
    check(
        r#"{"type":"seal","resident_id":"00000000019","registration_no":"S-000001","registered_on":"2015-05-01","image_png_base64":"aGVsbG8=","status":"active"}"#,
        Err(&["image_png_base64: is not a PNG image"]),
    );
}

#[test]
fn changes() {
    check(
        &format!(
            r#"{{"type":"change","seq":1042,"at":"2026-05-02T10:15:00+09:00","op":"upsert","record":{RESIDENT}}}"#
        ),
        Ok("change 1042 upsert resident"),
    );
    check(
        r#"{"type":"change","seq":1043,"at":"2026-05-02T10:15:01+09:00","op":"delete","record":{"type":"support_measure","resident_id":"00000000019"}}"#,
        Ok(r#"change 1043 delete SupportMeasure("00000000019")"#),
    );
    check(
        r#"{"type":"change","seq":1043,"at":"2026-05-02T10:15:01+09:00","op":"delete","record":{"type":"fuhyo","koseki_id":"K1"}}"#,
        Err(&["record.member_no: is required to name the record to delete"]),
    );
    check(
        r#"{"type":"change","seq":1043,"at":"2026-05-02T10:15:01+09:00","op":"delete","record":{"type":"suppression","id":"H1"}}"#,
        Err(&["record.scope: is required to name the record to delete"]),
    );
    check(
        r#"{"type":"change","seq":1043,"at":"2026-05-02 10:15","op":"delete","record":{"type":"card","auth_serial":"0A"}}"#,
        Err(&[
            "at: '2026-05-02 10:15' is not an RFC 3339 date-time (e.g. 2026-05-02T10:15:00+09:00)",
        ]),
    );
    check(
        r#"{"type":"change","seq":1043,"at":"2026-05-02T10:15:01+09:00","op":"replace","record":{}}"#,
        Err(&["op: unknown variant `replace`, expected `upsert` or `delete`"]),
    );
    check(
        &format!(
            r#"{{"type":"change","seq":1,"at":"2026-05-02T10:15:00+09:00","op":"upsert","record":{}}}"#,
            resident_with("my_number", r#""123456789012""#)
        ),
        Err(&["record.my_number: check digit is 2, expected 8"]),
    );
    check(
        r#"{"type":"change","at":"2026-05-02T10:15:01+09:00","op":"delete","record":{"type":"card","auth_serial":"0A"}}"#,
        Err(&["seq: is required"]),
    );
}

#[test]
fn names_keep_variation_selectors() {
    let line = resident_with("family", "\"葛\u{E0102}西\"");
    let Ok(FeedLine::Record(kofu_domain::RegistryRecord::Resident(r))) = parse_line(1, &line)
    else {
        panic!("not parsed")
    };
    assert_eq!(r.family, "葛\u{E0102}西");
    assert_eq!(r.family.chars().count(), 3);
}

#[test]
fn sequence_rules() {
    let mut s = SeqCheck::new(Some(1042));
    assert!(s.accept(1, 1043).is_ok());
    assert_eq!(
        s.accept(2, 1043).unwrap_err().reason,
        "1043 repeats an event already applied (last is 1043)"
    );
    assert_eq!(
        s.accept(3, 1045).unwrap_err().reason,
        "1045 leaves a gap: expected 1044 after 1043"
    );
    assert!(s.accept(4, 1044).is_ok());
    let mut fresh = SeqCheck::new(None);
    assert!(fresh.accept(1, 500).is_ok());
    assert!(fresh.accept(2, 501).is_ok());
    assert_eq!(fresh.last(), Some(501));
    let _ = RecordKey::Municipality;
}

/// A change written back as a feed line (the server's change log) parses to itself,
/// and names the IDs it concerns.
#[test]
fn a_change_written_as_a_line_parses_back_to_itself_and_names_what_it_concerns() {
    let check = |line: &str, refs: &[&str]| {
        let Ok(FeedLine::Change(change)) = parse_line(1, line) else {
            panic!("not a change: {line}");
        };
        let again = parse_line(1, &change.to_line());
        assert!(
            matches!(&again, Ok(FeedLine::Change(c)) if *c == change),
            "{line} -> {}",
            change.to_line()
        );
        assert_eq!(change.refs(), refs, "{line}");
    };
    check(
        &format!(
            r#"{{"type":"change","seq":5,"at":"2026-05-02T10:15:00+09:00","op":"upsert","record":{RESIDENT}}}"#
        ),
        &["00000000019", "H0001"],
    );
    check(
        r#"{"type":"change","seq":6,"at":"2026-05-02T10:15:01+09:00","op":"delete","record":{"type":"support_measure","resident_id":"00000000027"}}"#,
        &["00000000027"],
    );
    check(
        r#"{"type":"change","seq":7,"at":"2026-05-02T01:15:01Z","op":"delete","record":{"type":"suppression","scope":"household","id":"H0002"}}"#,
        &["H0002"],
    );
    check(
        r#"{"type":"change","seq":8,"at":"2026-05-02T01:15:01Z","op":"delete","record":{"type":"fuhyo","koseki_id":"K0001","member_no":2}}"#,
        &["K0001"],
    );
}

/// What a store keeps of a full-record line: its object less the leading `"type"`, which
/// reads back to the record the line was parsed into; nothing for other shapes.
#[test]
fn a_record_as_sent_reads_back_to_the_record() {
    let Ok((FeedLine::Record(kofu_domain::RegistryRecord::Resident(resident)), Some(json))) =
        parse_line_as_sent(1, RESIDENT)
    else {
        panic!("RESIDENT parses, with its JSON");
    };
    assert!(
        json.starts_with(r#"{"resident_id":"00000000019","#),
        "{json}"
    );
    assert!(!json.contains(r#""type""#), "{json}");
    let back: kofu_domain::Resident = serde_json::from_str(&json).unwrap();
    assert_eq!(back, resident);
    // Extra members the registry sent are kept.
    let extra = RESIDENT.replace(
        r#""foreign":null}"#,
        r#""foreign":null,"extra_field_from_a_newer_registry":1}"#,
    );
    let extra = parse_line_as_sent(1, &extra).unwrap().1.unwrap();
    assert!(
        extra.contains(r#""extra_field_from_a_newer_registry":1"#),
        "{extra}"
    );

    // Other shapes: no JSON, whether the line is read (`"type"` not first, a change) or
    // refused (`"type"` twice, a record without its fields).
    let rest = RESIDENT.strip_prefix(r#"{"type":"resident","#).unwrap();
    let change = r#"{"type":"change","seq":3,"at":"2026-05-02T10:15:00+09:00","op":"delete","record":{"type":"seal","resident_id":"00000000019"}}"#;
    for (other, read) in [
        (
            format!(r#"{{{}, "type": "resident"}}"#, rest.trim_end_matches('}')),
            true,
        ),
        (change.to_owned(), true),
        (
            format!(r#"{{"type":"resident","type":"seal",{rest}"#),
            false,
        ),
        (r#"{"type":"resident"}"#.to_owned(), false),
    ] {
        match parse_line_as_sent(1, &other) {
            Ok((_, json)) => {
                assert!(read, "{other}");
                assert_eq!(json, None, "{other}");
            }
            Err(e) => assert!(!read, "{other}: {e:?}"),
        }
    }
}
