//! Applying the layer to the town's PDF: ground pattern on every front page, a back
//! page after each.
//!
//! The front page's own content stream objects are left exactly as they are (same
//! object, same bytes); its `/Contents` becomes `[ground, original…]`, so the dots
//! are printed first and the certificate over them, and its resources gain the two
//! tiling patterns. A back page is inserted after each front page in the same page
//! tree node, with `/Contents [ground, back]`: the scrambled image
//! ([`super::GRID_WIDTH`] × [`super::GRID_HEIGHT`] px, DeviceGray, Flate) centred
//! 170 mm wide, and four solid 6 mm registration squares 3 mm off its corners
//! ([`BackGeometry`]). The trailer `/ID` keeps its first (permanent) half and gets a
//! new second half, a SHA-256 over the original's and the added streams.

use std::fmt::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use sha2::{Digest as _, Sha256};

use super::ground::{self, COARSE_PATTERN, FINE_PATTERN, f};
use super::raster::GrayRaster;
use super::scramble::{LayerKey, scramble};
use super::{GRID_HEIGHT, GRID_WIDTH};
use crate::error::RenderError;
use crate::layout::PT_PER_MM;

/// Name of the scrambled image on a back page.
const IMAGE_NAME: &str = "KofuScrambledFront";

/// Where things are on a back page, in mm from the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackGeometry {
    /// Page width.
    pub page_w: f32,
    /// Page height.
    pub page_h: f32,
    /// The image's left edge.
    pub image_x: f32,
    /// The image's top edge.
    pub image_y: f32,
    /// The image's width.
    pub image_w: f32,
    /// The image's height.
    pub image_h: f32,
    /// Side of a registration square.
    pub mark: f32,
    /// Gap between a square and the image, on each axis.
    pub gap: f32,
}

impl BackGeometry {
    /// Side of a registration square in mm.
    pub const MARK_MM: f32 = 6.0;
    /// Gap between the squares and the image in mm.
    pub const GAP_MM: f32 = 3.0;

    /// The layout for a page of `page_w × page_h` mm: the image 20 mm from the sides
    /// (less if the page is short), centred.
    pub fn for_page(page_w: f32, page_h: f32) -> Self {
        let ratio = GRID_HEIGHT as f32 / GRID_WIDTH as f32;
        let mut image_w = (page_w - 40.0).max(10.0);
        let max_h = (page_h - 50.0).max(10.0);
        if image_w * ratio > max_h {
            image_w = max_h / ratio;
        }
        let image_h = image_w * ratio;
        Self {
            page_w,
            page_h,
            image_x: (page_w - image_w) / 2.0,
            image_y: (page_h - image_h) / 2.0,
            image_w,
            image_h,
            mark: Self::MARK_MM,
            gap: Self::GAP_MM,
        }
    }

    /// A4 portrait, the page every kofu certificate has.
    pub fn a4() -> Self {
        Self::for_page(crate::layout::A4_MM.0, crate::layout::A4_MM.1)
    }

    /// Centres of the registration squares (top-left, top-right, bottom-left,
    /// bottom-right), in mm from the page's top-left corner.
    pub fn mark_centres(&self) -> [(f32, f32); 4] {
        let d = self.gap + self.mark / 2.0;
        let (l, t) = (self.image_x - d, self.image_y - d);
        let (r, b) = (
            self.image_x + self.image_w + d,
            self.image_y + self.image_h + d,
        );
        [(l, t), (r, t), (l, b), (r, b)]
    }
}

fn pdf_err(e: lopdf::Error) -> RenderError {
    RenderError::Pdf(e.to_string())
}

/// The number of pages of a PDF.
pub fn page_count(pdf: &[u8]) -> Result<usize, RenderError> {
    Ok(Document::load_mem(pdf).map_err(pdf_err)?.get_pages().len())
}

/// The page's `/MediaBox` (own or inherited) as (width, height) in points.
fn media_box(doc: &Document, page: ObjectId) -> (f32, f32) {
    let mut id = Some(page);
    for _ in 0..32 {
        let Some(current) = id else { break };
        let Ok(dict) = doc.get_dictionary(current) else {
            break;
        };
        if let Ok(b) = dict.get(b"MediaBox").and_then(|o| {
            let (_, o) = doc.dereference(o)?;
            o.as_array()
        }) {
            let v: Vec<f32> = b.iter().filter_map(|o| o.as_float().ok()).collect();
            if let [x0, y0, x1, y1] = v[..] {
                return ((x1 - x0).abs(), (y1 - y0).abs());
            }
        }
        id = dict.get(b"Parent").and_then(Object::as_reference).ok();
    }
    (
        crate::layout::A4_MM.0 * PT_PER_MM,
        crate::layout::A4_MM.1 * PT_PER_MM,
    )
}

