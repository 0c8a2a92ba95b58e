//! PDF writing: printpdf builds the document, pages, content operators and image
//! XObjects; the font objects are written here directly into printpdf's lopdf
//! document.
//!
//! Why the fonts bypass printpdf: printpdf 0.12 subsets only with its `text_layout`
//! feature (azul-layout, a large dependency tree); without it, it embeds whole font
//! files (46 MB for IPAmj明朝). Its fonts are allsorts `ParsedFont`s whose ToUnicode
//! comes from the font's cmap, which cannot express an Ideographic Variation
//! Sequence, so 葛󠄂 would copy out as plain 葛. Its own text path measured 4.1 ms and
//! 51 KB for a page. Here instead:
//! - each face is a Type0/CIDFontType2 font with Identity-H encoding;
//! - CIDs are numbered per (glyph, source text) pair, so the ToUnicode CMap maps every
//!   CID to the exact sequence written (base + selector) even when two sequences share
//!   a glyph, and a `/CIDToGIDMap` stream maps CIDs to the subset's glyph ids;
//! - the font program is subset by [`crate::subset`] (glyf outlines without hinting,
//!   no cmap needed) and embedded as `/FontFile2`, tagged `XXXXXX+Name` from a hash
//!   of its contents.
//!
//! Text reaches printpdf as `TextItem::GlyphIds` whose ids are our CIDs under a font
//! resource name printpdf does not know; printpdf then writes them verbatim as 2-byte
//! hex strings, which is exactly what Identity-H needs.
//!
//! Determinism: resource names are fixed, object order follows the layout, the
//! document `/ID` is a SHA-256 of every stream written, dates come from [`DocMeta`].

use std::fmt::Write as _;

use lopdf::{Dictionary, Object, Stream, StringFormat};
use printpdf::{
    Color, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, Rect, TextItem, TextMatrix, XObject, XObjectId, XObjectTransform,
};
use sha2::{Digest, Sha256};

use crate::error::RenderError;
use crate::fonts::FontFace;
use crate::layout::{CidTable, DocMeta, Layout, Mark};
use crate::subset;

/// Deflate level for per-document streams (content, font subsets). Measured on the
/// one-page 住民票 with flate2's zlib-rs backend: level 1 ≈ 1.0 ms CPU and 36 KB,
/// level 2 ≈ 1.7 ms and 32 KB, level 6 ≈ 2.5 ms and 31.6 KB. Subset glyph outlines
/// barely compress, so the fast level costs little size and keeps a page well inside
/// the 2 ms budget.
const STREAM_LEVEL: u32 = 1;

/// Streams shorter than this are stored as they are.
const MIN_DEFLATE: usize = 512;

fn resource_name(face: FontFace) -> &'static str {
    match face {
        FontFace::Mincho => "KofuMincho",
        FontFace::Gothic => "KofuGothic",
        FontFace::NameMincho => "KofuNameMincho",
    }
}

fn image_name(index: usize) -> String {
    format!("KofuIm{index}")
}

/// One zlib compressor reused for every stream of a document: a fresh one allocates
/// and clears its ~300 KB of match tables, which for a page's dozen small streams
/// cost more than the compression itself.
struct Deflater(flate2::Compress);

impl Deflater {
    fn new() -> Self {
        Self(flate2::Compress::new(
            flate2::Compression::new(STREAM_LEVEL),
            true,
        ))
    }

    fn deflate(&mut self, data: &[u8]) -> Result<Vec<u8>, RenderError> {
        self.0.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let before = self.0.total_in();
            let consumed = usize::try_from(before).unwrap_or(usize::MAX);
            let input = data.get(consumed..).unwrap_or_default();
            if out.capacity() - out.len() < 64 {
                out.reserve(data.len() / 4 + 64);
            }
            let status = self
                .0
                .compress_vec(input, &mut out, flate2::FlushCompress::Finish)
                .map_err(|e| RenderError::Pdf(format!("deflate: {e}")))?;
            if status == flate2::Status::StreamEnd {
                return Ok(out);
            }
        }
    }
}

