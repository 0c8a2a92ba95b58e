//! Helpers shared by the integration tests: the warm font book, the PDF tools, and
//! a small PDF inspector for the embedded fonts.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use kofu_render::{FontBook, SystemFonts};

pub const IPAMJ: &str = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf";

/// The font book, loaded once for the whole test binary.
pub fn book() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(|| {
        FontBook::load(&SystemFonts::from_env()).unwrap_or_else(|e| {
            panic!(
                "{e}\nInstall the fonts: apt-get install fonts-ipaexfont fonts-ipamj-mincho \
                 (or set KOFU_FONT_DIR)"
            )
        })
    })
}

fn temp_pdf(pdf: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("kofu-render-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{}.pdf", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&p, pdf).unwrap();
    p
}

fn run(tool: &str, package: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{tool}` ({e}): apt-get install {package}"))
}

/// Whitespace-free text: poppler turns 均等割り gaps, table cell spacing and U+3000
/// into spaces.
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Text of the PDF as poppler extracts it (raw order, UTF-8).
pub fn pdftotext(pdf: &[u8]) -> String {
    let p = temp_pdf(pdf);
    let out = run(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", "-raw", p.to_str().unwrap(), "-"],
    );
    let _ = std::fs::remove_file(&p);
    let _ = std::fs::remove_file(&p);
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Text per page (form feed separated by pdftotext).
pub fn pdftotext_pages(pdf: &[u8]) -> Vec<String> {
    let t = pdftotext(pdf);
    let mut pages: Vec<String> = t.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// One line of `pdffonts`.
#[derive(Debug)]
pub struct FontLine {
    pub name: String,
    pub kind: String,
    pub embedded: bool,
    pub subset: bool,
    pub unicode: bool,
}

pub fn pdffonts(pdf: &[u8]) -> Vec<FontLine> {
    let p = temp_pdf(pdf);
    let out = run("pdffonts", "poppler-utils", &[p.to_str().unwrap()]);
    let _ = std::fs::remove_file(&p);
    assert!(out.status.success(), "pdffonts failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .skip(2)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // name type… encoding emb sub uni object ID
            let n = cols.len();
            FontLine {
                name: cols[0].to_owned(),
                kind: cols[1..n - 6].join(" "),
                embedded: cols[n - 5] == "yes",
                subset: cols[n - 4] == "yes",
                unicode: cols[n - 3] == "yes",
            }
        })
        .collect()
}

pub fn qpdf_check(pdf: &[u8]) {
    let p = temp_pdf(pdf);
    let out = run("qpdf", "qpdf", &["--check", p.to_str().unwrap()]);
    let _ = std::fs::remove_file(&p);
    assert!(
        out.status.success(),
        "qpdf --check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A round seal-like PNG (red ring with a bar) of `size`² px, transparent outside.
pub fn seal_png(size: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((size * size * 4) as usize);
    let c = size as f32 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let r = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
            let ink = (r < c - 1.0 && r > c * 0.85) || ((y as f32 - c).abs() < 2.0 && r < c);
            px.extend_from_slice(&[200, 20, 20, if ink { 255 } else { 0 }]);
        }
    }
    kofu_render::image::encode_png_rgba(size, size, &px).unwrap()
}

pub fn decode_utf16(b: &[u8]) -> String {
    let b = b.strip_prefix(&[0xFE, 0xFF]).unwrap_or(b);
    let units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

/// What the PDF says about one embedded font.
pub struct EmbeddedFont {
    pub program: Vec<u8>,
    pub cid_to_gid: Vec<u16>,
    pub to_unicode: Vec<(u16, String)>,
}

/// Finds the Type0 font whose BaseFont ends with `+{ps_name}`.
pub fn embedded_font(pdf: &[u8], ps_name: &str) -> EmbeddedFont {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    for obj in doc.objects.values() {
        let Ok(d) = obj.as_dict() else { continue };
        let is_type0 = d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Type0");
        let base = d.get(b"BaseFont").and_then(|s| s.as_name()).unwrap_or(b"");
        if !is_type0 || !base.ends_with(format!("+{ps_name}").as_bytes()) {
            continue;
        }
        let stream = |o: &lopdf::Object| -> Vec<u8> {
            let id = o.as_reference().unwrap();
            let s = doc.get_object(id).unwrap().as_stream().unwrap();
            s.decompressed_content()
                .unwrap_or_else(|_| s.content.clone())
        };
        let tu = String::from_utf8(stream(d.get(b"ToUnicode").unwrap())).unwrap();
        let cid_font_id = d.get(b"DescendantFonts").unwrap().as_array().unwrap()[0]
            .as_reference()
            .unwrap();
        let cf = doc.get_dictionary(cid_font_id).unwrap();
        let map = stream(cf.get(b"CIDToGIDMap").unwrap());
        let fd = doc
            .get_dictionary(cf.get(b"FontDescriptor").unwrap().as_reference().unwrap())
            .unwrap();
        let program = stream(fd.get(b"FontFile2").unwrap());
        let to_unicode = tu
            .lines()
            .filter_map(|l| {
                let l = l.strip_prefix('<')?;
                let (cid, rest) = l.split_once("> <")?;
                let hex = rest.strip_suffix('>')?;
                let units: Vec<u16> = (0..hex.len())
                    .step_by(4)
                    .map(|i| u16::from_str_radix(&hex[i..i + 4], 16).unwrap())
                    .collect();
                Some((
                    u16::from_str_radix(cid, 16).ok()?,
                    String::from_utf16(&units).unwrap(),
                ))
            })
            .collect();
        return EmbeddedFont {
            program,
            cid_to_gid: map
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
            to_unicode,
        };
    }
    panic!("no embedded font {ps_name}");
}

/// The outline of `gid` as a list of drawing commands (for comparing glyphs).
pub fn outline(font: &[u8], gid: u16) -> Vec<String> {
    struct B(Vec<String>);
    impl ttf_parser::OutlineBuilder for B {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(format!("M{x} {y}"));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(format!("L{x} {y}"));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.push(format!("Q{x1} {y1} {x} {y}"));
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0.push(format!("C{x1} {y1} {x2} {y2} {x} {y}"));
        }
        fn close(&mut self) {
            self.0.push("Z".into());
        }
    }
    let face = ttf_parser::Face::parse(font, 0).unwrap();
    let mut b = B(Vec::new());
    face.outline_glyph(ttf_parser::GlyphId(gid), &mut b);
    b.0
}

/// One line of `pdfimages -list`.
#[derive(Debug)]
pub struct ImageLine {
    pub kind: String,
    pub width: u32,
    pub ppi: f32,
}

pub fn pdfimages_list(pdf: &[u8]) -> Vec<ImageLine> {
    let p = temp_pdf(pdf);
    let out = run(
        "pdfimages",
        "poppler-utils",
        &["-list", p.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(&p);
    assert!(out.status.success(), "pdfimages failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .filter_map(|l| {
            // page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
            let c: Vec<&str> = l.split_whitespace().collect();
            Some(ImageLine {
                kind: c.get(2)?.to_string(),
                width: c.get(3)?.parse().ok()?,
                ppi: c.get(12)?.parse().ok()?,
            })
        })
        .filter(|i| i.kind != "smask")
        .collect()
}

/// Page `page` (1-based) of the PDF rasterised by poppler: `pdftoppm -r dpi -gray -png`,
/// returned as PNG bytes.
pub fn pdftoppm_gray(pdf: &[u8], page: usize, dpi: u32) -> Vec<u8> {
    let p = temp_pdf(pdf);
    // `-singlefile` writes `{prefix}.png`.
    let prefix = p.with_extension("");
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let out = run(
        "pdftoppm",
        "poppler-utils",
        &[
            "-f",
            &page,
            "-l",
            &page,
            "-singlefile",
            "-r",
            &dpi,
            "-gray",
            "-png",
            p.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let _ = std::fs::remove_file(&p);
    assert!(
        out.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = prefix.with_extension("png");
    let bytes = std::fs::read(&png).unwrap();
    let _ = std::fs::remove_file(&png);
    bytes
}