fn pattern(cell: String) -> Stream {
    let c = ground::CELL_PT;
    let mut s = Stream::new(
        Dictionary::from_iter(vec![
            ("Type", Object::Name(b"Pattern".to_vec())),
            ("PatternType", Object::Integer(1)),
            ("PaintType", Object::Integer(1)),
            ("TilingType", Object::Integer(1)),
            (
                "BBox",
                Object::Array(vec![0.into(), 0.into(), Object::Real(c), Object::Real(c)]),
            ),
            ("XStep", Object::Real(c)),
            ("YStep", Object::Real(c)),
            ("Resources", Object::Dictionary(Dictionary::new())),
        ]),
        cell.into_bytes(),
    );
    s.allows_compression = false;
    s
}

fn deflated_stream(dict: Dictionary, data: &[u8]) -> Result<Stream, RenderError> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    std::io::Write::write_all(&mut enc, data)
        .map_err(|e| RenderError::Pdf(format!("deflate: {e}")))?;
    let packed = enc
        .finish()
        .map_err(|e| RenderError::Pdf(format!("deflate: {e}")))?;
    let mut dict = dict;
    dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let mut s = Stream::new(dict, packed);
    s.allows_compression = false;
    Ok(s)
}

/// Adds the two patterns to a resource dictionary (keeping whatever it has).
fn add_patterns(
    doc: &mut Document,
    res: &mut Dictionary,
    fine: ObjectId,
    coarse: ObjectId,
) -> Result<(), RenderError> {
    let entries = [(FINE_PATTERN, fine), (COARSE_PATTERN, coarse)];
    match res.get(b"Pattern") {
        Ok(Object::Reference(id)) => {
            let id = *id;
            let d = doc.get_dictionary_mut(id).map_err(pdf_err)?;
            for (n, r) in entries {
                d.set(n, Object::Reference(r));
            }
        }
        Ok(Object::Dictionary(_)) => {
            if let Ok(Object::Dictionary(d)) = res.get_mut(b"Pattern") {
                for (n, r) in entries {
                    d.set(n, Object::Reference(r));
                }
            }
        }
        _ => {
            res.set(
                "Pattern",
                Object::Dictionary(Dictionary::from_iter(
                    entries.map(|(n, r)| (n, Object::Reference(r))),
                )),
            );
        }
    }
    Ok(())
}

/// Gives a front page the patterns in its resources, whether they are its own
/// (inline or referenced) or inherited from the page tree.
fn front_resources(
    doc: &mut Document,
    page: ObjectId,
    fine: ObjectId,
    coarse: ObjectId,
) -> Result<(), RenderError> {
    let own = doc
        .get_dictionary(page)
        .map_err(pdf_err)?
        .get(b"Resources")
        .ok()
        .cloned();
    match own {
        Some(Object::Reference(id)) => {
            let mut res = doc.get_dictionary(id).map_err(pdf_err)?.clone();
            add_patterns(doc, &mut res, fine, coarse)?;
            doc.objects.insert(id, Object::Dictionary(res));
        }
        Some(Object::Dictionary(mut res)) => {
            add_patterns(doc, &mut res, fine, coarse)?;
            doc.get_dictionary_mut(page)
                .map_err(pdf_err)?
                .set("Resources", Object::Dictionary(res));
        }
        _ => {
            // Inherited (or none): the page gets its own copy plus the patterns.
            let mut inherited = Dictionary::new();
            let mut id = doc
                .get_dictionary(page)
                .map_err(pdf_err)?
                .get(b"Parent")
                .and_then(Object::as_reference)
                .ok();
            for _ in 0..32 {
                let Some(current) = id else { break };
                let node = doc.get_dictionary(current).map_err(pdf_err)?;
                if let Ok(r) = node.get(b"Resources") {
                    if let Ok((_, Object::Dictionary(d))) = doc.dereference(r) {
                        inherited = d.clone();
                    }
                    break;
                }
                id = node.get(b"Parent").and_then(Object::as_reference).ok();
            }
            add_patterns(doc, &mut inherited, fine, coarse)?;
            doc.get_dictionary_mut(page)
                .map_err(pdf_err)?
                .set("Resources", Object::Dictionary(inherited));
        }
    }
    Ok(())
}