/// Turns the layout's marks into printpdf operators for one page.
fn page_ops(marks: &[Mark]) -> Vec<Op> {
    let mut ops = Vec::with_capacity(marks.len() * 3 + 8);
    // Black ink for text, rules and stencil seals.
    let black = Color::Greyscale(Greyscale {
        percent: 0.0,
        icc_profile: None,
    });
    ops.push(Op::SetFillColor { col: black.clone() });
    ops.push(Op::SetOutlineColor { col: black.clone() });
    let mut in_text = false;
    let mut cur_font: Option<(FontFace, f32)> = None;
    let mut cur_width: Option<f32> = None;
    for m in marks {
        match m {
            Mark::Glyphs {
                face,
                size,
                x,
                y,
                glyphs,
            } => {
                if !in_text {
                    ops.push(Op::StartTextSection);
                    in_text = true;
                    cur_font = None;
                }
                if cur_font != Some((*face, *size)) {
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(printpdf::FontId(
                            resource_name(*face).to_owned(),
                        )),
                        size: Pt(*size),
                    });
                    cur_font = Some((*face, *size));
                }
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(Pt(*x), Pt(*y)),
                });
                let items = glyphs
                    .iter()
                    .map(|g| printpdf::Codepoint::new(g.cid, g.adjust))
                    .collect();
                ops.push(Op::ShowText {
                    items: vec![TextItem::GlyphIds(items)],
                });
            }
            other => {
                if in_text {
                    ops.push(Op::EndTextSection);
                    in_text = false;
                }
                match other {
                    Mark::Line {
                        x1,
                        y1,
                        x2,
                        y2,
                        width,
                    } => {
                        if cur_width != Some(*width) {
                            ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
                            cur_width = Some(*width);
                        }
                        let p = |x: f32, y: f32| LinePoint {
                            p: Point { x: Pt(x), y: Pt(y) },
                            bezier: false,
                        };
                        ops.push(Op::DrawLine {
                            line: Line {
                                points: vec![p(*x1, *y1), p(*x2, *y2)],
                                is_closed: false,
                            },
                        });
                    }
                    Mark::Rect {
                        x,
                        y,
                        w,
                        h,
                        width,
                        fill,
                    } => {
                        let mode = match fill {
                            Some(g) => {
                                ops.push(Op::SaveGraphicsState);
                                ops.push(Op::SetFillColor {
                                    col: Color::Greyscale(Greyscale {
                                        percent: *g,
                                        icc_profile: None,
                                    }),
                                });
                                PaintMode::Fill
                            }
                            None => {
                                if cur_width != Some(*width) {
                                    ops.push(Op::SetOutlineThickness { pt: Pt(*width) });
                                    cur_width = Some(*width);
                                }
                                PaintMode::Stroke
                            }
                        };
                        ops.push(Op::DrawRectangle {
                            rectangle: Rect {
                                x: Pt(*x),
                                y: Pt(*y),
                                width: Pt(*w),
                                height: Pt(*h),
                                mode: Some(mode),
                                winding_order: None,
                            },
                        });
                        if fill.is_some() {
                            ops.push(Op::RestoreGraphicsState);
                        }
                    }
                    Mark::Image { index, x, y, w, h } => {
                        ops.push(Op::UseXobject {
                            id: XObjectId(image_name(*index)),
                            transform: XObjectTransform {
                                translate_x: Some(Pt(*x)),
                                translate_y: Some(Pt(*y)),
                                rotate: None,
                                scale_x: Some(*w),
                                scale_y: Some(*h),
                                dpi: None,
                                no_auto_scale: true,
                            },
                        });
                    }
                    Mark::Glyphs { .. } => {}
                }
            }
        }
    }
    if in_text {
        ops.push(Op::EndTextSection);
    }
    ops
}

