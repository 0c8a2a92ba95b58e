//! Engine integration tests: real IPA fonts, real PDF tools (poppler-utils, qpdf).
//!
//! Needs the Debian packages `fonts-ipaexfont`, `fonts-ipamj-mincho`, `poppler-utils`
//! and `qpdf`; a missing one fails with a message saying which.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "engine/report.rs"]
mod report;

use common::*;
use kofu_render::{
    Align, Cell, DocMeta, FontFace, Frame, Layout, PreparedImage, RenderError, Row, Table,
    TextStyle,
};

const KUZU_IVS: &str = "葛\u{E0102}";
const TSUJI_IVS: &str = "辻\u{E0100}";

fn name_line() -> String {
    format!("{KUZU_IVS}西　{TSUJI_IVS}子")
}

/// A two-page document exercising every primitive.
fn sample(book: &kofu_render::FontBook) -> Result<Vec<u8>, RenderError> {
    let mut l = Layout::new(book)?;
    let p1 = l.new_page();
    l.text_box(
        p1,
        "title",
        Frame::new(20.0, 15.0, 170.0, 14.0),
        "住民票の写し",
        &TextStyle::new(FontFace::Gothic, 20.0).align(Align::Center),
    )?;
    let label = TextStyle::new(FontFace::Gothic, 10.0).align(Align::Distribute);
    let value = TextStyle::new(FontFace::Mincho, 11.0);
    let name = TextStyle::new(FontFace::NameMincho, 14.0);
    let table = Table {
        x: 20.0,
        y: 35.0,
        columns: vec![30.0, 140.0],
        border: 0.6,
        rows: vec![
            Row {
                height: 12.0,
                cells: vec![
                    Cell::new("label.name", "氏名", label.clone()),
                    Cell::new("name", name_line(), name.clone()),
                ],
            },
            Row {
                height: 10.0,
                cells: vec![
                    Cell::new("label.address", "住所", label.clone()),
                    Cell::new(
                        "address",
                        "北海道見本市中央区北一条西二丁目3番地4　見本マンション505号",
                        value.clone(),
                    ),
                ],
            },
            Row {
                height: 10.0,
                cells: vec![
                    Cell::new("label.birth", "生年月日", label.clone()),
                    Cell::new("birth", "平成2年3月4日　Born 1990-03-04", value.clone()),
                ],
            },
        ],
    };
    let bottom = l.table(p1, &table)?;
    l.hline(p1, 20.0, 190.0, bottom + 5.0, 0.3)?;
    l.vline(p1, 105.0, bottom + 8.0, bottom + 20.0, 0.3)?;
    l.rect(p1, Frame::new(20.0, bottom + 25.0, 60.0, 20.0), 1.0)?;
    l.fill(p1, Frame::new(85.0, bottom + 25.0, 20.0, 20.0), 0.85)?;
    let seal = PreparedImage::official_seal(&seal_png(200))?;
    l.text_at(
        p1,
        "certifier",
        (100.0, 250.0),
        "見本市長　見本　太郎",
        FontFace::Mincho,
        12.0,
    )?;
    l.image(p1, &seal, Frame::new(160.0, 238.0, 21.0, 21.0))?;
    let p2 = l.new_page();
    l.text_box(
        p2,
        "cert",
        Frame::new(20.0, 30.0, 170.0, 20.0),
        "この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
        &value,
    )?;
    let inei = PreparedImage::picture("inei", &seal_png(120))?;
    l.image(p2, &inei, Frame::new(20.0, 60.0, 15.0, 15.0))?;
    l.each_page(|l, page, i, n| {
        l.bind_page(page, &format!("req-1|subject-1|{i}/{n}"))?;
        l.text_box(
            page,
            "footer",
            Frame::new(20.0, 280.0, 170.0, 8.0),
            &format!("20260502 見本市 本庁1 P001 011 {i}/{n}"),
            &TextStyle::new(FontFace::Mincho, 8.0).align(Align::Right),
        )?;
        Ok(())
    })?;
    l.finish(&DocMeta {
        title: "住民票の写し".into(),
        subject: "test".into(),
        author: "見本市".into(),
        created: (2026, 5, 2, 10, 30, 0),
    })
}

