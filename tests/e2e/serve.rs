//! `kofu serve` as the relay center meets it: the binary listens on loopback, answers
//! an inquiry, an issuance and its outcome, and `kofu audit verify` then checks the
//! trail it left. Plain HTTP is refused off loopback and without the development flag.

use kofu_e2e::{Serve, databases, import_feed, kofu};
use serde_json::{Value, json};

#[test]
fn serves_the_kiosk_path_and_leaves_a_verifiable_trail() {
    let dir = tempfile::tempdir().unwrap();
    for (n, url) in databases(dir.path(), "serve").iter().enumerate() {
        import_feed("kiosk-town.jsonl", url);
        let serve = Serve::start(url);
        let request_id = format!("6f1c1d2e-0000-4000-8000-00000000000{n}");
        let kiosk = json!({"id": "K-00001", "chain": "sample-mart"});
        let at = "2026-05-07T10:15:00+09:00";
        let (status, inquiry) = serve.post(
            "/lgwan/v1/inquiries",
            &json!({"request_id": request_id, "card_serial": "0A1B2C3D", "certificate": "juminhyo",
                    "kiosk": kiosk, "requested_at": at}),
        );
        assert_eq!(
            (status, &inquiry["available"]),
            (200, &json!(true)),
            "{inquiry}"
        );
        let (status, issued) = serve.post(
            "/lgwan/v1/issuances",
            &json!({"request_id": request_id, "card_serial": "0A1B2C3D", "certificate": "juminhyo",
                    "options": {"household": "self"}, "copies": 1, "kiosk": kiosk, "requested_at": at}),
        );
        assert_eq!(status, 200, "{}", issued["error"]);
        assert_eq!(
            issued["documents"][0]["issue_number"],
            json!("20260507 見本市 KIOSK K-00001 000001")
        );
        let (status, recorded) = serve.post(
            "/lgwan/v1/outcomes",
            &json!({"request_id": request_id, "issuance_id": issued["issuance_id"], "outcome": "printed",
                    "pages_printed": 1, "fee_collected_yen": 200, "reported_at": at}),
        );
        assert_eq!(
            (status, &recorded["recorded"]),
            (200, &json!(true)),
            "{recorded}"
        );
        drop(serve);

        let out = kofu(&["audit", "verify", "--database", url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            verdict["entries"],
            json!(3),
            "inquiry, issuance, outcome: {verdict}"
        );
        assert_eq!(
            verdict["rows"],
            json!(4),
            "issuance, copy, fee, outcome: {verdict}"
        );
        assert_eq!(verdict["problems"], json!([]));
    }
}

#[test]
fn plain_http_needs_the_flag_and_a_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("k.sqlite").display());
    let out = kofu(&["serve", "--database", &url, "--lgwan-listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-loopback"));
    let out = kofu(&[
        "serve",
        "--database",
        &url,
        "--insecure-loopback",
        "--lgwan-listen",
        "0.0.0.0:0",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("loopback"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
