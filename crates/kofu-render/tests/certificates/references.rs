//! Reference images: every page of one representative certificate per kind,
//! rasterised small (`pdftoppm -r 24 -gray -png`, a few KB each) and compared with
//! `tests/references/<name>.png`.
//!
//! The comparison tolerates rasteriser noise but not a moved block, a missing seal
//! or a missing line: it counts the pixels whose grey level moved by more than
//! [`GREY_STEP`] and fails when any [`TILE`]² px square (≈ 17 mm) holds more than
//! [`MAX_PER_TILE`] of them. Noise is thin and spread out (anti-aliasing of the rules
//! and glyph edges: at most 3 such pixels in any square, 28 on a whole page,
//! measured with poppler's `-aaVector no` and `-thinlinemode` variants); a real change
//! is concentrated (a missing 公印: 83 in one square, a missing 認証文 line: 28, a
//! blanked 氏名 value: 25, another subject's name: 7). A page-wide share would not
//! separate them: the missing 認証文 changes 0.27 % of the page, the noise 0.05 %.
//! Finer changes (a digit of the 発行番号) are below this resolution; the text
//! assertions in `certificates.rs` cover them.
//!
//! On a mismatch the new rendering is written as `tests/references/<name>.actual.png`
//! (never committed) to look at next to the reference.
//!
//! `KOFU_UPDATE_REFERENCES=1 cargo test -p kofu-render` rewrites the references
//! instead of comparing (and removes references no case produces any more); look at
//! every image it reports before committing. A missing reference fails.

use std::path::{Path, PathBuf};

use super::*;

/// Rasterisation resolution: A4 is 199 × 281 px, 6–12 KB as a grey PNG.
const DPI: u32 = 24;
/// A pixel differs when its grey level moved by more than this (of 255).
const GREY_STEP: u8 = 32;
/// Side of the squares differing pixels are counted in: 16 px ≈ 17 mm at 24 dpi.
const TILE: usize = 16;
/// Most differing pixels allowed in one square.
const MAX_PER_TILE: usize = 5;

const UPDATE_VAR: &str = "KOFU_UPDATE_REFERENCES";

fn updating() -> bool {
    std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1")
}

fn references_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/references")
}

/// The representative document of each kind, named as its reference files.
fn documents() -> Vec<(&'static str, CertificateDocument)> {
    let h = household();
    let every_option = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        show_honseki: true,
        show_my_number: true,
        show_former_surname: true,
        ..Default::default()
    };
    let with_relationship = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        ..Default::default()
    };
    let tax_year = CertificateOptions {
        tax_year: Some(2026),
        ..Default::default()
    };
    let k = sample::koseki();
    let c = ctx("2026-05-02");
    vec![
        (
            "juminhyo",
            juminhyo::compose(&h, &h.members[0], &every_option, &c).unwrap(),
        ),
        (
            "kisai_jiko",
            kisai_jiko::compose(&h, &h.members[1], &with_relationship, &c).unwrap(),
        ),
        (
            "inkan",
            inkan::compose(
                &sample::head_of_household(),
                &sample::seal(),
                &CertificateOptions::default(),
                &c,
            )
            .unwrap(),
        ),
        ("koseki_zenbu", koseki::compose_zenbu(&k, &c).unwrap()),
        ("koseki_kojin", koseki::compose_kojin(&k, 3, &c).unwrap()),
        ("fuhyo", fuhyo::compose(&k, &fuhyo_records(), &c).unwrap()),
        (
            "shotoku_kazei",
            shotoku_kazei::compose(
                &sample::head_of_household(),
                &sample::tax(),
                &tax_year,
                &ctx("2026-06-20"),
            )
            .unwrap(),
        ),
        ("juminhyo_household", nine_person_juminhyo()),
    ]
}

