//! Images: PNG decoded and compressed once into PDF image streams ("warm"), placed by
//! the layout at an exact size in mm.
//!
//! Two roles:
//! - [`ImageRole::OfficialSeal`] (電子公印): turned into a 1-bit stencil mask painted in
//!   black, so the seal prints black whatever colour the file has and the text under
//!   it (the certifier's name) stays visible through the unpainted parts, as a real
//!   stamp would leave it. Placed at most 25 mm square.
//! - [`ImageRole::Picture`] (the registered 印影 and anything else): kept in its own
//!   colours (grey or RGB, 8 bit) with its alpha as a soft mask, placed at the size
//!   the caller states (the seal's true size).
//!
//! The streams are handed to printpdf as `XObject::External`: printpdf's own image
//! path re-compresses the pixels on every save, which costs more than the whole
//! page budget; this way the deflate work happens once per image, not per render.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use printpdf::{DictItem, ExternalStream};

use crate::error::RenderError;

/// The largest official seal the layout accepts, in mm (each side).
pub const OFFICIAL_SEAL_MAX_MM: f32 = 25.0;

/// How an image is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageRole {
    /// The municipality's official seal: black stencil, at most 25 mm square.
    OfficialSeal,
    /// A picture kept in its colours (the registered 印影).
    Picture,
}

/// A decoded, compressed image ready to be placed on any number of pages and
/// documents. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub(crate) inner: Arc<ImageInner>,
}

#[derive(Debug)]
pub(crate) struct ImageInner {
    pub(crate) name: String,
    pub(crate) role: ImageRole,
    pub(crate) width_px: u32,
    pub(crate) height_px: u32,
    pub(crate) stream: ExternalStream,
}

/// How much a PNG may hold before it is refused instead of decoded: untrusted input
/// must not exhaust the issuance server's memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PngBounds {
    /// Most bytes the decoder may allocate.
    pub(crate) bytes: usize,
    /// Most pixels (width × height).
    pub(crate) pixels: u64,
}

/// A seal scan at 1200 dpi is far below these.
const SEAL_BOUNDS: PngBounds = PngBounds {
    bytes: 256 * 1024 * 1024,
    pixels: 4096 * 4096,
};

/// A PNG decoded to 8 bits per channel, rows tightly packed.
pub(crate) struct Decoded {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) bytes per pixel.
    pub(crate) channels: usize,
    pub(crate) pixels: Vec<u8>,
}

/// Decodes a PNG of any colour type and bit depth within `bounds`; errors name the
/// image as `name`.
pub(crate) fn decode_png(
    name: &str,
    png_bytes: &[u8],
    bounds: PngBounds,
) -> Result<Decoded, RenderError> {
    let err = |reason: String| RenderError::Image {
        name: name.to_owned(),
        reason,
    };
    let limits = png::Limits {
        bytes: bounds.bytes,
    };
    let mut decoder = png::Decoder::new_with_limits(std::io::Cursor::new(png_bytes), limits);
    // Palette → RGB(A), low bit depths → 8 bit, 16 bit → 8 bit: one pixel layout
    // to deal with below.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .map_err(|e| err(format!("not a readable PNG: {e}")))?;
    let (w, h) = {
        let info = reader.info();
        (info.width, info.height)
    };
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > bounds.pixels {
        return Err(err(format!("unsupported size {w}×{h} px")));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err("image too large".into()))?;
    let mut buf = vec![0; size];
    let out = reader
        .next_frame(&mut buf)
        .map_err(|e| err(format!("cannot decode: {e}")))?;
    let channels = match out.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err(err("palette not expanded".into())),
    };
    if out.bit_depth != png::BitDepth::Eight {
        return Err(err("bit depth not normalised to 8".into()));
    }
    let row = w as usize * channels;
    let packed = row * h as usize;
    let pixels = if out.line_size == row && buf.len() >= packed {
        // Already tightly packed (the usual case): no second full-size buffer, which
        // matters for a 1200-dpi page scan.
        buf.truncate(packed);
        buf
    } else {
        // Copy row by row, so a decoder that pads rows cannot skew the image.
        let mut pixels = Vec::with_capacity(packed);
        for y in 0..h as usize {
            let s = y * out.line_size;
            let line = buf
                .get(s..s + row)
                .ok_or_else(|| err("truncated image data".into()))?;
            pixels.extend_from_slice(line);
        }
        pixels
    };
    Ok(Decoded {
        width: w,
        height: h,
        channels,
        pixels,
    })
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|e| RenderError::Pdf(format!("deflate: {e}")))
}

