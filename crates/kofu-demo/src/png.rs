//! A tiny PNG encoder (8-bit palette with transparency, zlib via `miniz_oxide`) and the
//! generator of round red 印影 (seal impressions) with a deterministic pseudo-glyph pattern.

use crate::rng::Rng;

/// Side of a generated seal impression, pixels.
pub(crate) const SEAL_SIZE: usize = 72;

/// Ink levels of the palette: index 0 is transparent paper, the last index full ink.
const LEVELS: usize = 10;

/// The CRC-32 (ISO 3309, as PNG uses it) of `data`.
fn crc32(chunks: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for data in chunks {
        for &b in *data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Encodes an indexed image (`width × height` palette indices) as a PNG with the given
/// RGB palette and per-entry alpha.
pub(crate) fn encode_indexed(
    width: usize,
    height: usize,
    pixels: &[u8],
    palette: &[[u8; 3]],
    alpha: &[u8],
) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    // Bit depth 8, colour type 3 (palette), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let plte: Vec<u8> = palette.iter().flatten().copied().collect();
    chunk(&mut out, b"PLTE", &plte);
    chunk(&mut out, b"tRNS", alpha);
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width).take(height) {
        raw.push(0); // filter: none (palette images compress best unfiltered)
        raw.extend_from_slice(row);
    }
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 9);
    chunk(&mut out, b"IDAT", &compressed);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A round red seal impression: a double-ruled ring around two or three stacked
/// pseudo-characters drawn from `variant`. Same variant, same bytes.
pub(crate) fn seal_png(seed: u64, variant: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed, 0x5EA1_0000 + variant);
    let n = SEAL_SIZE;
    let c = (n as f64 - 1.0) / 2.0;
    let outer = c - 1.0;
    let ring = 3.2 + rng.unit() * 1.5;
    // Ink mask at 3× resolution for anti-aliasing.
    const SS: usize = 3;
    let big = n * SS;
    let mut ink = vec![false; big * big];
    let chars = 2 + rng.below(2) as usize;
    let inner = outer - ring - 2.5;
    // Cells: a column of `chars` boxes inside the ring.
    let cell_h = 2.0 * inner * 0.78 / chars as f64;
    let cell_w = inner * 1.05;
    let top = c - cell_h * chars as f64 / 2.0;
    let stroke = 2.4 + rng.unit();
    let mut rects: Vec<(f64, f64, f64, f64)> = Vec::new();
    for k in 0..chars {
        let y0 = top + cell_h * k as f64 + 1.0;
        let x0 = c - cell_w / 2.0;
        let (w, h) = (cell_w, cell_h - 2.0);
        // Horizontal strokes.
        for _ in 0..(1 + rng.below(3)) {
            let y = y0 + rng.unit() * (h - stroke);
            let xa = x0 + rng.unit() * w * 0.3;
            let xb = x0 + w * (0.7 + rng.unit() * 0.3);
            rects.push((xa, y, xb, y + stroke));
        }
        // Vertical strokes.
        for _ in 0..(1 + rng.below(3)) {
            let x = x0 + rng.unit() * (w - stroke);
            let ya = y0 + rng.unit() * h * 0.3;
            let yb = y0 + h * (0.7 + rng.unit() * 0.3);
            rects.push((x, ya, x + stroke, yb));
        }
        // Sometimes a box (口).
        if rng.chance(0.4) {
            let bx = x0 + w * 0.25;
            let by = y0 + h * 0.3;
            let (bw, bh) = (w * 0.5, h * 0.45);
            rects.push((bx, by, bx + bw, by + stroke));
            rects.push((bx, by + bh - stroke, bx + bw, by + bh));
            rects.push((bx, by, bx + stroke, by + bh));
            rects.push((bx + bw - stroke, by, bx + bw, by + bh));
        }
    }
    for (i, slot) in ink.iter_mut().enumerate() {
        let x = ((i % big) as f64 + 0.5) / SS as f64 - 0.5;
        let y = ((i / big) as f64 + 0.5) / SS as f64 - 0.5;
        let r = ((x - c).powi(2) + (y - c).powi(2)).sqrt();
        let on_ring = r <= outer && r >= outer - ring;
        let inside = r < outer - ring - 0.8;
        let on_glyph = inside
            && rects
                .iter()
                .any(|&(x0, y0, x1, y1)| x >= x0 && x < x1 && y >= y0 && y < y1);
        *slot = on_ring || on_glyph;
    }
    let mut pixels = vec![0u8; n * n];
    for (i, px) in pixels.iter_mut().enumerate() {
        let (px_x, px_y) = (i % n, i / n);
        let mut count = 0usize;
        for dy in 0..SS {
            for dx in 0..SS {
                if ink[(px_y * SS + dy) * big + px_x * SS + dx] {
                    count += 1;
                }
            }
        }
        *px = ((count * (LEVELS - 1) + (SS * SS) / 2) / (SS * SS)) as u8;
    }
    // Vermilion seal ink (朱肉), stronger where the coverage is full.
    let palette: Vec<[u8; 3]> = (0..LEVELS).map(|_| [0xD7, 0x26, 0x1E]).collect();
    let alpha: Vec<u8> = (0..LEVELS)
        .map(|l| ((l * 255) / (LEVELS - 1)) as u8)
        .collect();
    encode_indexed(n, n, &pixels, &palette, &alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend_is_the_known_value() {
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
    }

    #[test]
    fn seal_decodes_as_a_red_round_image() {
        let bytes = seal_png(42, 3);
        assert_eq!(bytes, seal_png(42, 3), "deterministic");
        assert_ne!(bytes, seal_png(42, 4), "variants differ");
        assert!(bytes.len() < 2_000, "small: {} bytes", bytes.len());
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("valid PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!(
            (info.width, info.height),
            (SEAL_SIZE as u32, SEAL_SIZE as u32)
        );
        assert_eq!(info.color_type, png::ColorType::Rgba);
        let px = |x: usize, y: usize| {
            let i = (y * SEAL_SIZE + x) * 4;
            [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
        };
        // Corners are transparent; the ring at the left middle is red ink.
        assert_eq!(px(0, 0)[3], 0);
        let ring = px(2, SEAL_SIZE / 2);
        assert_eq!(ring, [0xD7, 0x26, 0x1E, 255]);
    }
}
