//! Verification of a printed kiosk copy from scans: find the scrambled image on the
//! back by its registration marks, restore it with the key, compare with the front.
//!
//! - **Locating.** The scan is of the whole back page, upright, at any resolution.
//!   Dark pixels (below [`DARK`]) are grouped into 4-connected components; a
//!   registration square is a component about [`BackGeometry::MARK_MM`] square (0.6
//!   to 1.6 times the size expected from the scan's width taken as A4's 210 mm) that
//!   fills at least 80 % of its box. The extreme squares (top-left, top-right,
//!   bottom-left, bottom-right) must form an upright rectangle of the expected
//!   proportions; their centroids fix scale and offset on each axis, and the image
//!   rectangle is resampled from there to the block grid.
//! - **Comparing.** Both images are averaged over 8 × 8-pixel cells of the grid
//!   (about 2 mm: the ground pattern's fine and coarse dots both average out to one
//!   tint at that scale) and compared by Pearson correlation. The right key gives a
//!   correlation near 1; a wrong key gives a permutation of the front's blocks,
//!   which correlates near 0.

use super::layer::BackGeometry;
use super::raster::GrayRaster;
use super::scramble::{LayerKey, unscramble};
use super::{BLOCK_PX, GRID_HEIGHT, GRID_WIDTH};
use crate::error::RenderError;

/// Pixels darker than this are ink for the mark search.
pub const DARK: u8 = 110;

/// Correlation from which the restored image and the front are said to match.
pub const MATCH_THRESHOLD: f64 = 0.8;

/// Side of the cells the comparison averages over, in grid pixels.
const CELL: u32 = 8;

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Pearson correlation of the cell averages, −1 to 1.
    pub similarity: f64,
    /// `similarity ≥ MATCH_THRESHOLD`.
    pub matched: bool,
}

fn scan_err(reason: String) -> RenderError {
    RenderError::Image {
        name: "scan".into(),
        reason,
    }
}

#[derive(Debug, Clone, Copy)]
struct Component {
    count: u64,
    min_x: u32,
    max_x: u32,
    min_y: u32,
    max_y: u32,
    sum_x: f64,
    sum_y: f64,
}

impl Component {
    fn centre(&self) -> (f64, f64) {
        // Pixel (x, y) covers [x, x+1): its centre is x + 0.5.
        (
            self.sum_x / self.count as f64 + 0.5,
            self.sum_y / self.count as f64 + 0.5,
        )
    }
}

