//! `kofu render` as an operator runs it: a certificate out of an imported feed,
//! and a refusal with its reason.

use kofu_e2e::{databases, import_feed, kofu};

#[test]
fn renders_from_the_store_and_refuses_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for url in databases(dir.path(), "render") {
        import_feed("edge-cases.jsonl", &url);

        let pdf = dir.path().join("juminhyo.pdf");
        let args = [
            "render",
            "--database",
            &url,
            "--kind",
            "juminhyo",
            "--resident",
            "00000000027",
            "--household",
            "self",
            "--show-former-surname",
            "--date",
            "2026-11-25",
            "--serial",
            "7",
            "-o",
            pdf.to_str().unwrap(),
        ];
        let out = kofu(&args);
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::process::Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        // The spouse's 旧氏 keeps its variation selector; the new address from change 1044 is shown.
        for expected in [
            "住民票の写し",
            "見本 花子",
            "葛\u{E0102}西",
            "見本県見本市港町三丁目4番5号",
            "20261125 見本市 本庁1 P001 007 1/1",
            "令和8年11月25日",
        ] {
            assert!(
                text.contains(expected),
                "{url}: {expected} missing from\n{text}"
            );
        }
        // Same command, same bytes.
        let first = std::fs::read(&pdf).unwrap();
        assert!(kofu(&args).status.success());
        assert_eq!(
            std::fs::read(&pdf).unwrap(),
            first,
            "{url}: output is not deterministic"
        );

        // The seal was revoked by change 1042: refused, with the reason, and no file.
        let refused = dir.path().join("inkan.pdf");
        let out = kofu(&[
            "render",
            "--database",
            &url,
            "--kind",
            "inkan",
            "--resident",
            "00000000019",
            "--date",
            "2026-11-25",
            "-o",
            refused.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(3), "{url}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("seal_revoked"),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !refused.exists(),
            "{url}: a refused certificate was written"
        );
    }
}
