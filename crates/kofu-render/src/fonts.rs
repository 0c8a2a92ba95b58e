//! Fonts through a trait: [`FontSource`] supplies bytes, [`FontBook`] holds them parsed.
//!
//! The core never touches the file system: a deployment hands in whatever source it
//! has (the Debian files via [`crate::SystemFonts`], bytes baked into a kiosk image, a
//! test fixture). A [`FontBook`] is built once per process and shared by every render
//! ("warm"): it validates each font, reads the metrics the PDF font descriptor needs and
//! keeps the bytes behind an `Arc`, so a render never copies or re-validates a font.

use std::sync::Arc;

use crate::error::RenderError;

/// The three faces a certificate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FontFace {
    /// IPAex明朝 (`ipaexm.ttf`): body text.
    Mincho,
    /// IPAexゴシック (`ipaexg.ttf`): titles and labels.
    Gothic,
    /// IPAmj明朝 (`ipamjm.ttf`): personal names; carries the MJ (行政事務標準文字)
    /// repertoire and its Ideographic Variation Sequences.
    NameMincho,
}

impl FontFace {
    /// All faces, in the order the [`FontBook`] stores them.
    pub const ALL: [FontFace; 3] = [FontFace::Mincho, FontFace::Gothic, FontFace::NameMincho];

    /// The file name of the face in the IPA font distributions.
    pub fn file_name(self) -> &'static str {
        match self {
            FontFace::Mincho => "ipaexm.ttf",
            FontFace::Gothic => "ipaexg.ttf",
            FontFace::NameMincho => "ipamjm.ttf",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            FontFace::Mincho => 0,
            FontFace::Gothic => 1,
            FontFace::NameMincho => 2,
        }
    }

    /// Faces tried in order when this one lacks a glyph. Names fall back to IPAex
    /// (for the odd symbol), everything else falls back to IPAmj, whose repertoire
    /// is the larger (MJ characters and their variation sequences in an address,
    /// for example). A glyph in neither is a [`RenderError::MissingGlyph`].
    pub(crate) fn fallback_chain(self) -> [FontFace; 2] {
        match self {
            FontFace::Mincho => [FontFace::Mincho, FontFace::NameMincho],
            FontFace::Gothic => [FontFace::Gothic, FontFace::NameMincho],
            FontFace::NameMincho => [FontFace::NameMincho, FontFace::Mincho],
        }
    }
}

/// Supplies the raw bytes of a font face (TrueType/OpenType).
///
/// Implementations do the IO; the rendering core only ever sees bytes.
pub trait FontSource {
    /// The complete font file of `face`.
    fn font(&self, face: FontFace) -> Result<Arc<[u8]>, RenderError>;
}

/// A [`FontSource`] over bytes already in memory (tests, embedded deployments).
#[derive(Debug, Clone)]
pub struct MemoryFonts {
    fonts: [Arc<[u8]>; 3],
}

impl MemoryFonts {
    /// Wraps the three font files: IPAex明朝, IPAexゴシック, IPAmj明朝.
    pub fn new(mincho: Arc<[u8]>, gothic: Arc<[u8]>, name_mincho: Arc<[u8]>) -> Self {
        Self {
            fonts: [mincho, gothic, name_mincho],
        }
    }
}

impl FontSource for MemoryFonts {
    fn font(&self, face: FontFace) -> Result<Arc<[u8]>, RenderError> {
        Ok(Arc::clone(&self.fonts[face.index()]))
    }
}

/// Metrics of one face, in font units, read once when the book is built.
#[derive(Debug, Clone, PartialEq)]
pub struct FontMetrics {
    /// Units per em (2048 for the IPA fonts).
    pub units_per_em: u16,
    /// Typographic ascender (positive).
    pub ascender: i16,
    /// Typographic descender (negative).
    pub descender: i16,
    /// Height of capital letters (falls back to the ascender).
    pub cap_height: i16,
    /// Union of all glyph boxes: x_min, y_min, x_max, y_max.
    pub bbox: [i16; 4],
    /// Italic angle in degrees.
    pub italic_angle: f32,
    /// Number of glyphs in the font.
    pub glyph_count: u16,
    /// PostScript name (`IPAexMincho`, …), used as the PDF `/BaseFont`.
    pub postscript_name: String,
}

#[derive(Debug)]
pub(crate) struct LoadedFont {
    pub(crate) data: Arc<[u8]>,
    pub(crate) metrics: FontMetrics,
}

/// The three faces, validated and measured once; share it (`&FontBook` or `Arc`)
/// across renders and threads.
#[derive(Debug)]
pub struct FontBook {
    fonts: [LoadedFont; 3],
}

