//! Layout primitives for A4 portrait certificates: text in boxes with shrink-to-fit,
//! rules, boxes, tables, images, pages — all in millimetres from the top-left corner.
//!
//! A [`Layout`] collects marks per page against a [`FontBook`]; [`Layout::finish`]
//! turns them into PDF bytes. Text is resolved to glyphs when it is placed, so every
//! "does not fit" and "no glyph" error surfaces at the call that caused it, naming
//! its field.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::RenderError;
use crate::fonts::{Faces, FontBook, FontFace};
use crate::image::{ImageInner, ImageRole, OFFICIAL_SEAL_MAX_MM, PreparedImage};
use crate::pdf;
use crate::text::{Shaped, shape};

/// Points per millimetre.
pub const PT_PER_MM: f32 = 72.0 / 25.4;

/// A4 portrait, in mm.
pub const A4_MM: (f32, f32) = (210.0, 297.0);

/// Step by which a value is shrunk while looking for a size that fits, in pt.
const SHRINK_STEP_PT: f32 = 0.25;

/// Hard cap on distinct glyph/text pairs per face and document (CIDs are 16-bit and
/// subset glyph ids must stay 16-bit).
const MAX_CIDS: usize = 60_000;

/// A rectangle in mm, `x`/`y` its top-left corner measured from the page's
/// top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge, mm from the page's left edge.
    pub x: f32,
    /// Top edge, mm from the page's top edge.
    pub y: f32,
    /// Width in mm.
    pub w: f32,
    /// Height in mm.
    pub h: f32,
}

impl Frame {
    /// A frame at (`x`, `y`) of `w` × `h` mm.
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }

    /// Bottom edge (mm from the top of the page).
    pub fn bottom(&self) -> f32 {
        self.y + self.h
    }

    /// Right edge (mm from the left of the page).
    pub fn right(&self) -> f32 {
        self.x + self.w
    }
}

/// Horizontal alignment of text in its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Flush left.
    Left,
    /// Centred.
    Center,
    /// Flush right (amounts).
    Right,
    /// 均等割り: characters spread over the full width (labels such as 氏名).
    Distribute,
}

/// Vertical alignment of text in its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VAlign {
    /// Against the top padding.
    Top,
    /// Centred.
    Middle,
    /// Against the bottom padding.
    Bottom,
}

/// How a value is set in its box.
#[derive(Debug, Clone, PartialEq)]
pub struct TextStyle {
    /// The face tried first (its fallback chain follows).
    pub face: FontFace,
    /// Nominal size in pt.
    pub size: f32,
    /// Floor size in pt: the value shrinks down to this before it wraps.
    pub min_size: f32,
    /// Horizontal alignment.
    pub align: Align,
    /// Vertical alignment.
    pub valign: VAlign,
    /// Line pitch as a multiple of the size.
    pub leading: f32,
    /// Inner horizontal padding, mm.
    pub pad_x: f32,
    /// Inner vertical padding, mm.
    pub pad_y: f32,
}

impl TextStyle {
    /// `face` at `size` pt, floor 60 % of it, left/middle, leading 1.2, padding
    /// 1.0 × 0.5 mm.
    pub fn new(face: FontFace, size: f32) -> Self {
        Self {
            face,
            size,
            min_size: size * 0.6,
            align: Align::Left,
            valign: VAlign::Middle,
            leading: 1.2,
            pad_x: 1.0,
            pad_y: 0.5,
        }
    }

    /// Sets the floor size (pt).
    pub fn min(mut self, min_size: f32) -> Self {
        self.min_size = min_size;
        self
    }

    /// Sets the horizontal alignment.
    pub fn align(mut self, align: Align) -> Self {
        self.align = align;
        self
    }

    /// Sets the vertical alignment.
    pub fn valign(mut self, valign: VAlign) -> Self {
        self.valign = valign;
        self
    }

    /// Sets the padding (mm).
    pub fn pad(mut self, x: f32, y: f32) -> Self {
        self.pad_x = x;
        self.pad_y = y;
        self
    }