#[test]
fn ivs_names_round_trip_through_pdftotext() {
    let pdf = sample(book()).expect("renders");
    // poppler re-creates spaces from glyph gaps as ASCII spaces, so U+3000 in the
    // source comes back as U+0020; everything else must be verbatim.
    let text = pdftotext(&pdf);
    assert!(
        text.contains(&name_line().replace('\u{3000}', " ")),
        "name with IVS not found verbatim in:\n{text}\nas code points: {}",
        kofu_render::error::codepoints(&text)
    );
    for s in [
        "住民票の写し",
        "4 見本マンション505号",
        "Born 1990-03-04",
        "20260502 見本市 本庁1 P001 011 1/2",
        "20260502 見本市 本庁1 P001 011 2/2",
        "相違ないことを証明する。",
    ] {
        assert!(text.contains(s), "`{s}` missing in:\n{text}");
    }
}

#[test]
fn all_fonts_embedded_and_subset() {
    let pdf = sample(book()).unwrap();
    let fonts = pdffonts(&pdf);
    assert_eq!(fonts.len(), 3, "expected Mincho, Gothic, IPAmj: {fonts:#?}");
    for f in &fonts {
        assert!(f.embedded && f.subset && f.unicode, "{f:?}");
        assert!(f.kind.contains("CID TrueType"), "{f:?}");
    }
    assert!(
        fonts.iter().any(|f| f.name.ends_with("+IPAmjMincho")),
        "{fonts:#?}"
    );
}

#[test]
fn qpdf_check_passes() {
    qpdf_check(&sample(book()).unwrap());
}

#[test]
fn deterministic_bytes() {
    let a = sample(book()).unwrap();
    let b = sample(book()).unwrap();
    assert!(a == b, "two renders of the same input differ");
}

#[test]
fn ivs_glyph_differs_from_base_and_is_the_one_embedded() {
    let b = book();
    let base = b.glyph_id(FontFace::NameMincho, '葛', None).unwrap();
    let variant = b
        .glyph_id(FontFace::NameMincho, '葛', Some('\u{E0102}'))
        .unwrap();
    assert_ne!(base, variant, "U+E0102 must select a different glyph");

    let pdf = sample(b).unwrap();
    let font = embedded_font(&pdf, "IPAmjMincho");
    let cid = font
        .to_unicode
        .iter()
        .find(|(_, t)| t == KUZU_IVS)
        .map(|(c, _)| *c)
        .expect("ToUnicode maps a CID to 葛+U+E0102");
    let subset_gid = font.cid_to_gid[cid as usize];
    let original = outline(&std::fs::read(IPAMJ).unwrap(), variant);
    let embedded = outline(&font.program, subset_gid);
    assert!(!original.is_empty());
    assert_eq!(
        original, embedded,
        "the subset glyph for 葛+U+E0102 is not the variant outline"
    );
    let base_outline = outline(&std::fs::read(IPAMJ).unwrap(), base);
    assert_ne!(
        base_outline, embedded,
        "the base 葛 outline was embedded instead"
    );
}

#[test]
fn unknown_character_names_itself_and_the_field() {
    let mut l = Layout::new(book()).unwrap();
    let p = l.new_page();
    let err = l
        .text_box(
            p,
            "address",
            Frame::new(10.0, 10.0, 100.0, 10.0),
            "見本市\u{10FFFD}町",
            &TextStyle::new(FontFace::Mincho, 10.0),
        )
        .unwrap_err();
    match &err {
        RenderError::MissingGlyph { field, ch } => {
            assert_eq!(field, "address");
            assert_eq!(ch, "\u{10FFFD}");
        }
        other => panic!("expected MissingGlyph, got {other:?}"),
    }
    assert!(err.to_string().contains("U+10FFFD"), "{err}");
}

#[test]
fn unknown_variation_sequence_is_refused_not_replaced() {
    // VS256 on 葛 is not registered in IPAmj: printing plain 葛 would be wrong.
    let mut l = Layout::new(book()).unwrap();
    let p = l.new_page();
    let err = l
        .text_box(
            p,
            "name",
            Frame::new(10.0, 10.0, 100.0, 10.0),
            "葛\u{E01EF}",
            &TextStyle::new(FontFace::NameMincho, 10.0),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RenderError::MissingGlyph { ch, .. } if ch == "葛\u{E01EF}"),
        "{err:?}"
    );
    assert!(err.to_string().contains("U+845B U+E01EF"), "{err}");
}