impl FontBook {
    /// Loads and validates all three faces from `source`.
    pub fn load(source: &dyn FontSource) -> Result<Self, RenderError> {
        let [m, g, n] = FontFace::ALL;
        Ok(Self {
            fonts: [
                load_one(source, m)?,
                load_one(source, g)?,
                load_one(source, n)?,
            ],
        })
    }

    /// The metrics of `face`.
    pub fn metrics(&self, face: FontFace) -> &FontMetrics {
        &self.fonts[face.index()].metrics
    }

    pub(crate) fn loaded(&self, face: FontFace) -> &LoadedFont {
        &self.fonts[face.index()]
    }

    /// The glyph id `face` uses for `base` (optionally followed by a variation
    /// selector), or `None` when the face has no such glyph. Exposed so callers and
    /// tests can check which glyph an Ideographic Variation Sequence resolves to.
    pub fn glyph_id(&self, face: FontFace, base: char, selector: Option<char>) -> Option<u16> {
        let faces = self.parse_all().ok()?;
        faces.lookup(face, base, selector).map(|(gid, _)| gid)
    }

    /// Parses the table directories of the three faces for one render. ttf-parser's
    /// `Face` borrows the bytes, so it cannot live inside the book itself; the parse
    /// is a table-directory read (microseconds, see the bench), everything
    /// expensive was validated in [`FontBook::load`].
    pub(crate) fn parse_all(&self) -> Result<Faces<'_>, RenderError> {
        let parse = |face: FontFace| {
            ttf_parser::Face::parse(&self.fonts[face.index()].data, 0).map_err(|e| {
                RenderError::Font {
                    face,
                    reason: e.to_string(),
                }
            })
        };
        Ok(Faces {
            faces: [
                parse(FontFace::Mincho)?,
                parse(FontFace::Gothic)?,
                parse(FontFace::NameMincho)?,
            ],
            upem: [
                f32::from(self.fonts[0].metrics.units_per_em),
                f32::from(self.fonts[1].metrics.units_per_em),
                f32::from(self.fonts[2].metrics.units_per_em),
            ],
        })
    }
}

fn load_one(source: &dyn FontSource, face: FontFace) -> Result<LoadedFont, RenderError> {
    let data = source.font(face)?;
    let metrics = {
        let f = ttf_parser::Face::parse(&data, 0).map_err(|e| RenderError::Font {
            face,
            reason: e.to_string(),
        })?;
        // The PDF side embeds TrueType outlines as CIDFontType2; a CFF font would
        // need FontFile3 and a CFF subsetter, so refuse it up front.
        if f.tables().glyf.is_none() {
            return Err(RenderError::Font {
                face,
                reason: "font has no TrueType (glyf) outlines".into(),
            });
        }
        let upem = f.units_per_em();
        if upem == 0 {
            return Err(RenderError::Font {
                face,
                reason: "units per em is zero".into(),
            });
        }
        let bb = f.global_bounding_box();
        let postscript_name = f
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .map(|s| {
                s.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("Kofu{face:?}"));
        FontMetrics {
            units_per_em: upem,
            ascender: f.ascender(),
            descender: f.descender(),
            cap_height: f.capital_height().unwrap_or(f.ascender()),
            bbox: [bb.x_min, bb.y_min, bb.x_max, bb.y_max],
            italic_angle: f.italic_angle(),
            glyph_count: f.number_of_glyphs(),
            postscript_name,
        }
    };
    Ok(LoadedFont { data, metrics })
}

/// The three faces parsed for one render.
pub(crate) struct Faces<'a> {
    faces: [ttf_parser::Face<'a>; 3],
    upem: [f32; 3],
}

impl Faces<'_> {
    /// Glyph id and advance (in em) of `base` + optional variation selector in `face`.
    ///
    /// With a selector the lookup goes through cmap format 14: a non-default UVS
    /// gives the variant glyph, a default UVS the base mapping; a sequence the font
    /// does not list is `None` — drawing the base glyph instead would print a
    /// different character than the one registered.
    pub(crate) fn lookup(
        &self,
        face: FontFace,
        base: char,
        selector: Option<char>,
    ) -> Option<(u16, f32)> {
        let f = &self.faces[face.index()];
        let gid = match selector {
            Some(vs) => f.glyph_variation_index(base, vs)?,
            None => f.glyph_index(base)?,
        };
        if gid.0 == 0 {
            return None;
        }
        let adv = f32::from(f.glyph_hor_advance(gid).unwrap_or(0)) / self.upem[face.index()];
        Some((gid.0, adv))
    }
}