    fn validate(&self, field: &str) -> Result<(), RenderError> {
        let ok = self.size.is_finite()
            && self.min_size.is_finite()
            && self.size > 0.0
            && self.min_size > 0.0
            && self.min_size <= self.size
            && self.leading >= 1.0
            && self.pad_x >= 0.0
            && self.pad_y >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(RenderError::Invalid(format!(
                "field `{field}`: bad text style {self:?}"
            )))
        }
    }
}

/// How a value was finally set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted {
    /// Size used, pt (≤ the nominal size, ≥ the floor).
    pub size: f32,
    /// Number of lines.
    pub lines: usize,
}

/// Index of a page in a [`Layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageId(pub(crate) usize);

impl PageId {
    /// Zero-based page index.
    pub fn index(self) -> usize {
        self.0
    }
}

/// One glyph in a run: the CID the document's font assigns to (glyph, text) and an
/// adjustment before the next glyph (TJ units: thousandths of an em, positive moves
/// left).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunGlyph {
    pub(crate) cid: u16,
    pub(crate) adjust: f32,
}

/// What a page is made of, in PDF points (origin bottom-left).
#[derive(Debug, Clone)]
pub(crate) enum Mark {
    Glyphs {
        face: FontFace,
        size: f32,
        x: f32,
        y: f32,
        glyphs: Vec<RunGlyph>,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        width: f32,
        fill: Option<f32>,
    },
    Image {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// A page's marks plus the binding data written into its page dictionary.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageMarks {
    pub(crate) marks: Vec<Mark>,
    pub(crate) binding: Option<String>,
}

/// Distinct (glyph, source text) pairs of one face, numbered as CIDs from 1.
///
/// Keyed by the text as well as the glyph because two different sequences can reach
/// one glyph (葛 and 葛+VS17 may share the default glyph): each gets its own CID so
/// the ToUnicode map can give each back exactly as written.
#[derive(Debug, Default)]
pub(crate) struct CidTable {
    index: HashMap<u16, Vec<(Box<str>, u16)>>,
    pub(crate) entries: Vec<CidEntry>,
}

/// One CID: its glyph in the full font, the text it stands for, its advance (em).
#[derive(Debug, Clone)]
pub(crate) struct CidEntry {
    pub(crate) gid: u16,
    pub(crate) text: Box<str>,
    pub(crate) adv: f32,
}

impl CidTable {
    fn cid(&mut self, gid: u16, text: &str, adv: f32) -> Result<u16, RenderError> {
        let slot = self.index.entry(gid).or_default();
        if let Some((_, cid)) = slot.iter().find(|(t, _)| &**t == text) {
            return Ok(*cid);
        }
        if self.entries.len() >= MAX_CIDS {
            return Err(RenderError::Invalid(
                "too many distinct glyphs in one document".into(),
            ));
        }
        // entries.len() < MAX_CIDS < u16::MAX, so the conversion cannot fail.
        let cid = u16::try_from(self.entries.len() + 1)
            .map_err(|_| RenderError::Invalid("CID overflow".into()))?;
        slot.push((text.into(), cid));
        self.entries.push(CidEntry {
            gid,
            text: text.into(),
            adv,
        });
        Ok(cid)
    }
}

/// Document metadata; everything derives from the inputs (no clock).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocMeta {
    /// `/Title`.
    pub title: String,
    /// `/Subject`.
    pub subject: String,
    /// `/Author` (the municipality).
    pub author: String,
    /// Creation date as (year, month, day, hour, minute, second) in JST (+09:00).
    pub created: (u16, u8, u8, u8, u8, u8),
}

/// Builds the pages of one document.
pub struct Layout<'b> {
    pub(crate) book: &'b FontBook,
    faces: Faces<'b>,
    pub(crate) page_size: (f32, f32),
    pub(crate) pages: Vec<PageMarks>,
    pub(crate) cids: [CidTable; 3],
    pub(crate) images: Vec<Arc<ImageInner>>,
}

impl std::fmt::Debug for Layout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("page_size", &self.page_size)
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

