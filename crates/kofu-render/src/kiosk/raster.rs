//! [`GrayRaster`]: an 8-bit grayscale pixel buffer (0 = black, 255 = white), rows top
//! to bottom, with PNG decoding and encoding and area-averaging resampling.

use crate::error::RenderError;
use crate::image::{PngBounds, decode_png};

/// Largest PNG accepted as a raster: an A4 scan at 1200 dpi (9921 × 14031) fits.
const SCAN_BOUNDS: PngBounds = PngBounds {
    bytes: 1024 * 1024 * 1024,
    pixels: 150_000_000,
};

/// An 8-bit grayscale image, rows top to bottom, tightly packed.
#[derive(Clone, PartialEq, Eq)]
pub struct GrayRaster {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl std::fmt::Debug for GrayRaster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrayRaster({}×{})", self.width, self.height)
    }
}

impl GrayRaster {
    /// A raster from its pixels; `pixels.len()` must be `width × height`.
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self, RenderError> {
        let expected = u64::from(width) * u64::from(height);
        if width == 0 || height == 0 || pixels.len() as u64 != expected {
            return Err(RenderError::Invalid(format!(
                "raster {width}×{height} needs {expected} pixels, got {}",
                pixels.len()
            )));
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// A raster of one grey level.
    pub fn filled(width: u32, height: u32, value: u8) -> Self {
        Self {
            width: width.max(1),
            height: height.max(1),
            pixels: vec![value; width.max(1) as usize * height.max(1) as usize],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The pixels, rows top to bottom.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixel at (x, y); white outside the raster.
    pub fn get(&self, x: u32, y: u32) -> u8 {
        if x >= self.width || y >= self.height {
            return 255;
        }
        self.pixels[y as usize * self.width as usize + x as usize]
    }

    pub(crate) fn row(&self, y: u32) -> &[u8] {
        let w = self.width as usize;
        let s = y as usize * w;
        &self.pixels[s..s + w]
    }

    pub(crate) fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let w = self.width as usize;
        let s = y as usize * w;
        &mut self.pixels[s..s + w]
    }

    /// Decodes a PNG of any colour type and bit depth to grey (ITU-R BT.601 luma,
    /// transparency composited on white paper).
    pub fn from_png(bytes: &[u8]) -> Result<Self, RenderError> {
        let d = decode_png("scan", bytes, SCAN_BOUNDS)?;
        let pixels = d
            .pixels
            .chunks_exact(d.channels)
            .map(|px| {
                let (v, a) = match *px {
                    [g] => (u32::from(g), 255),
                    [g, a] => (u32::from(g), u32::from(a)),
                    [r, g, b] => (luma(r, g, b), 255),
                    [r, g, b, a] => (luma(r, g, b), u32::from(a)),
                    _ => (255, 255),
                };
                let over_white = (v * a + 255 * (255 - a) + 127) / 255;
                u8::try_from(over_white).unwrap_or(255)
            })
            .collect();
        Self::new(d.width, d.height, pixels)
    }

    /// Encodes as an 8-bit grayscale PNG.
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc
                .write_header()
                .map_err(|e| RenderError::Pdf(format!("PNG: {e}")))?;
            w.write_image_data(&self.pixels)
                .map_err(|e| RenderError::Pdf(format!("PNG: {e}")))?;
        }
        Ok(out)
    }

    /// The whole raster resampled to `width × height` (area averaging).
    pub fn resized(&self, width: u32, height: u32) -> GrayRaster {
        self.resample(
            (0.0, 0.0, f64::from(self.width), f64::from(self.height)),
            width,
            height,
        )
    }

    /// The region `(x0, y0, x1, y1)` (in pixel units, edges not centres; it may reach
    /// outside, which reads as white paper) resampled to `width × height`. Every
    /// output pixel averages a grid of bilinear samples over its footprint, so
    /// shrinking does not alias.
    pub fn resample(&self, region: (f64, f64, f64, f64), width: u32, height: u32) -> GrayRaster {
        let (x0, y0, x1, y1) = region;
        let width = width.max(1);
        let height = height.max(1);
        let sx = (x1 - x0) / f64::from(width);
        let sy = (y1 - y0) / f64::from(height);
        let kx = sx.abs().ceil().clamp(1.0, 8.0) as u32;
        let ky = sy.abs().ceil().clamp(1.0, 8.0) as u32;
        let mut pixels = Vec::with_capacity(width as usize * height as usize);
        for j in 0..height {
            for i in 0..width {
                let mut sum = 0.0;
                for b in 0..ky {
                    let y = y0 + sy * (f64::from(j) + (f64::from(b) + 0.5) / f64::from(ky));
                    for a in 0..kx {
                        let x = x0 + sx * (f64::from(i) + (f64::from(a) + 0.5) / f64::from(kx));
                        sum += self.bilinear(x, y);
                    }
                }
                let v = sum / f64::from(kx * ky);
                pixels.push(v.round().clamp(0.0, 255.0) as u8);
            }
        }
        GrayRaster {
            width,
            height,
            pixels,
        }
    }

    /// Bilinear interpolation at (x, y) in pixel units (pixel centres at i + 0.5).
    pub(crate) fn bilinear(&self, x: f64, y: f64) -> f64 {
        let fx = x - 0.5;
        let fy = y - 0.5;
        let ix = fx.floor();
        let iy = fy.floor();
        let tx = fx - ix;
        let ty = fy - iy;
        let at = |x: f64, y: f64| -> f64 {
            if x < 0.0 || y < 0.0 {
                return 255.0;
            }
            f64::from(self.get(x as u32, y as u32))
        };
        let a = at(ix, iy);
        let b = at(ix + 1.0, iy);
        let c = at(ix, iy + 1.0);
        let d = at(ix + 1.0, iy + 1.0);
        (a * (1.0 - tx) + b * tx) * (1.0 - ty) + (c * (1.0 - tx) + d * tx) * ty
    }
}

fn luma(r: u8, g: u8, b: u8) -> u32 {
    (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn png_round_trip() {
        let r = GrayRaster::new(3, 2, vec![0, 50, 100, 150, 200, 255]).unwrap();
        let back = GrayRaster::from_png(&r.to_png().unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn not_a_png_says_so() {
        let e = GrayRaster::from_png(b"%PDF-1.4").unwrap_err().to_string();
        assert!(e.contains("not a readable PNG"), "{e}");
    }

    #[test]
    fn wrong_pixel_count_is_refused() {
        assert!(GrayRaster::new(2, 2, vec![0; 3]).is_err());
    }

    #[test]
    fn resizing_keeps_the_mean_and_the_layout() {
        // Left half black, right half white.
        let mut px = Vec::new();
        for _ in 0..40 {
            px.extend(std::iter::repeat_n(0u8, 30));
            px.extend(std::iter::repeat_n(255u8, 30));
        }
        let r = GrayRaster::new(60, 40, px).unwrap();
        let small = r.resized(6, 4);
        assert_eq!(small.get(0, 0), 0);
        assert_eq!(small.get(5, 3), 255);
        let big = r.resized(120, 80);
        assert_eq!(big.get(10, 10), 0);
        assert_eq!(big.get(110, 70), 255);
    }
}