fn name(s: &str) -> DictItem {
    DictItem::Name(s.as_bytes().to_vec())
}

impl PreparedImage {
    /// Decodes `png` as the official seal: every pixel that is at least half inked
    /// (dark and opaque) becomes black, the rest transparent.
    pub fn official_seal(png: &[u8]) -> Result<Self, RenderError> {
        Self::from_png("official-seal", png, ImageRole::OfficialSeal)
    }

    /// Decodes `png` as a picture kept in its colours (the registered 印影).
    pub fn picture(name: &str, png: &[u8]) -> Result<Self, RenderError> {
        Self::from_png(name, png, ImageRole::Picture)
    }

    /// Decodes `png` for the given role.
    pub fn from_png(name: &str, png: &[u8], role: ImageRole) -> Result<Self, RenderError> {
        let d = decode_png(name, png, SEAL_BOUNDS)?;
        let stream = match role {
            ImageRole::OfficialSeal => stencil_stream(&d)?,
            ImageRole::Picture => picture_stream(&d)?,
        };
        Ok(Self {
            inner: Arc::new(ImageInner {
                name: name.to_owned(),
                role,
                width_px: d.width,
                height_px: d.height,
                stream,
            }),
        })
    }

    /// Pixel size (width, height).
    pub fn pixel_size(&self) -> (u32, u32) {
        (self.inner.width_px, self.inner.height_px)
    }

    /// The role the image was prepared for.
    pub fn role(&self) -> ImageRole {
        self.inner.role
    }

    /// The image's name (used in error messages).
    pub fn name(&self) -> &str {
        &self.inner.name
    }
}

/// Ink coverage 0..=255 of one pixel: darkness times opacity.
fn coverage(d: &Decoded, i: usize) -> u32 {
    let p = &d.pixels[i * d.channels..(i + 1) * d.channels];
    let (lum, alpha) = match d.channels {
        1 => (u32::from(p[0]), 255),
        2 => (u32::from(p[0]), u32::from(p[1])),
        3 => (luma(p), 255),
        _ => (luma(p), u32::from(p[3])),
    };
    (255 - lum) * alpha / 255
}