fn finite(field: &str, vals: &[f32]) -> Result<(), RenderError> {
    if vals.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(RenderError::Invalid(format!(
            "field `{field}`: non-finite coordinate"
        )))
    }
}

impl<'b> Layout<'b> {
    /// An empty A4 portrait document.
    pub fn new(book: &'b FontBook) -> Result<Self, RenderError> {
        Ok(Self {
            book,
            faces: book.parse_all()?,
            page_size: A4_MM,
            pages: Vec::new(),
            cids: Default::default(),
            images: Vec::new(),
        })
    }

    /// Appends a blank page.
    pub fn new_page(&mut self) -> PageId {
        self.pages.push(PageMarks::default());
        PageId(self.pages.len() - 1)
    }

    /// Number of pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Page ids in order.
    pub fn page_ids(&self) -> impl Iterator<Item = PageId> + use<> {
        (0..self.pages.len()).map(PageId)
    }

    /// Page size in mm (width, height).
    pub fn page_size(&self) -> (f32, f32) {
        self.page_size
    }

    fn page_mut(&mut self, page: PageId) -> Result<&mut PageMarks, RenderError> {
        self.pages
            .get_mut(page.0)
            .ok_or_else(|| RenderError::Invalid(format!("no page {}", page.0 + 1)))
    }

    /// Records binding data (e.g. request id and subject) in the page dictionary as
    /// `/KofuBinding`, so a print-release step can check every page belongs to the
    /// set it is in.
    pub fn bind_page(&mut self, page: PageId, binding: &str) -> Result<(), RenderError> {
        self.page_mut(page)?.binding = Some(binding.to_owned());
        Ok(())
    }

    fn y_pt(&self, y_mm: f32) -> f32 {
        (self.page_size.1 - y_mm) * PT_PER_MM
    }

    /// Width in mm of `text` set on one line in `face` at `size` pt.
    pub fn measure(
        &self,
        field: &str,
        text: &str,
        face: FontFace,
        size: f32,
    ) -> Result<f32, RenderError> {
        let s = shape(&self.faces, text, face, field)?;
        Ok(s.width(0..s.glyphs.len()) * size / PT_PER_MM)
    }

    /// Works out how `text` would be set in `frame` without placing it.
    pub fn fit(
        &self,
        field: &str,
        frame: Frame,
        text: &str,
        style: &TextStyle,
    ) -> Result<Fitted, RenderError> {
        style.validate(field)?;
        let s = shape(&self.faces, text, style.face, field)?;
        let (size, lines) = fit_shaped(&s, frame, style).ok_or_else(|| RenderError::Overflow {
            field: field.to_owned(),
        })?;
        Ok(Fitted {
            size,
            lines: lines.len(),
        })
    }