pub(crate) fn write(layout: &Layout<'_>, meta: &DocMeta) -> Result<Vec<u8>, RenderError> {
    let (pw, ph) = layout.page_size;
    let mut doc = PdfDocument::new(&meta.title);
    doc.metadata.info.subject = meta.subject.clone();
    doc.metadata.info.author = meta.author.clone();
    doc.metadata.info.producer = "kofu-render".to_owned();
    doc.metadata.info.creator = "kofu".to_owned();
    for (i, img) in layout.images.iter().enumerate() {
        doc.resources.xobjects.map.insert(
            XObjectId(image_name(i)),
            XObject::External(printpdf::ExternalXObject {
                stream: img.stream.clone(),
                width: None,
                height: None,
                dpi: None,
            }),
        );
    }
    doc.pages = layout
        .pages
        .iter()
        .map(|p| PdfPage::new(Mm(pw), Mm(ph), page_ops(&p.marks)))
        .collect();
    let opts = PdfSaveOptions {
        optimize: false,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&opts, &mut warnings);
    // Soft masks and stencil images need PDF 1.4.
    lo.version = "1.4".to_owned();

    let mut hasher = Sha256::new();
    hasher.update(meta.title.as_bytes());
    hasher.update(meta.subject.as_bytes());

    // Font objects.
    let mut z = Deflater::new();
    let mut fonts = Dictionary::new();
    for face in FontFace::ALL {
        let table = &layout.cids[face.index()];
        if table.entries.is_empty() {
            continue;
        }
        let font_ref = write_font(&mut lo, layout, face, table, &mut hasher, &mut z)?;
        fonts.set(resource_name(face), Object::Reference(font_ref));
    }

    // Every page shares printpdf's one font dictionary: fill it in.
    let pages = lo.get_pages();
    let first = pages
        .values()
        .next()
        .copied()
        .ok_or_else(|| RenderError::Pdf("no pages written".into()))?;
    let font_dict_id = {
        let page = lo
            .get_dictionary(first)
            .map_err(|e| RenderError::Pdf(e.to_string()))?;
        let res_id = page
            .get(b"Resources")
            .and_then(Object::as_reference)
            .map_err(|e| RenderError::Pdf(e.to_string()))?;
        let res = lo
            .get_dictionary(res_id)
            .map_err(|e| RenderError::Pdf(e.to_string()))?;
        res.get(b"Font")
            .and_then(Object::as_reference)
            .map_err(|e| RenderError::Pdf(e.to_string()))?
    };
    lo.set_object(font_dict_id, fonts);

    // Page binding data and page content compression.
    for (i, (_, page_id)) in pages.iter().enumerate() {
        let binding = layout.pages.get(i).and_then(|p| p.binding.clone());
        let page = lo
            .get_object_mut(*page_id)
            .and_then(Object::as_dict_mut)
            .map_err(|e| RenderError::Pdf(e.to_string()))?;
        // printpdf writes an empty /Annots array on every page; drop it (bytes).
        page.remove(b"Annots");
        if let Some(b) = binding {
            hasher.update(b.as_bytes());
            page.set(
                "KofuBinding",
                Object::String(utf16be(&b), StringFormat::Hexadecimal),
            );
        }
    }
    for obj in lo.objects.values_mut() {
        if let Object::Stream(s) = obj {
            // Small streams (CIDToGIDMaps, short pages) are not worth a compressor's
            // setup, which clears ~300 KB of match tables each time.
            if s.dict.get(b"Filter").is_err() && s.content.len() >= MIN_DEFLATE {
                let packed = z.deflate(&s.content)?;
                s.dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
                s.set_content(packed);
            }
            hasher.update(&s.content);
        }
    }

    // Info dictionary: dates from the inputs (printpdf would write the epoch).
    let (y, mo, d, h, mi, s) = meta.created;
    let date = format!("D:{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}+09'00'");
    hasher.update(date.as_bytes());
    if let Ok(info_id) = lo.trailer.get(b"Info").and_then(Object::as_reference)
        && let Ok(info) = lo.get_object_mut(info_id).and_then(Object::as_dict_mut)
    {
        for key in ["CreationDate", "ModDate"] {
            info.set(
                key,
                Object::String(date.as_bytes().to_vec(), StringFormat::Literal),
            );
        }
        // printpdf's PDF/X bookkeeping keys say nothing true about this file.
        info.remove(b"GTS_PDFXVersion");
        info.remove(b"Trapped");
        info.remove(b"Identifier");
        info.remove(b"Keywords");
    }
    let id = hasher.finalize();
    let id = id[..16].to_vec();
    lo.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(id.clone(), StringFormat::Hexadecimal),
            Object::String(id, StringFormat::Hexadecimal),
        ]),
    );

    let mut out = Vec::with_capacity(64 * 1024);
    lo.save_to(&mut out)
        .map_err(|e| RenderError::Pdf(e.to_string()))?;
    Ok(out)
}

fn utf16be(s: &str) -> Vec<u8> {
    let mut v = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_be_bytes());
    }
    v
}

