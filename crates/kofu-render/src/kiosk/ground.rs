//! The ground pattern (地紋): fine dots everywhere except where 「複写」 is written, which
//! gets coarse dots of the same ink coverage.
//!
//! Geometry, in PDF points from the page's lower-left corner:
//! - the page is cut into [`CELL_PT`]-point cells (4 pt ≈ 1.4 mm), aligned on the
//!   origin like the two tiling patterns that fill them;
//! - a **fine** cell holds four dots of radius [`FINE_RADIUS_PT`] on a 2 pt pitch, a
//!   **coarse** cell one dot of radius [`COARSE_RADIUS_PT`] = 2 × fine, so both cover
//!   the same 4π·0.4² ≈ 2.0 pt² of the cell's 16 pt² (12.6 %) in [`DOT_GRAY`] ink: at
//!   print they are one tint. A copier loses dots of about 0.3 mm and keeps those of
//!   0.56 mm, so on a copy the coarse cells, which spell 「複写」, stand out;
//! - the word is a [`GLYPH_CELLS`]-square bitmap per character ([`GLYPHS`], 34 mm,
//!   traced from IPAexゴシック), the two characters one cell apart, repeated in rows
//!   every [`ROW_PERIOD`] cells from the top of the page and every [`WORD_PERIOD`]
//!   cells across, each row shifted by half a period from the one above.
//!
//! The pattern is one content stream shared by every page, wrapped in `q … Q` so it
//! leaves the graphics state as it found it for the page's own content.

use std::fmt::Write as _;

/// Side of a pattern cell in points.
pub const CELL_PT: f32 = 4.0;

/// Radius of a fine dot in points (0.28 mm across).
pub const FINE_RADIUS_PT: f32 = 0.4;

/// Radius of a coarse dot in points (0.56 mm across).
pub const COARSE_RADIUS_PT: f32 = 0.8;

/// Side of a character of the word, in cells.
pub const GLYPH_CELLS: i32 = 24;

/// Grey level of the dots (0 black, 1 white).
pub const DOT_GRAY: f32 = 0.55;

/// Cells between two rows of the word, top to top.
pub const ROW_PERIOD: i32 = 36;

/// Cells between two words of a row, left to left.
pub const WORD_PERIOD: i32 = 74;

/// Cells from the top of a band to the top of its word.
const BAND_TOP: i32 = 4;

/// Cells from the left of the page to the first word of the first row.
const ROW_SHIFT: i32 = 6;

/// Resource name of the fine tiling pattern.
pub const FINE_PATTERN: &str = "KofuGroundFine";

/// Resource name of the coarse tiling pattern.
pub const COARSE_PATTERN: &str = "KofuGroundCoarse";

/// 「複」 and 「写」, 24 × 24 cells each, `#` = coarse dots: IPAexゴシック at 283 pt,
/// a cell marked where more than 40 % of it is inked.
pub const GLYPHS: [[&str; GLYPH_CELLS as usize]; 2] = [
    [
        "....##..................",
        "....##......##..........",
        "....##.....###..........",
        "....##.....############.",
        "....##.....############.",
        ".########.##............",
        ".#####################..",
        "......##.####.......##..",
        ".....###.#.##.......##..",
        ".....##....###########..",
        "....##..##.##.......##..",
        "...###.##..##.......##..",
        "..######...###########..",
        ".#######.....###........",
        "###.##.##....##.........",
        ".#..##..##..##########..",
        "....##.....###.....##...",
        "....##....##.##...##....",
        "....##...##...##.##.....",
        "....##.........####.....",
        "....##........######....",
        "....##.....#####..#####.",
        "....##...#####......###.",
        ".....#...##.............",
    ],
    [
        "........................",
        "........................",
        "..####################..",
        "..####################..",
        "..##....#...........##..",
        "..##...##...........##..",
        "..##...##...........##..",
        "..##...############.##..",
        "......#############.....",
        "......##................",
        "......##................",
        "......############......",
        ".....#############......",
        ".....##.........##......",
        "................##......",
        "................###.....",
        ".######################.",
        "................##......",
        "................##......",
        "...............###......",
        "...............##.......",
        "........#########.......",
        ".........#######........",
        "........................",
    ],
];