    /// Sets `text` in `frame`: at the nominal size on one line if it fits, else
    /// shrunk on one line down to the floor size, else wrapped over as many lines as
    /// the box holds at the largest size that fits. Still too long →
    /// [`RenderError::Overflow`] naming `field`; nothing is ever cut off.
    pub fn text_box(
        &mut self,
        page: PageId,
        field: &str,
        frame: Frame,
        text: &str,
        style: &TextStyle,
    ) -> Result<Fitted, RenderError> {
        style.validate(field)?;
        finite(field, &[frame.x, frame.y, frame.w, frame.h])?;
        self.page_mut(page)?;
        let s = shape(&self.faces, text, style.face, field)?;
        let (size, lines) = fit_shaped(&s, frame, style).ok_or_else(|| RenderError::Overflow {
            field: field.to_owned(),
        })?;
        let size_mm = size / PT_PER_MM;
        let inner_w = frame.w - 2.0 * style.pad_x;
        let inner_h = frame.h - 2.0 * style.pad_y;
        let n = lines.len() as f32;
        let block_h = size_mm * (1.0 + (n - 1.0) * style.leading);
        let slack = (inner_h - block_h).max(0.0);
        let top = frame.y
            + style.pad_y
            + match style.valign {
                VAlign::Top => 0.0,
                VAlign::Middle => slack / 2.0,
                VAlign::Bottom => slack,
            };
        let m = self.book.metrics(style.face);
        let asc = f32::from(m.ascender) / f32::from(m.units_per_em);
        // The IPA fonts' ascender+descender is exactly one em; centre the em box.
        let asc = asc.clamp(0.5, 1.0);
        let count = lines.len();
        for (i, r) in lines.into_iter().enumerate() {
            let r = s.trim(r);
            let width_mm = s.width(r.clone()) * size_mm;
            let baseline = top + (i as f32 * style.leading + asc) * size_mm;
            let (x, gap_em) = match style.align {
                Align::Left => (frame.x + style.pad_x, 0.0),
                Align::Center => (frame.x + style.pad_x + (inner_w - width_mm) / 2.0, 0.0),
                Align::Right => (frame.x + style.pad_x + inner_w - width_mm, 0.0),
                Align::Distribute => {
                    let gaps = r.len().saturating_sub(1);
                    if gaps == 0 || count > 1 && i + 1 == count && width_mm < inner_w * 0.5 {
                        // A single glyph is centred; so is a short last line.
                        (frame.x + style.pad_x + (inner_w - width_mm) / 2.0, 0.0)
                    } else {
                        let gap_mm = (inner_w - width_mm).max(0.0) / gaps as f32;
                        (frame.x + style.pad_x, gap_mm / size_mm)
                    }
                }
            };
            self.emit_line(page, &s, r, x, baseline, size, gap_em)?;
        }
        Ok(Fitted { size, lines: count })
    }

    /// Sets `text` on one line with its baseline at `(x, baseline)` mm, no box.
    /// Returns its width in mm. Text that would leave the page is an overflow.
    pub fn text_at(
        &mut self,
        page: PageId,
        field: &str,
        (x, baseline): (f32, f32),
        text: &str,
        face: FontFace,
        size: f32,
    ) -> Result<f32, RenderError> {
        finite(field, &[x, baseline, size])?;
        if size <= 0.0 {
            return Err(RenderError::Invalid(format!(
                "field `{field}`: size {size}"
            )));
        }
        self.page_mut(page)?;
        let s = shape(&self.faces, text, face, field)?;
        if s.has_newline() {
            return Err(RenderError::Invalid(format!(
                "field `{field}`: line feed in single-line text"
            )));
        }
        let size_mm = size / PT_PER_MM;
        let width = s.width(0..s.glyphs.len()) * size_mm;
        if x < 0.0 || x + width > self.page_size.0 || baseline < 0.0 || baseline > self.page_size.1
        {
            return Err(RenderError::Overflow {
                field: field.to_owned(),
            });
        }
        let r = s.trim(0..s.glyphs.len());
        // Leading spaces were trimmed from the run; start it where they end.
        let lead: f32 = s.glyphs[..r.start].iter().map(|g| g.adv).sum::<f32>() * size_mm;
        self.emit_line(page, &s, r, x + lead, baseline, size, 0.0)?;
        Ok(width)
    }

    /// Emits one line of glyphs as runs split where the face changes.
    #[allow(clippy::too_many_arguments)]
    fn emit_line(
        &mut self,
        page: PageId,
        s: &Shaped<'_>,
        r: std::ops::Range<usize>,
        x_mm: f32,
        baseline_mm: f32,
        size: f32,
        gap_em: f32,
    ) -> Result<(), RenderError> {
        let y = self.y_pt(baseline_mm);
        let mut x = x_mm * PT_PER_MM;
        let mut marks = Vec::new();
        let glyphs = &s.glyphs[r];
        let mut i = 0;
        while i < glyphs.len() {
            let face = glyphs[i].face;
            let mut run = Vec::new();
            let start_x = x;
            while i < glyphs.len() && glyphs[i].face == face {
                let g = &glyphs[i];
                let text = &s.text[g.range.clone()];
                let cid = self.cids[face.index()].cid(g.gid, text, g.adv)?;
                let last = i + 1 == glyphs.len();
                let adjust = if last { 0.0 } else { -gap_em * 1000.0 };
                run.push(RunGlyph { cid, adjust });
                x += (g.adv + if last { 0.0 } else { gap_em }) * size;
                i += 1;
            }
            marks.push(Mark::Glyphs {
                face,
                size,
                x: start_x,
                y,
                glyphs: run,
            });
        }
        self.page_mut(page)?.marks.extend(marks);
        Ok(())
    }