/// Inserts `back` after `front` in `front`'s parent and counts it up the tree.
fn insert_after(doc: &mut Document, front: ObjectId, back: ObjectId) -> Result<(), RenderError> {
    let parent = doc
        .get_dictionary(front)
        .map_err(pdf_err)?
        .get(b"Parent")
        .and_then(Object::as_reference)
        .map_err(pdf_err)?;
    {
        let node = doc.get_dictionary_mut(parent).map_err(pdf_err)?;
        let kids = node
            .get_mut(b"Kids")
            .and_then(Object::as_array_mut)
            .map_err(pdf_err)?;
        let at = kids
            .iter()
            .position(|k| k.as_reference().ok() == Some(front))
            .ok_or_else(|| RenderError::Pdf("page missing from its parent's /Kids".into()))?;
        kids.insert(at + 1, Object::Reference(back));
    }
    let mut id = Some(parent);
    for _ in 0..32 {
        let Some(current) = id else { break };
        let node = doc.get_dictionary_mut(current).map_err(pdf_err)?;
        let count = node.get(b"Count").and_then(Object::as_i64).unwrap_or(0);
        node.set("Count", Object::Integer(count + 1));
        id = node.get(b"Parent").and_then(Object::as_reference).ok();
    }
    Ok(())
}

/// The back page's own content: the image and the four registration squares.
fn back_content(page_h_pt: f32, g: &BackGeometry) -> Vec<u8> {
    let pt = |mm: f32| mm * PT_PER_MM;
    let mut s = String::new();
    let x = pt(g.image_x);
    let y = page_h_pt - pt(g.image_y + g.image_h);
    let _ = writeln!(
        s,
        "q\n{} 0 0 {} {} {} cm\n/{IMAGE_NAME} Do\nQ",
        f(pt(g.image_w)),
        f(pt(g.image_h)),
        f(x),
        f(y)
    );
    s.push_str("q\n0 g\n");
    for (cx, cy) in g.mark_centres() {
        let h = g.mark / 2.0;
        let _ = writeln!(
            s,
            "{} {} {} {} re",
            f(pt(cx - h)),
            f(page_h_pt - pt(cy + h)),
            f(pt(g.mark)),
            f(pt(g.mark))
        );
    }
    s.push_str("f\nQ\n");
    s.into_bytes()
}

