//! The kiosk security layer as the center applies it and a town checks it: a
//! certificate from `kofu render`, the simulator's layer on top (body untouched,
//! ground pattern, scrambled back page), poppler scans of both sides, and `kofu
//! verify-scan` with the right key, a wrong key and unreadable input.

use std::path::Path;
use std::process::Command;

use kofu_e2e::{import_feed, kofu};
use kofu_relay_sim::layer::{LayerKey, kiosk_copy};
use serde_json::Value;

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const WRONG_KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (poppler-utils, qpdf): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The raw (still compressed) bytes of every content stream of every page.
fn page_contents(pdf: &Path) -> Vec<Vec<Vec<u8>>> {
    let file = pdf.to_str().unwrap();
    let json: Value =
        serde_json::from_slice(&tool("qpdf", &["--json=2", "--json-key=pages", file])).unwrap();
    json["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|page| {
            page["contents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let id = r.as_str().unwrap().split(' ').next().unwrap();
                    tool(
                        "qpdf",
                        &[&format!("--show-object={id}"), "--raw-stream-data", file],
                    )
                })
                .collect()
        })
        .collect()
}

fn page_text(pdf: &Path, page: u32) -> String {
    let p = page.to_string();
    String::from_utf8(tool(
        "pdftotext",
        &["-f", &p, "-l", &p, pdf.to_str().unwrap(), "-"],
    ))
    .unwrap()
}

/// Page `page` "scanned" at 150 dpi in colour, as a PNG.
fn scan(pdf: &Path, page: u32, out: &Path) {
    let p = page.to_string();
    let root = out.with_extension("");
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "150",
            "-f",
            &p,
            "-l",
            &p,
            "-singlefile",
            pdf.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
    );
    assert!(out.exists(), "{} not written", out.display());
}

fn verify_scan(back: &Path, key: &str, front: &Path, restored: &Path) -> (Option<i32>, Value) {
    let out = kofu(&[
        "verify-scan",
        back.to_str().unwrap(),
        "--key",
        key,
        "--front",
        front.to_str().unwrap(),
        "--out",
        restored.to_str().unwrap(),
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json)
}

#[test]
fn the_kiosk_copy_keeps_the_body_and_its_back_restores_only_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("KOFU_E2E_KEEP").map(std::path::PathBuf::from);
    let work = keep.as_deref().unwrap_or(dir.path());
    std::fs::create_dir_all(work).unwrap();
    let url = format!("sqlite:{}", work.join("kiosk-layer.sqlite").display());
    let _ = std::fs::remove_file(work.join("kiosk-layer.sqlite"));
    import_feed("edge-cases.jsonl", &url);
    let counter = work.join("counter.pdf");
    let out = kofu(&[
        "render",
        "--database",
        &url,
        "--kind",
        "juminhyo",
        "--resident",
        "00000000027",
        "--household",
        "all",
        "--show-relationship",
        "--date",
        "2026-11-25",
        "-o",
        counter.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The center's layer, through the simulator's own code path.
    let town_pdf = std::fs::read(&counter).unwrap();
    let key = LayerKey::from_hex(KEY).unwrap();
    let kiosk_pdf = kiosk_copy(&town_pdf, &key).unwrap();
    assert_eq!(
        kiosk_copy(&town_pdf, &key).unwrap(),
        kiosk_pdf,
        "the layer is deterministic"
    );
    let kiosk = work.join("counter.kiosk.pdf");
    std::fs::write(&kiosk, &kiosk_pdf).unwrap();
    tool("qpdf", &["--check", kiosk.to_str().unwrap()]);

    // Every front page keeps its content stream byte for byte, after the ground
    // pattern; a back page follows each.
    let before = page_contents(&counter);
    let after = page_contents(&kiosk);
    assert_eq!(after.len(), 2 * before.len());
    for (i, original) in before.iter().enumerate() {
        let front = &after[2 * i];
        assert_eq!(front.len(), original.len() + 1, "page {}", i + 1);
        assert_eq!(&front[1..], &original[..], "page {}: body changed", i + 1);
        assert_eq!(after[2 * i + 1].len(), 2, "back of page {}", i + 1);
        assert_eq!(
            after[2 * i + 1][0],
            front[0],
            "same ground pattern on both sides"
        );
        let n = u32::try_from(i + 1).unwrap();
        let text = page_text(&counter, n);
        assert!(text.contains("住民票"), "{text}");
        assert_eq!(page_text(&kiosk, 2 * n - 1), text, "page {n}: text differs");
        assert_eq!(
            page_text(&kiosk, 2 * n).trim(),
            "",
            "a back page has no text"
        );
    }

    // Scans of the printed copy at 150 dpi (the layer rasterised at 100).
    let front = work.join("front.png");
    let back = work.join("back.png");
    scan(&kiosk, 1, &front);
    scan(&kiosk, 2, &back);
    let restored = work.join("restored.png");
    let (code, verdict) = verify_scan(&back, KEY, &front, &restored);
    assert_eq!(code, Some(0), "{verdict}");
    assert_eq!(verdict["match"], true, "{verdict}");
    assert!(verdict["similarity"].as_f64().unwrap() > 0.9, "{verdict}");
    assert_eq!(verdict["restored"], restored.to_str().unwrap());
    assert!(restored.exists());

    let wrong = work.join("restored-wrong-key.png");
    let (code, verdict) = verify_scan(&back, WRONG_KEY, &front, &wrong);
    assert_eq!(code, Some(1), "{verdict}");
    assert_eq!(verdict["match"], false, "{verdict}");
    assert!(verdict["similarity"].as_f64().unwrap() < 0.5, "{verdict}");

    // Unreadable input: exit 2, naming the file and the reason.
    let out = kofu(&[
        "verify-scan",
        kiosk.to_str().unwrap(),
        "--key",
        KEY,
        "--out",
        work.join("x.png").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("counter.kiosk.pdf") && stderr.contains("not a readable PNG"),
        "{stderr}"
    );
    // The front is no back page: its marks are missing.
    let (code, _) = verify_scan(&front, KEY, &front, &work.join("y.png"));
    assert_eq!(code, Some(2));
    let out = kofu(&["verify-scan", back.to_str().unwrap(), "--key", "12"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key"));
}