    /// A horizontal rule from `x1` to `x2` at `y` (mm), `width` pt thick.
    pub fn hline(
        &mut self,
        page: PageId,
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
    ) -> Result<(), RenderError> {
        self.line(page, (x1, y), (x2, y), width)
    }

    /// A vertical rule from `y1` to `y2` at `x` (mm), `width` pt thick.
    pub fn vline(
        &mut self,
        page: PageId,
        x: f32,
        y1: f32,
        y2: f32,
        width: f32,
    ) -> Result<(), RenderError> {
        self.line(page, (x, y1), (x, y2), width)
    }

    fn line(
        &mut self,
        page: PageId,
        a: (f32, f32),
        b: (f32, f32),
        width: f32,
    ) -> Result<(), RenderError> {
        finite("rule", &[a.0, a.1, b.0, b.1, width])?;
        let m = Mark::Line {
            x1: a.0 * PT_PER_MM,
            y1: self.y_pt(a.1),
            x2: b.0 * PT_PER_MM,
            y2: self.y_pt(b.1),
            width,
        };
        self.page_mut(page)?.marks.push(m);
        Ok(())
    }

    /// The outline of `frame`, `width` pt thick.
    pub fn rect(&mut self, page: PageId, frame: Frame, width: f32) -> Result<(), RenderError> {
        self.rect_inner(page, frame, width, None)
    }

    /// `frame` filled with grey level `gray` (0 black … 1 white), no outline.
    pub fn fill(&mut self, page: PageId, frame: Frame, gray: f32) -> Result<(), RenderError> {
        self.rect_inner(page, frame, 0.0, Some(gray.clamp(0.0, 1.0)))
    }

    fn rect_inner(
        &mut self,
        page: PageId,
        f: Frame,
        width: f32,
        fill: Option<f32>,
    ) -> Result<(), RenderError> {
        finite("box", &[f.x, f.y, f.w, f.h, width])?;
        let m = Mark::Rect {
            x: f.x * PT_PER_MM,
            y: self.y_pt(f.bottom()),
            w: f.w * PT_PER_MM,
            h: f.h * PT_PER_MM,
            width,
            fill,
        };
        self.page_mut(page)?.marks.push(m);
        Ok(())
    }

    /// Draws a table: outline, row and cell rules, each cell's text fitted into
    /// its cell. Returns the table's bottom edge (mm).
    pub fn table(&mut self, page: PageId, table: &Table) -> Result<f32, RenderError> {
        let total_w: f32 = table.columns.iter().sum();
        let mut y = table.y;
        for row in &table.rows {
            let span_total: usize = row.cells.iter().map(|c| c.span.max(1)).sum();
            if span_total != table.columns.len() {
                return Err(RenderError::Invalid(format!(
                    "table row spans {span_total} columns, table has {}",
                    table.columns.len()
                )));
            }
            let mut col = 0;
            let mut x = table.x;
            for (ci, cell) in row.cells.iter().enumerate() {
                let span = cell.span.max(1);
                let w: f32 = table.columns[col..col + span].iter().sum();
                if ci > 0 && table.border > 0.0 {
                    self.vline(page, x, y, y + row.height, table.border)?;
                }
                if !cell.text.is_empty() {
                    self.text_box(
                        page,
                        &cell.field,
                        Frame::new(x, y, w, row.height),
                        &cell.text,
                        &cell.style,
                    )?;
                }
                x += w;
                col += span;
            }
            y += row.height;
            if table.border > 0.0 && y < table.y + table.height() - 1e-3 {
                self.hline(page, table.x, table.x + total_w, y, table.border)?;
            }
        }
        if table.border > 0.0 {
            self.rect(
                page,
                Frame::new(table.x, table.y, total_w, y - table.y),
                table.border,
            )?;
        }
        Ok(y)
    }