/// Whether the cell in column `col` (from the left) and row `row_from_top` (from the
/// top) of a page `rows` cells high is part of the word: the page's layout of
/// 「複写」.
pub fn is_letter_cell(col: i32, row_from_top: i32) -> bool {
    if row_from_top < 0 {
        return false;
    }
    let band = row_from_top.div_euclid(ROW_PERIOD);
    let y = row_from_top - band * ROW_PERIOD - BAND_TOP;
    if !(0..GLYPH_CELLS).contains(&y) {
        return false;
    }
    let shift = if band % 2 == 0 {
        ROW_SHIFT
    } else {
        ROW_SHIFT + WORD_PERIOD / 2
    };
    let x = (col - shift).rem_euclid(WORD_PERIOD);
    let (glyph, gx) = if x < GLYPH_CELLS {
        (0, x)
    } else if (GLYPH_CELLS + 1..2 * GLYPH_CELLS + 1).contains(&x) {
        (1, x - GLYPH_CELLS - 1)
    } else {
        return false;
    };
    GLYPHS[glyph][y as usize].as_bytes()[gx as usize] == b'#'
}

/// The number of cells across and down a page of `width × height` points (partial
/// cells at the top and right count).
pub fn cells(width: f32, height: f32) -> (i32, i32) {
    (
        (width / CELL_PT).ceil() as i32,
        (height / CELL_PT).ceil() as i32,
    )
}

/// The letter cells of a page as horizontal runs `(col, row_from_bottom, len)`.
pub fn letter_runs(width: f32, height: f32) -> Vec<(i32, i32, i32)> {
    let (cols, rows) = cells(width, height);
    let mut runs = Vec::new();
    for rb in 0..rows {
        // Rows are counted from the top for the lettering but placed from the bottom
        // (the patterns tile from the origin): the top row may be partial.
        let rt = rows - 1 - rb;
        let mut c = 0;
        while c < cols {
            if is_letter_cell(c, rt) {
                let start = c;
                while c < cols && is_letter_cell(c, rt) {
                    c += 1;
                }
                runs.push((start, rb, c - start));
            } else {
                c += 1;
            }
        }
    }
    runs
}

fn circle(s: &mut String, cx: f32, cy: f32, r: f32) {
    let k = 0.552_284_8 * r;
    let _ = write!(
        s,
        "{} {} m {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c h ",
        f(cx + r),
        f(cy),
        f(cx + r),
        f(cy + k),
        f(cx + k),
        f(cy + r),
        f(cx),
        f(cy + r),
        f(cx - k),
        f(cy + r),
        f(cx - r),
        f(cy + k),
        f(cx - r),
        f(cy),
        f(cx - r),
        f(cy - k),
        f(cx - k),
        f(cy - r),
        f(cx),
        f(cy - r),
        f(cx + k),
        f(cy - r),
        f(cx + r),
        f(cy - k),
        f(cx + r),
        f(cy),
    );
}

/// A number for a content stream: at most 3 decimals, no trailing zeros.
pub(crate) fn f(v: f32) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The content of the fine pattern's cell: four dots.
pub fn fine_cell() -> String {
    let mut s = format!("{} g ", f(DOT_GRAY));
    let q = CELL_PT / 4.0;
    for (x, y) in [(q, q), (3.0 * q, q), (q, 3.0 * q), (3.0 * q, 3.0 * q)] {
        circle(&mut s, x, y, FINE_RADIUS_PT);
    }
    s.push_str("f\n");
    s
}

/// The content of the coarse pattern's cell: one dot in the middle.
pub fn coarse_cell() -> String {
    let mut s = format!("{} g ", f(DOT_GRAY));
    circle(&mut s, CELL_PT / 2.0, CELL_PT / 2.0, COARSE_RADIUS_PT);
    s.push_str("f\n");
    s
}