#[test]
fn overflow_names_the_field() {
    let mut l = Layout::new(book()).unwrap();
    let p = l.new_page();
    let err = l
        .text_box(
            p,
            "address",
            Frame::new(10.0, 10.0, 30.0, 6.0),
            &"北海道見本市中央区北一条西二丁目".repeat(4),
            &TextStyle::new(FontFace::Mincho, 10.0).min(7.0),
        )
        .unwrap_err();
    assert_eq!(
        err,
        RenderError::Overflow {
            field: "address".into()
        }
    );
}

#[test]
fn long_value_shrinks_then_wraps_and_stays_complete() {
    let mut l = Layout::new(book()).unwrap();
    let p = l.new_page();
    let addr = "北海道見本市中央区北一条西二丁目3番地4　見本マンション505号室";
    let style = TextStyle::new(FontFace::Mincho, 11.0).min(8.0);
    let one = l
        .text_box(p, "a1", Frame::new(10.0, 10.0, 110.0, 8.0), addr, &style)
        .unwrap();
    assert_eq!(one.lines, 1);
    let shrunk = l
        .text_box(p, "a2", Frame::new(10.0, 20.0, 90.0, 8.0), addr, &style)
        .unwrap();
    assert_eq!(shrunk.lines, 1);
    assert!(shrunk.size < 11.0 && shrunk.size >= 8.0, "{shrunk:?}");
    let wrapped = l
        .text_box(p, "a3", Frame::new(10.0, 30.0, 60.0, 12.0), addr, &style)
        .unwrap();
    assert_eq!(wrapped.lines, 2, "{wrapped:?}");
    let pdf = l.finish(&DocMeta::default()).unwrap();
    let text = pdftotext(&pdf).replace('\n', "");
    // Every copy complete (wrapped one joined back without its line break).
    assert_eq!(text.matches("見本マンション").count(), 3, "{text}");
    assert!(text.contains("505号室"), "{text}");
}

#[test]
fn official_seal_larger_than_25mm_is_refused() {
    let mut l = Layout::new(book()).unwrap();
    let p = l.new_page();
    let seal = PreparedImage::official_seal(&seal_png(100)).unwrap();
    let err = l
        .image(p, &seal, Frame::new(10.0, 10.0, 30.0, 30.0))
        .unwrap_err();
    assert!(matches!(err, RenderError::Image { .. }), "{err:?}");
}

#[test]
fn page_binding_is_in_every_page_dictionary() {
    let pdf = sample(book()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 2);
    for (n, id) in pages {
        let dict = doc.get_dictionary(id).unwrap();
        let b = dict.get(b"KofuBinding").unwrap().as_str().unwrap();
        let s = decode_utf16(b);
        assert_eq!(s, format!("req-1|subject-1|{n}/2"));
    }
}

#[test]
fn empty_document_is_an_error() {
    let l = Layout::new(book()).unwrap();
    assert!(matches!(
        l.finish(&DocMeta::default()),
        Err(RenderError::Invalid(_))
    ));
}

#[test]
fn two_sequences_sharing_a_glyph_each_copy_out_as_written() {
    // Find a selector of 葛 whose glyph is the base glyph (a default UVS) — the
    // case where one glyph must copy out two different ways.
    let b = book();
    let base = b.glyph_id(FontFace::NameMincho, '葛', None).unwrap();
    let shared = (0xE0100u32..=0xE01EF)
        .filter_map(char::from_u32)
        .find(|&vs| b.glyph_id(FontFace::NameMincho, '葛', Some(vs)) == Some(base))
        .expect("IPAmj lists the base glyph of 葛 under one of its selectors");
    let plain = "葛城";
    let marked = format!("葛{shared}飾");
    let mut l = Layout::new(b).unwrap();
    let p = l.new_page();
    let style = TextStyle::new(FontFace::NameMincho, 12.0);
    l.text_box(p, "a", Frame::new(20.0, 20.0, 80.0, 10.0), plain, &style)
        .unwrap();
    l.text_box(p, "b", Frame::new(20.0, 40.0, 80.0, 10.0), &marked, &style)
        .unwrap();
    let text = pdftotext(&l.finish(&DocMeta::default()).unwrap());
    assert!(text.contains(plain), "{text}");
    assert!(
        text.contains(&marked),
        "{}",
        kofu_render::error::codepoints(&text)
    );
}