    /// Places `image` in `frame` (its exact size in mm, e.g. a seal's true size).
    /// An official seal larger than 25 mm on either side is refused.
    pub fn image(
        &mut self,
        page: PageId,
        image: &PreparedImage,
        frame: Frame,
    ) -> Result<(), RenderError> {
        finite("image", &[frame.x, frame.y, frame.w, frame.h])?;
        if frame.w <= 0.0 || frame.h <= 0.0 {
            return Err(RenderError::Image {
                name: image.name().to_owned(),
                reason: format!("size {}×{} mm", frame.w, frame.h),
            });
        }
        if image.role() == ImageRole::OfficialSeal
            && (frame.w > OFFICIAL_SEAL_MAX_MM + 1e-3 || frame.h > OFFICIAL_SEAL_MAX_MM + 1e-3)
        {
            return Err(RenderError::Image {
                name: image.name().to_owned(),
                reason: format!(
                    "official seal {}×{} mm exceeds {OFFICIAL_SEAL_MAX_MM} mm",
                    frame.w, frame.h
                ),
            });
        }
        self.page_mut(page)?;
        let index = match self
            .images
            .iter()
            .position(|i| Arc::ptr_eq(i, &image.inner))
        {
            Some(i) => i,
            None => {
                self.images.push(Arc::clone(&image.inner));
                self.images.len() - 1
            }
        };
        let m = Mark::Image {
            index,
            x: frame.x * PT_PER_MM,
            y: self.y_pt(frame.bottom()),
            w: frame.w * PT_PER_MM,
            h: frame.h * PT_PER_MM,
        };
        self.page_mut(page)?.marks.push(m);
        Ok(())
    }

    /// Calls `footer(layout, page, index, total)` for every page once the content is
    /// complete, so page numbers and 発行番号 can say "i/n".
    pub fn each_page(
        &mut self,
        mut footer: impl FnMut(&mut Self, PageId, usize, usize) -> Result<(), RenderError>,
    ) -> Result<(), RenderError> {
        let total = self.pages.len();
        for i in 0..total {
            footer(self, PageId(i), i + 1, total)?;
        }
        Ok(())
    }

    /// Writes the PDF. Deterministic: the same layout calls give the same bytes.
    pub fn finish(self, meta: &DocMeta) -> Result<Vec<u8>, RenderError> {
        if self.pages.is_empty() {
            return Err(RenderError::Invalid("document has no pages".into()));
        }
        pdf::write(&self, meta)
    }
}

/// Finds size and line breaks for `s` in `frame`: the single line at the nominal
/// size, else the single line shrunk to the floor, else wrapped at the largest size
/// whose lines fit the height. `None` if nothing fits.
fn fit_shaped(
    s: &Shaped<'_>,
    frame: Frame,
    style: &TextStyle,
) -> Option<(f32, Vec<std::ops::Range<usize>>)> {
    let inner_w = frame.w - 2.0 * style.pad_x;
    let inner_h = frame.h - 2.0 * style.pad_y;
    if inner_w <= 0.0 || inner_h <= 0.0 {
        return None;
    }
    let all = 0..s.glyphs.len();
    let height_ok = |size: f32, n: usize| {
        let size_mm = size / PT_PER_MM;
        size_mm * (1.0 + (n as f32 - 1.0) * style.leading) <= inner_h + 1e-3
    };
    if !s.has_newline() {
        let width_em = s.width(all.clone());
        let fit_size = if width_em > 0.0 {
            inner_w * PT_PER_MM / width_em
        } else {
            f32::INFINITY
        };
        let mut size = style.size.min(fit_size);
        if size < style.size {
            // Round down to a tenth of a point: stable output, never a hair too wide.
            size = (size * 10.0).floor() / 10.0;
        }
        let size = size.min(inner_h * PT_PER_MM);
        if size >= style.min_size - 1e-4 && height_ok(size, 1) {
            return Some((size, vec![all]));
        }
    }
    let mut size = style.size;
    loop {
        if let Some(lines) = s.wrap(inner_w * PT_PER_MM / size)
            && height_ok(size, lines.len())
        {
            return Some((size, lines));
        }
        if size <= style.min_size + 1e-4 {
            return None;
        }
        size = (size - SHRINK_STEP_PT).max(style.min_size);
    }
}

