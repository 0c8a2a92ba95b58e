//! The supervisor's report through the real fonts and PDF tools: a Japanese report
//! with a 300-row table must be a valid PDF (`qpdf --check`) with subset fonts
//! embedded, several pages, and every label and the first and last rows extractable.

use crate::common::*;
use kofu_render::{ReportChart, ReportDocument, ReportTable, render_report};

fn report(rows: usize) -> ReportDocument {
    ReportDocument {
        title: "交付日報 2026-05-07".into(),
        subtitle: "作成 2026-05-08 09:00 JST".into(),
        meta_title: "交付日報 2026-05-07".into(),
        figures: vec![
            ("交付件数".into(), "4".into()),
            ("交付通数".into(), "5".into()),
            ("取消（処分情報）".into(), "1".into()),
        ],
        charts: vec![ReportChart {
            title: "証明書別".into(),
            bars: vec![("住民票".into(), 4), ("印鑑".into(), 0)],
        }],
        tables: vec![
            ReportTable {
                title: "照会件数の多い職員".into(),
                columns: vec!["職員".into(), "件数".into(), "日時".into()],
                rows: (1..=rows)
                    .map(|i| {
                        vec![
                            format!("職員{i:03}"),
                            (i * 7).to_string(),
                            "2026-05-07 10:15:00".into(),
                        ]
                    })
                    .collect(),
                empty: "該当なし".into(),
            },
            ReportTable {
                title: "権限外の操作".into(),
                columns: Vec::new(),
                rows: Vec::new(),
                empty: "該当なし".into(),
            },
        ],
        footer: "監督者用・取扱注意".into(),
        page_label: "{page} / {pages} ページ".into(),
        continued: "{title}（続き）".into(),
        generated_at: (2026, 5, 8, 9, 0, 0),
    }
}

#[test]
fn three_hundred_rows_in_japanese_paginate_with_embedded_subset_fonts() {
    let doc = report(300);
    let rendered = render_report(&doc, book()).unwrap();
    let pdf = rendered.bytes;
    if let Some(dir) = std::env::var_os("KOFU_TEST_DUMP") {
        std::fs::write(std::path::Path::new(&dir).join("report-300.pdf"), &pdf).unwrap();
    }
    qpdf_check(&pdf);
    assert!(
        pdf == render_report(&doc, book()).unwrap().bytes,
        "not deterministic"
    );

    let fonts = pdffonts(&pdf);
    assert!(!fonts.is_empty(), "no fonts");
    for f in &fonts {
        assert!(f.embedded && f.subset && f.unicode, "{f:?}");
    }
    assert!(
        fonts.iter().any(|f| f.name.ends_with("+IPAexGothic")),
        "{fonts:#?}"
    );
    // Gothic only: nothing needed a fallback face.
    assert!(
        !fonts.iter().any(|f| f.name.contains("Mincho")),
        "{fonts:#?}"
    );

    let pages = pdftotext_pages(&pdf);
    let n = pages.len();
    assert!(n > 1, "300 rows on {n} page(s)");
    assert_eq!(n, rendered.pages, "page count reported");
    let first = squash(&pages[0]);
    let last = squash(&pages[n - 1]);
    for must in [
        "交付日報2026-05-07",
        "作成2026-05-0809:00JST",
        "交付件数",
        "取消（処分情報）",
        "証明書別",
        "住民票",
        "照会件数の多い職員",
        "職員001",
    ] {
        assert!(first.contains(must), "page 1 lacks `{must}`:\n{}", pages[0]);
    }
    for must in ["職員300", "2100", "権限外の操作", "該当なし"] {
        assert!(
            last.contains(must),
            "last page lacks `{must}`:\n{}",
            pages[n - 1]
        );
    }
    assert!(!first.contains("職員300") && !last.contains("職員001"));
    for (i, p) in pages.iter().enumerate() {
        let p = squash(p);
        assert!(
            p.contains(&format!("{}/{n}ページ", i + 1)),
            "page {} label",
            i + 1
        );
        assert!(p.contains("監督者用・取扱注意"), "page {} footer", i + 1);
        if i > 0 && i + 1 < n {
            // Continued pages repeat the caption, marked, and the header row.
            assert!(p.contains("照会件数の多い職員（続き）"), "page {}", i + 1);
            assert!(p.contains("職員件数日時"), "page {} header row", i + 1);
        }
    }
}
