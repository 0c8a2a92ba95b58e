//! `kofu demo-town`, `kofu import` and `kofu stats` as an operator runs them.

use kofu_e2e::{databases, feed, import_feed, kofu};

fn stats(url: &str) -> serde_json::Value {
    let out = kofu(&["stats", "--database", url]);
    assert!(
        out.status.success(),
        "stats failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn demo_town_imports_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let town = dir.path().join("town.jsonl");
    let out = kofu(&[
        "demo-town",
        "--residents",
        "500",
        "--seed",
        "7",
        "--out",
        town.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for url in databases(dir.path(), "demo") {
        let out = kofu(&["import", town.to_str().unwrap(), "--database", &url]);
        assert!(out.status.success(), "{url}: {}", stderr(&out));
        let s = stats(&url);
        assert_eq!(s["residents"], 500, "{url}: {s}");
        assert!(s["households"].as_u64().unwrap() > 100, "{url}: {s}");
        assert_eq!(s["municipality"], 1, "{url}: {s}");
    }
}

#[test]
fn hand_made_feed_and_its_changes() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(dir.path(), "edge") {
        let import =
            |name: &str| kofu(&["import", feed(name).to_str().unwrap(), "--database", &url]);
        let out = import("edge-cases.jsonl");
        assert!(out.status.success(), "{url}: {}", stderr(&out));
        let s = stats(&url);
        assert_eq!(
            (
                s["residents"].as_u64(),
                s["seals"].as_u64(),
                s["support_measures"].as_u64(),
                s["last_seq"].as_i64()
            ),
            (Some(5), Some(2), Some(0), Some(1044)),
            "{url}: {s}"
        );

        // A gap and a repeat are refused and change nothing.
        for (name, reason) in [
            (
                "changes-gap.jsonl",
                "1047 leaves a gap: expected 1045 after 1044",
            ),
            (
                "changes-repeat.jsonl",
                "1044 repeats an event already applied (last is 1044)",
            ),
        ] {
            let out = import(name);
            assert!(!out.status.success(), "{url}: {name} was accepted");
            assert!(
                stderr(&out).contains(&format!("{name}:1: seq: {reason}")),
                "{url}: {}",
                stderr(&out)
            );
            assert_eq!(stats(&url), s, "{url}: {name} changed something");
        }
        // The next event in sequence is applied.
        let out = import("changes-1045.jsonl");
        assert!(out.status.success(), "{url}: {}", stderr(&out));
        let after = stats(&url);
        assert_eq!(
            (after["cards"].as_u64(), after["last_seq"].as_i64()),
            (Some(0), Some(1045)),
            "{url}: {after}"
        );
    }
}

#[test]
fn a_file_with_bad_lines_is_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let expected = std::fs::read_to_string(feed("bad-lines.expected")).unwrap();
    for url in databases(dir.path(), "bad") {
        let path = feed("bad-lines.jsonl");
        let out = kofu(&["import", path.to_str().unwrap(), "--database", &url]);
        assert!(!out.status.success(), "{url}: accepted");
        let got: String = stderr(&out)
            .lines()
            .filter_map(|l| l.strip_prefix(path.to_str().unwrap()))
            .map(|l| format!("bad-lines.jsonl{l}\n"))
            .collect();
        assert_eq!(got, expected, "{url}");
        let s = stats(&url);
        assert_eq!(s["residents"], 0, "{url}: something was imported: {s}");
        assert_eq!(s["cards"], 0, "{url}: {s}");
    }
}

/// One database serves one town: a second town's feed is refused whole, naming the
/// line and both codes, and the first town's data stays as it was (else its residents
/// would get certificates certified by the other town's mayor).
#[test]
fn a_feed_of_another_town_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let town = std::fs::read_to_string(feed("kiosk-town.jsonl")).unwrap();
    let other: String = town
        .lines()
        .map(|l| {
            if l.contains(r#""type": "municipality""#) {
                l.replace(r#""code": "999999""#, r#""code": "131016""#)
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect();
    assert_ne!(other, town, "the fixture's municipality line was found");
    let other_path = dir.path().join("other-town.jsonl");
    std::fs::write(&other_path, other).unwrap();
    for url in databases(dir.path(), "two_towns") {
        import_feed("kiosk-town.jsonl", &url);
        let before = stats(&url);
        let out = kofu(&["import", other_path.to_str().unwrap(), "--database", &url]);
        assert!(!out.status.success(), "{url}: accepted");
        let err = stderr(&out);
        assert!(
            err.contains("municipality 131016 is not this database's town (999999)"),
            "{url}: {err}"
        );
        assert_eq!(stats(&url), before, "{url}: something changed");
        // The same town's feed again is fine.
        import_feed("kiosk-town.jsonl", &url);
    }
}