/// A table of fixed-height rows; columns widths in mm.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Left edge, mm.
    pub x: f32,
    /// Top edge, mm.
    pub y: f32,
    /// Column widths, mm.
    pub columns: Vec<f32>,
    /// Rule width, pt (0 draws no rules).
    pub border: f32,
    /// Rows, top to bottom.
    pub rows: Vec<Row>,
}

impl Table {
    /// Total height of the rows, mm.
    pub fn height(&self) -> f32 {
        self.rows.iter().map(|r| r.height).sum()
    }
}

/// One table row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Height, mm.
    pub height: f32,
    /// Cells, left to right; their spans must add up to the column count.
    pub cells: Vec<Cell>,
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Field name reported by errors.
    pub field: String,
    /// The value (may be empty).
    pub text: String,
    /// How it is set.
    pub style: TextStyle,
    /// Columns covered (≥ 1).
    pub span: usize,
}

impl Cell {
    /// A one-column cell.
    pub fn new(field: impl Into<String>, text: impl Into<String>, style: TextStyle) -> Self {
        Self {
            field: field.into(),
            text: text.into(),
            style,
            span: 1,
        }
    }

    /// Makes the cell cover `span` columns.
    pub fn span(mut self, span: usize) -> Self {
        self.span = span;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{BreakClass, Glyph};

    fn fake(text: &str) -> Shaped<'_> {
        let glyphs = text
            .char_indices()
            .map(|(i, c)| Glyph {
                face: FontFace::Mincho,
                gid: 1,
                adv: 1.0,
                range: i..i + c.len_utf8(),
                class: BreakClass::Normal,
            })
            .collect();
        Shaped { text, glyphs }
    }

    fn style() -> TextStyle {
        TextStyle::new(FontFace::Mincho, 10.0)
            .min(6.0)
            .pad(0.0, 0.0)
    }

    #[test]
    fn fits_at_nominal_size() {
        // 10 glyphs at 10 pt = 100 pt ≈ 35.3 mm.
        let (size, lines) = fit_shaped(
            &fake("あいうえおかきくけこ"),
            Frame::new(0.0, 0.0, 40.0, 5.0),
            &style(),
        )
        .unwrap();
        assert_eq!((size, lines.len()), (10.0, 1));
    }

    #[test]
    fn shrinks_before_wrapping() {
        // 30 mm for 35.3 mm of text: shrinks to ~8.5 pt, still one line.
        let (size, lines) = fit_shaped(
            &fake("あいうえおかきくけこ"),
            Frame::new(0.0, 0.0, 30.0, 5.0),
            &style(),
        )
        .unwrap();
        assert_eq!(lines.len(), 1);
        assert!((6.0..10.0).contains(&size), "{size}");
    }

    #[test]
    fn wraps_below_floor_then_overflows() {
        let text = "あいうえおかきくけこさしすせそたちつてと";
        // 20 glyphs in 30 mm: floor 6 pt gives 42 mm — too wide; two lines fit in 10 mm.
        let (size, lines) =
            fit_shaped(&fake(text), Frame::new(0.0, 0.0, 30.0, 10.0), &style()).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(size >= 6.0);
        // Only 3 mm high: no wrap fits, no size fits.
        assert!(fit_shaped(&fake(text), Frame::new(0.0, 0.0, 30.0, 3.0), &style()).is_none());
    }

    #[test]
    fn cid_table_separates_texts_sharing_a_glyph() {
        let mut t = CidTable::default();
        let a = t.cid(7, "葛", 1.0).unwrap();
        let b = t.cid(7, "葛\u{E0100}", 1.0).unwrap();
        let c = t.cid(7, "葛", 1.0).unwrap();
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_eq!(t.entries.len(), 2);
    }
}