/// Components of dark pixels at least `min_count` pixels large.
fn components(scan: &GrayRaster, min_count: u64) -> Vec<Component> {
    let (w, h) = (scan.width() as usize, scan.height() as usize);
    let px = scan.pixels();
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || px[start] >= DARK {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut c = Component {
            count: 0,
            min_x: u32::MAX,
            max_x: 0,
            min_y: u32::MAX,
            max_y: 0,
            sum_x: 0.0,
            sum_y: 0.0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            c.count += 1;
            c.min_x = c.min_x.min(x as u32);
            c.max_x = c.max_x.max(x as u32);
            c.min_y = c.min_y.min(y as u32);
            c.max_y = c.max_y.max(y as u32);
            c.sum_x += x as f64;
            c.sum_y += y as f64;
            let mut visit = |j: usize| {
                if !seen[j] && px[j] < DARK {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if c.count >= min_count {
            out.push(c);
        }
    }
    out
}

/// The four registration squares' centres on a scan of a back page (top-left,
/// top-right, bottom-left, bottom-right), in scan pixels.
pub fn find_marks(scan: &GrayRaster) -> Result<[(f64, f64); 4], RenderError> {
    let g = BackGeometry::a4();
    let px_per_mm = f64::from(scan.width()) / f64::from(g.page_w);
    let side = px_per_mm * f64::from(g.mark);
    if side < 4.0 {
        return Err(scan_err(format!(
            "{}×{} px is too coarse for a page scan (under 20 dpi)",
            scan.width(),
            scan.height()
        )));
    }
    let min_count = (0.6 * side * 0.6 * side * 0.8) as u64;
    let squares: Vec<Component> = components(scan, min_count)
        .into_iter()
        .filter(|c| {
            let bw = f64::from(c.max_x - c.min_x + 1);
            let bh = f64::from(c.max_y - c.min_y + 1);
            let fill = c.count as f64 / (bw * bh);
            (0.6 * side..=1.6 * side).contains(&bw)
                && (0.6 * side..=1.6 * side).contains(&bh)
                && (bw / bh - 1.0).abs() < 0.25
                && fill >= 0.8
        })
        .collect();
    if squares.len() < 4 {
        return Err(scan_err(format!(
            "registration marks not found: {} of 4 squares (is it the back page of a kiosk copy, scanned upright and whole?)",
            squares.len()
        )));
    }
    let centres: Vec<(f64, f64)> = squares.iter().map(Component::centre).collect();
    let pick = |score: &dyn Fn(&(f64, f64)) -> f64| {
        centres
            .iter()
            .copied()
            .max_by(|a, b| score(a).total_cmp(&score(b)))
            .unwrap_or_default()
    };
    let tl = pick(&|c| -(c.0 + c.1));
    let tr = pick(&|c| c.0 - c.1);
    let bl = pick(&|c| c.1 - c.0);
    let br = pick(&|c| c.0 + c.1);
    let width = ((tr.0 - tl.0) + (br.0 - bl.0)) / 2.0;
    let height = ((bl.1 - tl.1) + (br.1 - tr.1)) / 2.0;
    let [etl, etr, ebl, _] = g.mark_centres();
    let expected_ratio = f64::from(ebl.1 - etl.1) / f64::from(etr.0 - etl.0);
    let square = [
        (tl.1 - tr.1).abs(),
        (bl.1 - br.1).abs(),
        (tl.0 - bl.0).abs(),
        (tr.0 - br.0).abs(),
    ]
    .iter()
    .all(|d| *d < 0.02 * width.max(1.0));
    if width <= 0.0 || height <= 0.0 || !square {
        return Err(scan_err(
            "registration marks do not form an upright rectangle (rotated or skewed scan?)".into(),
        ));
    }
    let ratio = height / width;
    if (ratio / expected_ratio - 1.0).abs() > 0.03 {
        return Err(scan_err(format!(
            "registration marks are {ratio:.3} as high as wide, a kiosk back page has {expected_ratio:.3}"
        )));
    }
    Ok([tl, tr, bl, br])
}

/// The scrambled image cut out of a scan of a back page, resampled to the block grid
/// ([`GRID_WIDTH`] × [`GRID_HEIGHT`]) but not yet unscrambled.
pub fn extract_scrambled(scan: &GrayRaster) -> Result<GrayRaster, RenderError> {
    let [tl, tr, bl, br] = find_marks(scan)?;
    let g = BackGeometry::a4();
    let [etl, etr, ebl, ebr] = g.mark_centres().map(|(x, y)| (f64::from(x), f64::from(y)));
    // scan = a · mm + b on each axis, from the four centres.
    let ax = ((tr.0 + br.0) - (tl.0 + bl.0)) / ((etr.0 + ebr.0) - (etl.0 + ebl.0));
    let bx = (tl.0 + tr.0 + bl.0 + br.0 - ax * (etl.0 + etr.0 + ebl.0 + ebr.0)) / 4.0;
    let ay = ((bl.1 + br.1) - (tl.1 + tr.1)) / ((ebl.1 + ebr.1) - (etl.1 + etr.1));
    let by = (tl.1 + tr.1 + bl.1 + br.1 - ay * (etl.1 + etr.1 + ebl.1 + ebr.1)) / 4.0;
    let x0 = ax * f64::from(g.image_x) + bx;
    let x1 = ax * f64::from(g.image_x + g.image_w) + bx;
    let y0 = ay * f64::from(g.image_y) + by;
    let y1 = ay * f64::from(g.image_y + g.image_h) + by;
    Ok(resample_by_block(scan, (x0, y0, x1, y1)))
}

/// The region resampled to the block grid, each block from inside its own footprint
/// only: samples are kept one scan pixel away from the block's edges, so the
/// printer's and scanner's blur across a block edge does not carry a neighbour's
/// ink into the block once it is moved back to its place.
fn resample_by_block(scan: &GrayRaster, region: (f64, f64, f64, f64)) -> GrayRaster {
    let (x0, y0, x1, y1) = region;
    let sx = (x1 - x0) / f64::from(GRID_WIDTH);
    let sy = (y1 - y0) / f64::from(GRID_HEIGHT);
    let k = |s: f64| s.abs().ceil().clamp(1.0, 8.0) as u32;
    let (kx, ky) = (k(sx), k(sy));
    let b = f64::from(BLOCK_PX);
    let clamp = |v: f64, lo: f64, hi: f64| {
        if lo < hi {
            v.clamp(lo, hi)
        } else {
            (lo + hi) / 2.0
        }
    };
    let mut px = Vec::with_capacity((GRID_WIDTH * GRID_HEIGHT) as usize);
    for j in 0..GRID_HEIGHT {
        let bj = f64::from(j / BLOCK_PX);
        let (top, bottom) = (y0 + sy * bj * b + 1.0, y0 + sy * (bj + 1.0) * b - 1.0);
        for i in 0..GRID_WIDTH {
            let bi = f64::from(i / BLOCK_PX);
            let (left, right) = (x0 + sx * bi * b + 1.0, x0 + sx * (bi + 1.0) * b - 1.0);
            let mut sum = 0.0;
            for v in 0..ky {
                let y = y0 + sy * (f64::from(j) + (f64::from(v) + 0.5) / f64::from(ky));
                for u in 0..kx {
                    let x = x0 + sx * (f64::from(i) + (f64::from(u) + 0.5) / f64::from(kx));
                    sum += scan.bilinear(clamp(x, left, right), clamp(y, top, bottom));
                }
            }
            px.push((sum / f64::from(kx * ky)).round().clamp(0.0, 255.0) as u8);
        }
    }
    GrayRaster::new(GRID_WIDTH, GRID_HEIGHT, px)
        .unwrap_or_else(|_| GrayRaster::filled(GRID_WIDTH, GRID_HEIGHT, 255))
}

/// The front image restored from a scan of its back page with `key`.
pub fn restore_from_scan(scan: &GrayRaster, key: &LayerKey) -> Result<GrayRaster, RenderError> {
    Ok(unscramble(&extract_scrambled(scan)?, key))
}

/// A scan of a whole front page resampled to the block grid, for [`similarity`].
pub fn front_to_grid(front_scan: &GrayRaster) -> GrayRaster {
    front_scan.resized(GRID_WIDTH, GRID_HEIGHT)
}

fn cell_means(r: &GrayRaster) -> Vec<f64> {
    let (cw, ch) = (r.width() / CELL, r.height() / CELL);
    let mut out = Vec::with_capacity((cw * ch) as usize);
    for cy in 0..ch {
        for cx in 0..cw {
            let mut sum = 0u64;
            for y in cy * CELL..(cy + 1) * CELL {
                let row = &r.row(y)[(cx * CELL) as usize..((cx + 1) * CELL) as usize];
                sum += row.iter().map(|v| u64::from(*v)).sum::<u64>();
            }
            out.push(sum as f64 / f64::from(CELL * CELL));
        }
    }
    out
}

/// Pearson correlation of the 8 × 8-cell averages of `a` and `b` (`b` is resampled
/// to `a`'s size first); 0 when either is uniform.
pub fn similarity(a: &GrayRaster, b: &GrayRaster) -> f64 {
    let b = if (a.width(), a.height()) == (b.width(), b.height()) {
        b.clone()
    } else {
        b.resized(a.width(), a.height())
    };
    let (ma, mb) = (cell_means(a), cell_means(&b));
    let n = ma.len().min(mb.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
    let (xa, xb) = (mean(&ma), mean(&mb));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (p, q) in ma.iter().zip(&mb) {
        let (da, db) = (p - xa, q - xb);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if saa < 1e-9 || sbb < 1e-9 {
        return 0.0;
    }
    sab / (saa * sbb).sqrt()
}

/// Restores the back scan with `key` and compares it with the front scan.
pub fn verify(
    back_scan: &GrayRaster,
    front_scan: &GrayRaster,
    key: &LayerKey,
) -> Result<(GrayRaster, Verdict), RenderError> {
    let restored = restore_from_scan(back_scan, key)?;
    let s = similarity(&restored, &front_to_grid(front_scan));
    Ok((
        restored,
        Verdict {
            similarity: s,
            matched: s >= MATCH_THRESHOLD,
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kiosk::scramble;

    /// A synthetic front at grid size: dark "text lines" of varying length.
    fn front() -> GrayRaster {
        let mut px = vec![255u8; (GRID_WIDTH * GRID_HEIGHT) as usize];
        for line in 0..60u32 {
            let y0 = 40 + line * 18;
            let len = 100 + (line * 137 % 600);
            for y in y0..y0 + 9 {
                for x in 60..60 + len {
                    if (x / 5 + line) % 3 != 0 {
                        px[(y * GRID_WIDTH + x) as usize] = 30;
                    }
                }
            }
        }
        GrayRaster::new(GRID_WIDTH, GRID_HEIGHT, px).unwrap()
    }

    /// A back page "scanned" at `dpi`: the scrambled image and the four squares,
    /// drawn straight into a raster (nearest-neighbour), on a light grey ground.
    fn back_scan(scrambled: &GrayRaster, dpi: f64) -> GrayRaster {
        let g = BackGeometry::a4();
        let s = dpi / 25.4;
        let (w, h) = (
            (f64::from(g.page_w) * s).round() as u32,
            (f64::from(g.page_h) * s).round() as u32,
        );
        let mut px = vec![235u8; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let (mx, my) = ((f64::from(x) + 0.5) / s, (f64::from(y) + 0.5) / s);
                let ix = (mx - f64::from(g.image_x)) / f64::from(g.image_w);
                let iy = (my - f64::from(g.image_y)) / f64::from(g.image_h);
                let v = &mut px[(y * w + x) as usize];
                if (0.0..1.0).contains(&ix) && (0.0..1.0).contains(&iy) {
                    *v = scrambled.get(
                        (ix * f64::from(GRID_WIDTH)) as u32,
                        (iy * f64::from(GRID_HEIGHT)) as u32,
                    );
                }
                for (cx, cy) in g.mark_centres() {
                    let half = f64::from(g.mark) / 2.0;
                    if (mx - f64::from(cx)).abs() < half && (my - f64::from(cy)).abs() < half {
                        *v = 0;
                    }
                }
            }
        }
        GrayRaster::new(w, h, px).unwrap()
    }

    #[test]
    fn restores_at_other_resolutions_and_rejects_a_wrong_key() {
        let key = LayerKey::development();
        let wrong = LayerKey::new(&[9; 32]).unwrap();
        let front = front();
        let scrambled = scramble(&front, &key);
        assert!(similarity(&scrambled, &front) < 0.3);
        for dpi in [120.0, 150.0, 300.0] {
            let scan = back_scan(&scrambled, dpi);
            let marks = find_marks(&scan).unwrap();
            let s = dpi / 25.4;
            let expected = BackGeometry::a4().mark_centres();
            for (m, e) in marks.iter().zip(expected) {
                assert!(
                    (m.0 / s - f64::from(e.0)).abs() < 0.5,
                    "{dpi}: {m:?} vs {e:?}"
                );
                assert!(
                    (m.1 / s - f64::from(e.1)).abs() < 0.5,
                    "{dpi}: {m:?} vs {e:?}"
                );
            }
            let (_, good) = verify(&scan, &front, &key).unwrap();
            assert!(good.matched, "{dpi} dpi: {good:?}");
            assert!(good.similarity > 0.9, "{dpi} dpi: {good:?}");
            let (_, bad) = verify(&scan, &front, &wrong).unwrap();
            assert!(!bad.matched, "{dpi} dpi: {bad:?}");
        }
    }

    #[test]
    fn a_page_without_marks_is_refused_with_the_reason() {
        let e = restore_from_scan(&front().resized(1240, 1754), &LayerKey::development())
            .unwrap_err()
            .to_string();
        assert!(e.contains("registration marks not found"), "{e}");
    }

    #[test]
    fn uniform_images_have_no_similarity() {
        let a = GrayRaster::filled(64, 64, 255);
        assert_eq!(similarity(&a, &a), 0.0);
    }
}