/// The kiosk copy of a certificate: `counter_pdf` (as [`crate::render`] produced it)
/// with the ground pattern on every page and, after each page, a back page with its
/// scrambled image. `fronts[i]` is page `i + 1` rasterised in grey (any resolution;
/// it is resampled to the block grid). Deterministic: same inputs, same bytes.
pub fn apply_kiosk_layer(
    counter_pdf: &[u8],
    fronts: &[GrayRaster],
    key: &LayerKey,
) -> Result<Vec<u8>, RenderError> {
    let mut doc = Document::load_mem(counter_pdf).map_err(pdf_err)?;
    let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
    if pages.is_empty() {
        return Err(RenderError::Invalid("the PDF has no pages".into()));
    }
    if pages.len() != fronts.len() {
        return Err(RenderError::Invalid(format!(
            "{} page(s) but {} raster(s)",
            pages.len(),
            fronts.len()
        )));
    }
    let mut hasher = Sha256::new();
    hasher.update(b"kofu-kiosk-layer-v1");
    hasher.update(counter_pdf);

    let fine = doc.add_object(pattern(ground::fine_cell()));
    let coarse = doc.add_object(pattern(ground::coarse_cell()));
    // One ground stream per page size (all A4 in practice).
    let mut grounds: Vec<((u32, u32), ObjectId)> = Vec::new();

    for (page, front) in pages.iter().zip(fronts) {
        let (w, h) = media_box(&doc, *page);
        let size_key = (w.to_bits(), h.to_bits());
        let ground_id = match grounds.iter().find(|(k, _)| *k == size_key) {
            Some((_, id)) => *id,
            None => {
                let bytes = ground::content(w, h);
                hasher.update(&bytes);
                let id = doc.add_object(deflated_stream(Dictionary::new(), &bytes)?);
                grounds.push((size_key, id));
                id
            }
        };

        // Front: [ground, original…], the original objects untouched.
        let original = doc
            .get_dictionary(*page)
            .map_err(pdf_err)?
            .get(b"Contents")
            .cloned()
            .map_err(|_| RenderError::Pdf("a page without /Contents".into()))?;
        let mut contents = vec![Object::Reference(ground_id)];
        match original {
            Object::Array(items) => contents.extend(items),
            other => contents.push(other),
        }
        doc.get_dictionary_mut(*page)
            .map_err(pdf_err)?
            .set("Contents", Object::Array(contents));
        front_resources(&mut doc, *page, fine, coarse)?;

        // Back: the scrambled front.
        let grid = front.resized(GRID_WIDTH, GRID_HEIGHT);
        let scrambled = scramble(&grid, key);
        hasher.update(scrambled.pixels());
        let image = deflated_stream(
            Dictionary::from_iter(vec![
                ("Type", Object::Name(b"XObject".to_vec())),
                ("Subtype", Object::Name(b"Image".to_vec())),
                ("Width", Object::Integer(i64::from(GRID_WIDTH))),
                ("Height", Object::Integer(i64::from(GRID_HEIGHT))),
                ("ColorSpace", Object::Name(b"DeviceGray".to_vec())),
                ("BitsPerComponent", Object::Integer(8)),
            ]),
            scrambled.pixels(),
        )?;
        let image_id = doc.add_object(image);
        let geometry = BackGeometry::for_page(w / PT_PER_MM, h / PT_PER_MM);
        let back_bytes = back_content(h, &geometry);
        let back_stream = doc.add_object(deflated_stream(Dictionary::new(), &back_bytes)?);
        let parent = doc
            .get_dictionary(*page)
            .map_err(pdf_err)?
            .get(b"Parent")
            .cloned()
            .map_err(|_| RenderError::Pdf("a page without /Parent".into()))?;
        let resources = Dictionary::from_iter(vec![
            (
                "Pattern",
                Object::Dictionary(Dictionary::from_iter(vec![
                    (FINE_PATTERN, Object::Reference(fine)),
                    (COARSE_PATTERN, Object::Reference(coarse)),
                ])),
            ),
            (
                "XObject",
                Object::Dictionary(Dictionary::from_iter(vec![(
                    IMAGE_NAME,
                    Object::Reference(image_id),
                )])),
            ),
        ]);
        let back = Dictionary::from_iter(vec![
            ("Type", Object::Name(b"Page".to_vec())),
            ("Parent", parent),
            (
                "MediaBox",
                Object::Array(vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)]),
            ),
            ("Resources", Object::Dictionary(resources)),
            (
                "Contents",
                Object::Array(vec![
                    Object::Reference(ground_id),
                    Object::Reference(back_stream),
                ]),
            ),
        ]);
        let back_id = doc.add_object(back);
        insert_after(&mut doc, *page, back_id)?;
    }

    let digest = hasher.finalize();
    let first = match doc.trailer.get(b"ID").and_then(Object::as_array) {
        Ok(ids) if !ids.is_empty() => ids[0].clone(),
        _ => Object::String(digest[..16].to_vec(), StringFormat::Hexadecimal),
    };
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            first,
            Object::String(digest[16..].to_vec(), StringFormat::Hexadecimal),
        ]),
    );
    let mut out = Vec::with_capacity(counter_pdf.len() * 2);
    doc.save_to(&mut out)
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a4_back_geometry() {
        let g = BackGeometry::a4();
        assert!((g.image_w - 170.0).abs() < 1e-3);
        assert!((g.image_x - 20.0).abs() < 1e-3);
        let [tl, tr, bl, br] = g.mark_centres();
        assert_eq!(tl.1, tr.1);
        assert_eq!(bl.0, tl.0);
        assert_eq!(br, (tr.0, bl.1));
        // The squares stay on the page with a margin.
        assert!(tl.0 - g.mark / 2.0 > 5.0 && tl.1 - g.mark / 2.0 > 5.0);
        assert!(br.0 + g.mark / 2.0 < g.page_w - 5.0 && br.1 + g.mark / 2.0 < g.page_h - 5.0);
        // Aspect ratio of the block grid.
        assert!((g.image_h / g.image_w - 1168.0 / 832.0).abs() < 1e-4);
    }

    #[test]
    fn refuses_a_raster_count_that_does_not_match() {
        assert!(apply_kiosk_layer(b"not a pdf", &[], &LayerKey::development()).is_err());
    }
}