#[test]
fn reference_images_per_kind() {
    let mut failures = Vec::new();
    let mut expected = Vec::new();
    for (kind, doc) in documents() {
        let pdf = render(&doc, book(), &opts()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        for page in 1..=pdf.pages {
            let name = if pdf.pages == 1 {
                kind.to_owned()
            } else {
                format!("{kind}-p{page}")
            };
            if let Err(e) = check_reference(&name, &pdf.bytes, page) {
                failures.push(e);
            }
            expected.push(name);
        }
    }
    failures.extend(stale_references(&expected));
    assert!(
        failures.is_empty(),
        "{} reference image(s) failed:\n- {}",
        failures.len(),
        failures.join("\n- ")
    );
}

/// Rasterises page `page` of `pdf` and compares it with `tests/references/{name}.png`
/// (or rewrites that file under `KOFU_UPDATE_REFERENCES=1`).
fn check_reference(name: &str, pdf: &[u8], page: usize) -> Result<(), String> {
    let dir = references_dir();
    let reference = dir.join(format!("{name}.png"));
    let actual_path = dir.join(format!("{name}.actual.png"));
    let actual = pdftoppm_gray(pdf, page, DPI);
    let _ = std::fs::remove_file(&actual_path);
    if updating() {
        if std::fs::read(&reference).ok().as_deref() != Some(&actual[..]) {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&reference, &actual).unwrap();
            eprintln!("updated {} — look at it", reference.display());
        }
        return Ok(());
    }
    let Ok(expected) = std::fs::read(&reference) else {
        std::fs::write(&actual_path, &actual).unwrap();
        return Err(format!(
            "{name}: no reference {}; new rendering in {}; to add it, run \
             `{UPDATE_VAR}=1 cargo test -p kofu-render` and look at the new image",
            reference.display(),
            actual_path.display()
        ));
    };
    let (want, got) = (Grey::decode(&expected), Grey::decode(&actual));
    let verdict = if (want.width, want.height) != (got.width, got.height) {
        Some(format!(
            "size {}×{} px, reference {}×{} px",
            got.width, got.height, want.width, want.height
        ))
    } else {
        let diff = want.diff(&got);
        (diff.worst_count > MAX_PER_TILE).then(|| {
            let mm = |px: usize| px as f64 * 25.4 / f64::from(DPI);
            format!(
                "{} px ({:.3} %) differ by more than {GREY_STEP} grey levels, within \
                 x {:.0}–{:.0} mm, y {:.0}–{:.0} mm; the {:.0} mm square at x {:.0} mm, \
                 y {:.0} mm holds {} (allowed {MAX_PER_TILE})",
                diff.count,
                diff.count as f64 * 100.0 / (want.width * want.height) as f64,
                mm(diff.x.0),
                mm(diff.x.1 + 1),
                mm(diff.y.0),
                mm(diff.y.1 + 1),
                mm(TILE),
                mm(diff.worst.0),
                mm(diff.worst.1),
                diff.worst_count,
            )
        })
    };
    match verdict {
        None => Ok(()),
        Some(why) => {
            std::fs::write(&actual_path, &actual).unwrap();
            Err(format!(
                "{name} (page {page}) differs from {}: {why}; new rendering in {}; if the \
                 change is intended, run `{UPDATE_VAR}=1 cargo test -p kofu-render` and look \
                 at the new image",
                reference.display(),
                actual_path.display()
            ))
        }
    }
}

/// References no case produced (a kind renamed, a page gone): errors, or removed
/// when updating.
fn stale_references(expected: &[String]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(references_dir()) else {
        return Vec::new();
    };
    let mut stale = Vec::new();
    for e in entries {
        let path = e.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(name) = file.strip_suffix(".png") else {
            continue;
        };
        if name.ends_with(".actual") || expected.iter().any(|n| n == name) {
            continue;
        }
        if updating() {
            std::fs::remove_file(&path).unwrap();
            eprintln!("removed stale {}", path.display());
        } else {
            stale.push(format!(
                "{}: no case renders it any more; run with {UPDATE_VAR}=1 to remove it",
                path.display()
            ));
        }
    }
    stale
}

/// An 8-bit grey image.
struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// Pixels differing by more than [`GREY_STEP`]: how many, their bounding box, and
/// the [`TILE`] square holding most of them.
struct Diff {
    count: usize,
    x: (usize, usize),
    y: (usize, usize),
    /// Top-left corner (px) of the worst square.
    worst: (usize, usize),
    worst_count: usize,
}

impl Grey {
    fn decode(bytes: &[u8]) -> Self {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let channels = match frame.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => unreachable!("palette expanded by normalize_to_color8"),
        };
        let (width, height) = (frame.width as usize, frame.height as usize);
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            let row = &buf[y * frame.line_size..][..width * channels];
            // The first channel is enough: pdftoppm -gray writes grey, and an RGB
            // reference would be a grey one saved in colour.
            pixels.extend(row.chunks(channels).map(|p| p[0]));
        }
        Self {
            width,
            height,
            pixels,
        }
    }

    /// `self` and `other` must have the same size.
    fn diff(&self, other: &Self) -> Diff {
        let tiles_x = self.width.div_ceil(TILE);
        let mut tiles = vec![0; tiles_x * self.height.div_ceil(TILE)];
        let mut d = Diff {
            count: 0,
            x: (usize::MAX, 0),
            y: (usize::MAX, 0),
            worst: (0, 0),
            worst_count: 0,
        };
        for (i, (a, b)) in self.pixels.iter().zip(&other.pixels).enumerate() {
            if a.abs_diff(*b) > GREY_STEP {
                let (x, y) = (i % self.width, i / self.width);
                d.count += 1;
                d.x = (d.x.0.min(x), d.x.1.max(x));
                d.y = (d.y.0.min(y), d.y.1.max(y));
                tiles[y / TILE * tiles_x + x / TILE] += 1;
            }
        }
        if let Some((t, &n)) = tiles.iter().enumerate().max_by_key(|&(_, n)| *n) {
            d.worst = (t % tiles_x * TILE, t / tiles_x * TILE);
            d.worst_count = n;
        }
        d
    }
}