fn luma(p: &[u8]) -> u32 {
    // Rec. 601 weights in integer arithmetic.
    (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000
}

fn stencil_stream(d: &Decoded) -> Result<ExternalStream, RenderError> {
    let w = d.width as usize;
    let row_bytes = w.div_ceil(8);
    // Stencil samples: 0 paints (with the fill colour, black), 1 leaves the page.
    let mut bits = vec![0xFFu8; row_bytes * d.height as usize];
    for y in 0..d.height as usize {
        for x in 0..w {
            if coverage(d, y * w + x) >= 128 {
                bits[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let dict = BTreeMap::from([
        ("Type".to_owned(), name("XObject")),
        ("Subtype".to_owned(), name("Image")),
        ("Width".to_owned(), DictItem::Int(i64::from(d.width))),
        ("Height".to_owned(), DictItem::Int(i64::from(d.height))),
        ("ImageMask".to_owned(), DictItem::Bool(true)),
        ("BitsPerComponent".to_owned(), DictItem::Int(1)),
        ("Filter".to_owned(), name("FlateDecode")),
    ]);
    Ok(ExternalStream {
        dict,
        content: deflate(&bits)?,
        compress: false,
    })
}

fn picture_stream(d: &Decoded) -> Result<ExternalStream, RenderError> {
    let n = (d.width * d.height) as usize;
    let (color_channels, has_alpha) = match d.channels {
        1 => (1, false),
        2 => (1, true),
        3 => (3, false),
        _ => (3, true),
    };
    let mut color = Vec::with_capacity(n * color_channels);
    let mut alpha = Vec::with_capacity(if has_alpha { n } else { 0 });
    for px in d.pixels.chunks_exact(d.channels) {
        color.extend_from_slice(&px[..color_channels]);
        if has_alpha {
            alpha.push(px[d.channels - 1]);
        }
    }
    let cs = if color_channels == 1 {
        "DeviceGray"
    } else {
        "DeviceRGB"
    };
    let mut dict = BTreeMap::from([
        ("Type".to_owned(), name("XObject")),
        ("Subtype".to_owned(), name("Image")),
        ("Width".to_owned(), DictItem::Int(i64::from(d.width))),
        ("Height".to_owned(), DictItem::Int(i64::from(d.height))),
        ("ColorSpace".to_owned(), name(cs)),
        ("BitsPerComponent".to_owned(), DictItem::Int(8)),
        ("Filter".to_owned(), name("FlateDecode")),
    ]);
    // A fully opaque alpha channel carries nothing: skip the soft mask.
    if has_alpha && alpha.iter().any(|&a| a != 255) {
        let smask = ExternalStream {
            dict: BTreeMap::from([
                ("Type".to_owned(), name("XObject")),
                ("Subtype".to_owned(), name("Image")),
                ("Width".to_owned(), DictItem::Int(i64::from(d.width))),
                ("Height".to_owned(), DictItem::Int(i64::from(d.height))),
                ("ColorSpace".to_owned(), name("DeviceGray")),
                ("BitsPerComponent".to_owned(), DictItem::Int(8)),
                ("Filter".to_owned(), name("FlateDecode")),
            ]),
            content: deflate(&alpha)?,
            compress: false,
        };
        dict.insert("SMask".to_owned(), DictItem::Stream { stream: smask });
    }
    Ok(ExternalStream {
        dict,
        content: deflate(&color)?,
        compress: false,
    })
}

/// Test and demo helper: encodes an RGBA buffer as PNG (used to build fixtures
/// without shipping binary files).
pub fn encode_png_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>, RenderError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| RenderError::Pdf(format!("png: {e}")))?;
        w.write_image_data(rgba)
            .map_err(|e| RenderError::Pdf(format!("png: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(size: u32, rgb: [u8; 3]) -> Vec<u8> {
        let mut px = Vec::new();
        let c = size as f32 / 2.0;
        for y in 0..size {
            for x in 0..size {
                let r = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
                let ink = r < c - 1.0 && r > c - 4.0;
                px.extend_from_slice(&rgb);
                px.push(if ink { 255 } else { 0 });
            }
        }
        encode_png_rgba(size, size, &px).unwrap()
    }

    #[test]
    fn red_seal_becomes_black_stencil() {
        let img = PreparedImage::official_seal(&ring(40, [200, 0, 0])).unwrap();
        assert_eq!(img.pixel_size(), (40, 40));
        let s = &img.inner.stream;
        assert_eq!(s.dict.get("ImageMask"), Some(&DictItem::Bool(true)));
    }

    #[test]
    fn picture_keeps_alpha_as_smask() {
        let img = PreparedImage::picture("inei", &ring(30, [180, 20, 20])).unwrap();
        assert!(img.inner.stream.dict.contains_key("SMask"));
        assert_eq!(img.role(), ImageRole::Picture);
    }

    #[test]
    fn garbage_is_an_image_error() {
        let e = PreparedImage::official_seal(b"not a png").unwrap_err();
        assert!(matches!(e, RenderError::Image { .. }), "{e}");
    }
}