/// Writes the Type0 font of `face` (subset program, descriptor, widths, CIDToGIDMap,
/// ToUnicode) and returns the Type0 dictionary's object id.
fn write_font(
    lo: &mut lopdf::Document,
    layout: &Layout<'_>,
    face: FontFace,
    table: &CidTable,
    hasher: &mut Sha256,
    z: &mut Deflater,
) -> Result<lopdf::ObjectId, RenderError> {
    let loaded = layout.book.loaded(face);
    let m = &loaded.metrics;
    let gids: Vec<u16> = table.entries.iter().map(|e| e.gid).collect();
    let sub = subset::subset(&loaded.data, &gids)?;
    let program = &sub.program;

    // Subset tag: six letters from a hash of the program and the CID mapping.
    let mut th = Sha256::new();
    th.update(program);
    for e in &table.entries {
        th.update(e.gid.to_be_bytes());
        th.update(e.text.as_bytes());
    }
    let digest = th.finalize();
    hasher.update(digest);
    let tag: String = digest[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    let base_font = format!("{tag}+{}", m.postscript_name);

    let scale = 1000.0 / f32::from(m.units_per_em);
    let sc = |v: i16| Object::Integer((f32::from(v) * scale).round() as i64);

    let program_len = program.len();
    let mut file = Stream::new(
        Dictionary::from_iter(vec![
            ("Length1", Object::Integer(program_len as i64)),
            ("Filter", Object::Name(b"FlateDecode".to_vec())),
        ]),
        z.deflate(program)?,
    );
    file.allows_compression = false;
    let file_id = lo.add_object(file);

    let flags = if face == FontFace::Gothic { 4 } else { 4 | 2 };
    let descriptor = Dictionary::from_iter(vec![
        ("Type", Object::Name(b"FontDescriptor".to_vec())),
        ("FontName", Object::Name(base_font.as_bytes().to_vec())),
        ("Flags", Object::Integer(flags)),
        (
            "FontBBox",
            Object::Array(vec![
                sc(m.bbox[0]),
                sc(m.bbox[1]),
                sc(m.bbox[2]),
                sc(m.bbox[3]),
            ]),
        ),
        ("ItalicAngle", Object::Real(m.italic_angle)),
        ("Ascent", sc(m.ascender)),
        ("Descent", sc(m.descender)),
        ("CapHeight", sc(m.cap_height)),
        ("StemV", Object::Integer(80)),
        ("FontFile2", Object::Reference(file_id)),
    ]);
    let descriptor_id = lo.add_object(descriptor);

    // CID → subset glyph id; CID 0 stays .notdef.
    let mut map = Vec::with_capacity((table.entries.len() + 1) * 2);
    map.extend_from_slice(&0u16.to_be_bytes());
    for e in &table.entries {
        let new = sub
            .new_gid(e.gid)
            .ok_or_else(|| RenderError::Pdf(format!("glyph {} lost in subset", e.gid)))?;
        map.extend_from_slice(&new.to_be_bytes());
    }
    let map_id = lo.add_object(Stream::new(Dictionary::new(), map));

    // Widths exactly as the layout measured them, so viewers place glyphs where the
    // layout did.
    let widths: Vec<Object> = table
        .entries
        .iter()
        .map(|e| {
            let w = (e.adv * 1000.0 * 1000.0).round() / 1000.0;
            if w.fract() == 0.0 {
                Object::Integer(w as i64)
            } else {
                Object::Real(w)
            }
        })
        .collect();

    let cid_font = Dictionary::from_iter(vec![
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"CIDFontType2".to_vec())),
        ("BaseFont", Object::Name(base_font.as_bytes().to_vec())),
        (
            "CIDSystemInfo",
            Object::Dictionary(Dictionary::from_iter(vec![
                (
                    "Registry",
                    Object::String(b"Adobe".to_vec(), StringFormat::Literal),
                ),
                (
                    "Ordering",
                    Object::String(b"Identity".to_vec(), StringFormat::Literal),
                ),
                ("Supplement", Object::Integer(0)),
            ])),
        ),
        ("FontDescriptor", Object::Reference(descriptor_id)),
        ("DW", Object::Integer(1000)),
        (
            "W",
            Object::Array(vec![Object::Integer(1), Object::Array(widths)]),
        ),
        ("CIDToGIDMap", Object::Reference(map_id)),
    ]);
    let cid_font_id = lo.add_object(cid_font);

    let cmap_id = lo.add_object(Stream::new(
        Dictionary::new(),
        to_unicode(table).into_bytes(),
    ));

    let type0 = Dictionary::from_iter(vec![
        ("Type", Object::Name(b"Font".to_vec())),
        ("Subtype", Object::Name(b"Type0".to_vec())),
        ("BaseFont", Object::Name(base_font.as_bytes().to_vec())),
        ("Encoding", Object::Name(b"Identity-H".to_vec())),
        (
            "DescendantFonts",
            Object::Array(vec![Object::Reference(cid_font_id)]),
        ),
        ("ToUnicode", Object::Reference(cmap_id)),
    ]);
    Ok(lo.add_object(type0))
}

/// The ToUnicode CMap: every CID to the UTF-16BE of the exact source text of its
/// cluster (a variation selector becomes a surrogate pair after the base).
pub(crate) fn to_unicode(table: &CidTable) -> String {
    let mut s = String::with_capacity(300 + table.entries.len() * 24);
    s.push_str(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // At most 100 entries per block (PDF 32000-1, 9.10.3).
    for (block_i, block) in table.entries.chunks(100).enumerate() {
        let _ = writeln!(s, "{} beginbfchar", block.len());
        for (j, e) in block.iter().enumerate() {
            let cid = block_i * 100 + j + 1;
            let _ = write!(s, "<{cid:04X}> <");
            for u in e.text.encode_utf16() {
                let _ = write!(s, "{u:04X}");
            }
            s.push_str(">\n");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}