/// The ground pattern's content stream for a page of `width × height` points: the
/// page minus the letters in fine dots (even-odd fill), the letters in coarse dots.
pub fn content(width: f32, height: f32) -> Vec<u8> {
    let runs = letter_runs(width, height);
    let mut rects = String::with_capacity(runs.len() * 24);
    for &(c, rb, len) in &runs {
        let x = c as f32 * CELL_PT;
        let y = rb as f32 * CELL_PT;
        let w = (len as f32 * CELL_PT).min(width - x);
        let h = CELL_PT.min(height - y);
        let _ = writeln!(rects, "{} {} {} {} re", f(x), f(y), f(w), f(h));
    }
    let mut s = String::with_capacity(rects.len() * 2 + 200);
    s.push_str("q\n/Pattern cs /");
    s.push_str(FINE_PATTERN);
    let _ = writeln!(s, " scn\n0 0 {} {} re", f(width), f(height));
    s.push_str(&rects);
    s.push_str("f*\n/Pattern cs /");
    s.push_str(COARSE_PATTERN);
    s.push_str(" scn\n");
    s.push_str(&rects);
    s.push_str("f\nQ\n");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A4: (f32, f32) = (595.2756, 841.8898);

    #[test]
    fn glyph_rows_are_square() {
        for g in GLYPHS {
            for row in g {
                assert_eq!(row.len(), GLYPH_CELLS as usize, "{row}");
                assert!(row.bytes().all(|b| b == b'#' || b == b'.'));
            }
        }
    }

    #[test]
    fn both_dot_kinds_cover_the_same_area() {
        let fine = 4.0 * FINE_RADIUS_PT * FINE_RADIUS_PT;
        let coarse = COARSE_RADIUS_PT * COARSE_RADIUS_PT;
        assert!((fine - coarse).abs() < 1e-6);
        // And the coarse dot fits its cell with room to spare.
        const { assert!(COARSE_RADIUS_PT * 2.0 < CELL_PT / 2.0) };
    }

    #[test]
    fn the_word_is_laid_out_in_staggered_rows() {
        let n = GLYPH_CELLS;
        let glyph_cells = |col0: i32, row0: i32, g: usize| {
            (0..n)
                .flat_map(|y| (0..n).map(move |x| (x, y)))
                .all(|(x, y)| {
                    is_letter_cell(col0 + x, row0 + y)
                        == (GLYPHS[g][y as usize].as_bytes()[x as usize] == b'#')
                })
        };
        // First row: 複 then 写, one cell apart, every WORD_PERIOD cells.
        let (c0, r0) = (ROW_SHIFT, BAND_TOP);
        assert!(glyph_cells(c0, r0, 0));
        assert!(glyph_cells(c0 + n + 1, r0, 1));
        assert!(glyph_cells(c0 + WORD_PERIOD, r0, 0));
        // Second row shifted by half a period.
        let c1 = c0 + WORD_PERIOD / 2;
        assert!(glyph_cells(c1, r0 + ROW_PERIOD, 0));
        assert!(glyph_cells(c1 + n + 1, r0 + ROW_PERIOD, 1));
        // Nothing between rows or between words.
        for col in -10..200 {
            for row in (0..r0).chain(r0 + n..ROW_PERIOD) {
                assert!(!is_letter_cell(col, row), "({col}, {row})");
            }
        }
        for row in 0..ROW_PERIOD {
            for (shift, band) in [(c0, 0), (c1, ROW_PERIOD)] {
                assert!(!is_letter_cell(shift + n, row + band), "({row})");
                for gap in 2 * n + 1..WORD_PERIOD {
                    assert!(!is_letter_cell(shift + gap, row + band), "({gap}, {row})");
                }
            }
        }
    }

    #[test]
    fn letters_cover_a_fair_share_of_an_a4_page() {
        let (cols, rows) = cells(A4.0, A4.1);
        assert_eq!((cols, rows), (149, 211));
        let letter: i32 = letter_runs(A4.0, A4.1).iter().map(|r| r.2).sum();
        let share = letter as f32 / (cols * rows) as f32;
        assert!((0.05..0.3).contains(&share), "{share}");
    }

    #[test]
    fn content_is_balanced_and_small() {
        let c = String::from_utf8(content(A4.0, A4.1)).unwrap_or_default();
        assert!(c.starts_with("q\n") && c.ends_with("Q\n"));
        assert_eq!(c.matches(" scn").count(), 2);
        assert!(c.len() < 200_000, "{}", c.len());
        assert!(fine_cell().matches(" c h").count() == 4);
        assert!(coarse_cell().matches(" c h").count() == 1);
    }
}
