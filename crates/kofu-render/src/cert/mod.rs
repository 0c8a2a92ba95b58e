//! Certificates: a [`CertificateDocument`] model composed from domain data and the
//! requester's options (one module per kind), and [`render`], which lays any of
//! them out on A4 pages.
//!
//! Composition decides *what* is stated (which items, in which date style, which
//! 認証文, who certifies); rendering decides *where*. Keeping them apart lets tests
//! check the item list of a certificate without a PDF, and guarantees the counter
//! and the kiosk get the same body: both call the same composer and the same
//! renderer.

pub mod fuhyo;
pub mod inkan;
pub mod juminhyo;
pub mod kisai_jiko;
pub mod koseki;
pub mod shotoku_kazei;

use kofu_domain::wareki::{DateStyle, format_date};
use kofu_domain::{CertificateKind, Date, IssueNumber, Municipality, TimeOfDay};

use crate::error::RenderError;
use crate::fonts::{FontBook, FontFace};
use crate::image::PreparedImage;
use crate::layout::{Align, Cell, DocMeta, Frame, Layout, PageId, Row, Table, TextStyle, VAlign};

/// How a value is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueStyle {
    /// Ordinary text (IPAex明朝).
    Text,
    /// A personal name (IPAmj明朝, variation sequences honoured).
    Name,
    /// An amount, right-aligned.
    Amount,
}

/// One stated item: a label and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable field path (`members[1].birth_date`), named by errors and tests.
    pub field: String,
    /// The printed label (住所, 氏名…).
    pub label: String,
    /// The printed value.
    pub value: String,
    /// How the value is set.
    pub style: ValueStyle,
}

impl Item {
    /// A text item.
    pub fn text(field: impl Into<String>, label: &str, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            label: label.to_owned(),
            value: value.into(),
            style: ValueStyle::Text,
        }
    }

    /// A name item (set in IPAmj明朝).
    pub fn name(field: impl Into<String>, label: &str, value: impl Into<String>) -> Self {
        Self {
            style: ValueStyle::Name,
            ..Self::text(field, label, value)
        }
    }

    /// An amount item (right-aligned).
    pub fn amount(field: impl Into<String>, label: &str, value: impl Into<String>) -> Self {
        Self {
            style: ValueStyle::Amount,
            ..Self::text(field, label, value)
        }
    }
}

/// A block kept together where it fits (one person, one 身分事項 group…).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// Optional heading row (e.g. 戸籍に記録されている者).
    pub title: Option<String>,
    /// Rows of one or two items.
    pub rows: Vec<Vec<Item>>,
}

/// Whom the certificate is about; printed on every page and recorded in every
/// page's binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Stable identifier (resident id, 戸籍 id + member…).
    pub id: String,
    /// How the subject is introduced (氏名, 世帯主, 筆頭者).
    pub label: String,
    /// The subject's name.
    pub name: String,
}

/// The registered 印影 printed at its true size.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Label of the box (印影).
    pub label: String,
    /// The image.
    pub image: PreparedImage,
    /// Side of the impression in mm.
    pub size_mm: f32,
}

/// Elements every certificate carries.
#[derive(Debug, Clone)]
pub struct FixedElements {
    /// 認証文, on the last page.
    pub certification: String,
    /// Issue date in 和暦.
    pub issue_date: String,
    /// Certifier's title (見本市長, 見本市長職務代理者).
    pub certifier_title: String,
    /// Certifier's name.
    pub certifier_name: String,
    /// The 電子公印; `None` only when 公印省略 was requested (公用).
    pub official_seal: Option<PreparedImage>,
    /// 発行番号 (page numbers are added per page).
    pub issue_number: IssueNumber,
}

/// A certificate ready to render.
#[derive(Debug, Clone)]
pub struct CertificateDocument {
    /// Which certificate.
    pub kind: CertificateKind,
    /// The request this copy answers (bound into every page).
    pub request_id: String,
    /// Whom it is about.
    pub subject: Subject,
    /// Items stated once at the top (住所, 世帯主, 本籍…).
    pub heading: Vec<Vec<Item>>,
    /// The 印影 (印鑑登録証明書 only).
    pub picture: Option<Picture>,
    /// Per-person or per-topic blocks.
    pub sections: Vec<Section>,
    /// 認証文, date, certifier, seal, 発行番号.
    pub fixed: FixedElements,
}

impl CertificateDocument {
    /// Every item, heading first, in printed order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.heading
            .iter()
            .flatten()
            .chain(self.sections.iter().flat_map(|s| s.rows.iter().flatten()))
    }
}

/// What composition needs besides the records: the town, the date, the number.
#[derive(Debug, Clone)]
pub struct IssueContext<'a> {
    /// The issuing municipality (certifier, deputies).
    pub municipality: &'a Municipality,
    /// Issue date (JST); decides the 和暦 and the certifier.
    pub issue_date: Date,
    /// 発行番号 of this copy.
    pub issue_number: IssueNumber,
    /// Request id, bound into every page.
    pub request_id: String,
    /// The prepared 電子公印 (prepare once with [`official_seal`]).
    pub official_seal: Option<PreparedImage>,
    /// 公印省略 (公用 requests only; the domain checks who may ask).
    pub omit_seal: bool,
}

impl IssueContext<'_> {
    /// The fixed elements for a certificate with this 認証文.
    pub(crate) fn fixed(&self, certification: &str) -> Result<FixedElements, RenderError> {
        let certifier = self.municipality.certifier_on(self.issue_date);
        let official_seal = if self.omit_seal {
            None
        } else {
            // Never a certificate without its seal by accident (cf. DOMAIN §5).
            Some(self.official_seal.clone().ok_or_else(|| {
                RenderError::Invalid(
                    "official seal image missing and 公印省略 not requested".into(),
                )
            })?)
        };
        Ok(FixedElements {
            certification: certification.to_owned(),
            issue_date: wareki(self.issue_date, "issue_date")?,
            certifier_title: certifier.title,
            certifier_name: certifier.name,
            official_seal,
            issue_number: self.issue_number.clone(),
        })
    }
}

/// Decodes and prepares the municipality's 電子公印 (do it once, reuse the image).
pub fn official_seal(m: &Municipality) -> Result<Option<PreparedImage>, RenderError> {
    use base64::Engine as _;
    let Some(b64) = &m.seal_png_base64 else {
        return Ok(None);
    };
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| RenderError::Image {
            name: "official-seal".into(),
            reason: e.to_string(),
        })?;
    PreparedImage::official_seal(&png).map(Some)
}

/// A date in 和暦 (`令和8年5月2日`), or an error naming the field.
pub(crate) fn wareki(d: Date, field: &str) -> Result<String, RenderError> {
    format_date(d, DateStyle::Wareki)
        .map_err(|e| RenderError::Invalid(format!("field `{field}`: {e}")))
}

/// A date in the given style.
pub(crate) fn date_in(d: Date, style: DateStyle, field: &str) -> Result<String, RenderError> {
    format_date(d, style).map_err(|e| RenderError::Invalid(format!("field `{field}`: {e}")))
}

/// `1234567` → `1,234,567円` (negative amounts keep their sign).
pub fn yen(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 2);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push('円');
    out
}

/// Options of one render (no clock: the instant is passed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// When the copy is issued (JST): the PDF's creation date.
    pub issued_at: (Date, TimeOfDay),
}

/// What one page belongs to; returned for every page and written into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageBinding {
    /// 1-based page number.
    pub page: usize,
    /// Page count.
    pub pages: usize,
    /// Request id.
    pub request_id: String,
    /// Subject id.
    pub subject_id: String,
    /// 発行番号 as printed on the page (with `i/n`).
    pub issue_number: String,
}

impl PageBinding {
    /// The string stored in the page dictionary (`/KofuBinding`).
    pub fn encode(&self) -> String {
        format!(
            "kofu-binding/1|{}|{}|{}/{}|{}",
            self.request_id, self.subject_id, self.page, self.pages, self.issue_number
        )
    }
}

/// A rendered certificate.
#[derive(Debug, Clone)]
pub struct RenderedPdf {
    /// The PDF.
    pub bytes: Vec<u8>,
    /// Number of pages.
    pub pages: usize,
    /// Binding of each page, in order.
    pub page_subjects: Vec<PageBinding>,
}

// Page geometry (mm). Everything else is derived from these.
const LEFT: f32 = 20.0;
const WIDTH: f32 = 170.0;
const LABEL_W: f32 = 32.0;
const ROW_H: f32 = 7.5;
const SECTION_TITLE_H: f32 = 7.0;
const SECTION_GAP: f32 = 3.0;
const CONTENT_TOP: f32 = 36.0;
const CONTENT_BOTTOM: f32 = 274.0;
const FIXED_H: f32 = 52.0;
const RULE: f32 = 0.5;
const SEAL_MM: f32 = 21.0;
/// Blocks up to this height (mm) are never split across pages.
const KEEP_TOGETHER_MAX: f32 = 90.0;

fn label_style() -> TextStyle {
    TextStyle::new(FontFace::Gothic, 9.0)
        .min(6.0)
        .align(Align::Distribute)
        .pad(1.5, 0.4)
}

fn value_style(style: ValueStyle) -> TextStyle {
    match style {
        ValueStyle::Text => TextStyle::new(FontFace::Mincho, 10.0)
            .min(6.5)
            .pad(1.5, 0.4),
        ValueStyle::Name => TextStyle::new(FontFace::NameMincho, 11.0)
            .min(7.0)
            .pad(1.5, 0.4),
        ValueStyle::Amount => TextStyle::new(FontFace::Mincho, 10.0)
            .min(6.5)
            .align(Align::Right)
            .pad(2.0, 0.4),
    }
}

fn row_table(y: f32, rows: &[Vec<Item>]) -> Result<Table, RenderError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut columns = None;
    for items in rows {
        let cells = match items.as_slice() {
            [a] => vec![
                Cell::new(format!("{}.label", a.field), &a.label, label_style()),
                Cell::new(&a.field, &a.value, value_style(a.style)).span(3),
            ],
            [a, b] => vec![
                Cell::new(format!("{}.label", a.field), &a.label, label_style()),
                Cell::new(&a.field, &a.value, value_style(a.style)),
                Cell::new(format!("{}.label", b.field), &b.label, label_style()),
                Cell::new(&b.field, &b.value, value_style(b.style)),
            ],
            _ => {
                return Err(RenderError::Invalid(
                    "a certificate row holds one or two items".into(),
                ));
            }
        };
        let half = (WIDTH - 2.0 * LABEL_W) / 2.0;
        columns.get_or_insert(vec![LABEL_W, half, LABEL_W, half]);
        out.push(Row {
            height: ROW_H,
            cells,
        });
    }
    Ok(Table {
        x: LEFT,
        y,
        columns: columns.unwrap_or_else(|| vec![LABEL_W, WIDTH - LABEL_W]),
        border: RULE,
        rows: out,
    })
}

/// Height of a block in mm.
fn block_height(title: Option<&str>, rows: &[Vec<Item>]) -> f32 {
    let title_h = if title.is_some() {
        SECTION_TITLE_H
    } else {
        0.0
    };
    title_h + rows.len() as f32 * ROW_H
}

/// Places a block of rows, starting new pages as needed; returns the new cursor.
fn place_rows(
    l: &mut Layout<'_>,
    page: &mut PageId,
    y: &mut f32,
    title: Option<&str>,
    rows: &[Vec<Item>],
) -> Result<(), RenderError> {
    let whole = block_height(title, rows);
    // A short block (one resident) is kept together on one page; a long one (a
    // 戸籍 member's 身分事項) flows on, continued under a 「（続き）」 heading.
    if *y + whole > CONTENT_BOTTOM && whole <= KEEP_TOGETHER_MAX {
        *page = l.new_page();
        *y = CONTENT_TOP;
    }
    let title_h = if title.is_some() {
        SECTION_TITLE_H
    } else {
        0.0
    };
    let mut rest = rows;
    let mut first = true;
    loop {
        let mut top = *y;
        if let Some(t) = title {
            if *y + title_h + ROW_H > CONTENT_BOTTOM {
                *page = l.new_page();
                *y = CONTENT_TOP;
                top = *y;
            }
            let caption = if first {
                t.to_owned()
            } else {
                format!("{t}（続き）")
            };
            l.fill(*page, Frame::new(LEFT, top, WIDTH, title_h), 0.9)?;
            l.rect(*page, Frame::new(LEFT, top, WIDTH, title_h), RULE)?;
            l.text_box(
                *page,
                "section.title",
                Frame::new(LEFT, top, WIDTH, title_h),
                &caption,
                &TextStyle::new(FontFace::Gothic, 9.5).min(7.0).pad(2.0, 0.4),
            )?;
            top += title_h;
        }
        let fit = (((CONTENT_BOTTOM - top) / ROW_H).floor().max(0.0) as usize).min(rest.len());
        let (now, later) = rest.split_at(fit);
        if !now.is_empty() {
            let bottom = l.table(*page, &row_table(top, now)?)?;
            *y = bottom;
        } else {
            *y = top;
        }
        if later.is_empty() {
            return Ok(());
        }
        if fit == 0 && top <= CONTENT_TOP + title_h + 1e-3 {
            return Err(RenderError::Invalid("row taller than a page".into()));
        }
        rest = later;
        first = false;
        *page = l.new_page();
        *y = CONTENT_TOP;
    }
}

/// Lays out `doc` on A4 pages. Pure: no IO, no clock; same inputs, same bytes.
pub fn render(
    doc: &CertificateDocument,
    book: &FontBook,
    opts: &RenderOptions,
) -> Result<RenderedPdf, RenderError> {
    let mut l = Layout::new(book)?;
    let mut page = l.new_page();
    let mut y = CONTENT_TOP;

    if !doc.heading.is_empty() {
        place_rows(&mut l, &mut page, &mut y, None, &doc.heading)?;
        y += SECTION_GAP;
    }
    if let Some(p) = &doc.picture {
        let box_h = p.size_mm + 8.0;
        if y + box_h > CONTENT_BOTTOM {
            page = l.new_page();
            y = CONTENT_TOP;
        }
        let f = Frame::new(LEFT, y, WIDTH, box_h);
        l.rect(page, f, RULE)?;
        l.vline(page, LEFT + LABEL_W, y, y + box_h, RULE)?;
        l.text_box(
            page,
            "picture.label",
            Frame::new(LEFT, y, LABEL_W, box_h),
            &p.label,
            &label_style(),
        )?;
        let x = LEFT + LABEL_W + 10.0;
        l.image(page, &p.image, Frame::new(x, y + 4.0, p.size_mm, p.size_mm))?;
        y += box_h + SECTION_GAP;
    }
    for (i, s) in doc.sections.iter().enumerate() {
        // The last block goes with the 認証文 onto the same page when the two fit a
        // page together: a last page holding nothing but the 認証文 and the seal
        // would be too easy to attach to another certificate.
        let whole = block_height(s.title.as_deref(), &s.rows);
        if i + 1 == doc.sections.len()
            && whole <= KEEP_TOGETHER_MAX
            && y + whole + SECTION_GAP + FIXED_H > CONTENT_BOTTOM + 8.0
            && CONTENT_TOP + whole + SECTION_GAP + FIXED_H <= CONTENT_BOTTOM + 8.0
            && y > CONTENT_TOP
        {
            page = l.new_page();
            y = CONTENT_TOP;
        }
        place_rows(&mut l, &mut page, &mut y, s.title.as_deref(), &s.rows)?;
        y += SECTION_GAP;
    }

    // 以下余白 closes the body so nothing can be added below it.
    if y + FIXED_H > CONTENT_BOTTOM + 8.0 {
        page = l.new_page();
        y = CONTENT_TOP;
    }
    let f = &doc.fixed;
    let body = TextStyle::new(FontFace::Mincho, 10.5)
        .min(7.0)
        .pad(0.0, 0.0);
    l.text_box(
        page,
        "yohaku",
        Frame::new(LEFT, y, WIDTH, 6.0),
        "以下余白",
        &body.clone().align(Align::Right),
    )?;
    y += 10.0;
    l.text_box(
        page,
        "certification",
        Frame::new(LEFT + 5.0, y, WIDTH - 5.0, 12.0),
        &f.certification,
        &body,
    )?;
    y += 14.0;
    l.text_box(
        page,
        "issue_date",
        Frame::new(LEFT + 5.0, y, 80.0, 7.0),
        &f.issue_date,
        &body,
    )?;
    y += 9.0;
    let certifier = format!("{}　{}", f.certifier_title, f.certifier_name);
    l.text_box(
        page,
        "certifier",
        Frame::new(LEFT + 60.0, y, 95.0, 10.0),
        &certifier,
        &TextStyle::new(FontFace::NameMincho, 13.0)
            .min(9.0)
            .pad(0.0, 0.0)
            .align(Align::Right),
    )?;
    if let Some(seal) = &f.official_seal {
        // Over the end of the certifier's name, as a stamp is placed.
        l.image(
            page,
            seal,
            Frame::new(LEFT + WIDTH - SEAL_MM + 5.0, y - 6.0, SEAL_MM, SEAL_MM),
        )?;
    }

    // Per page: title, subject, page number, 発行番号, binding.
    let mut bindings = Vec::new();
    let title = doc.kind.title();
    let subject_line = format!("{}　{}", doc.subject.label, doc.subject.name);
    l.each_page(|l, p, i, n| {
        l.text_box(
            p,
            "title",
            Frame::new(LEFT, 12.0, WIDTH, 12.0),
            title,
            &TextStyle::new(FontFace::Gothic, 18.0)
                .min(12.0)
                .align(Align::Center)
                .pad(0.0, 0.0),
        )?;
        l.text_box(
            p,
            "subject",
            Frame::new(LEFT, 26.0, WIDTH - 30.0, 7.0),
            &subject_line,
            &TextStyle::new(FontFace::NameMincho, 10.0)
                .min(7.0)
                .pad(0.0, 0.0),
        )?;
        l.text_box(
            p,
            "page",
            Frame::new(LEFT + WIDTH - 30.0, 26.0, 30.0, 7.0),
            &format!("{i}/{n}"),
            &TextStyle::new(FontFace::Mincho, 10.0)
                .pad(0.0, 0.0)
                .align(Align::Right),
        )?;
        let number = f.issue_number.on_page(i as u32, n as u32);
        l.hline(p, LEFT, LEFT + WIDTH, 280.0, 0.3)?;
        l.text_box(
            p,
            "issue_number",
            Frame::new(LEFT, 281.0, WIDTH, 6.0),
            &format!("発行番号　{number}"),
            &TextStyle::new(FontFace::Mincho, 8.5)
                .min(6.0)
                .pad(0.0, 0.0)
                .valign(VAlign::Top)
                .align(Align::Right),
        )?;
        let b = PageBinding {
            page: i,
            pages: n,
            request_id: doc.request_id.clone(),
            subject_id: doc.subject.id.clone(),
            issue_number: number,
        };
        l.bind_page(p, &b.encode())?;
        bindings.push(b);
        Ok(())
    })?;

    let (d, t) = opts.issued_at;
    let minutes = t.minutes();
    let meta = DocMeta {
        title: title.to_owned(),
        subject: doc.fixed.issue_number.to_string(),
        author: doc.fixed.issue_number.municipality.clone(),
        created: (
            u16::try_from(d.year()).unwrap_or(0),
            d.month(),
            d.day(),
            u8::try_from(minutes / 60).unwrap_or(0),
            u8::try_from(minutes % 60).unwrap_or(0),
            0,
        ),
    };
    let pages = l.page_count();
    let bytes = l.finish(&meta)?;
    Ok(RenderedPdf {
        bytes,
        pages,
        page_subjects: bindings,
    })
}

/// Reads the `/KofuBinding` of every page of `pdf` and checks that all pages belong
/// to `request_id` and `subject_id`, numbered 1..n without gaps, in the order of the
/// page tree (the order a viewer or printer follows). Returns the page count. Run it
/// before releasing a print job.
pub fn check_bindings(
    pdf: &[u8],
    request_id: &str,
    subject_id: &str,
) -> Result<usize, RenderError> {
    let pages = crate::page_tree::page_bindings(pdf).map_err(RenderError::Pdf)?;
    let n = pages.len();
    if n == 0 {
        return Err(RenderError::Invalid("the document has no pages".into()));
    }
    for (i, raw) in pages.iter().enumerate() {
        let raw = raw
            .as_deref()
            .ok_or_else(|| RenderError::Invalid(format!("page {} has no binding", i + 1)))?;
        let units: Vec<u16> = raw
            .strip_prefix(&[0xFE, 0xFF])
            .unwrap_or(raw)
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        let s = String::from_utf16(&units)
            .map_err(|_| RenderError::Invalid(format!("page {} binding unreadable", i + 1)))?;
        let mut parts = s.split('|');
        let ok = parts.next() == Some("kofu-binding/1")
            && parts.next() == Some(request_id)
            && parts.next() == Some(subject_id)
            && parts.next() == Some(format!("{}/{n}", i + 1).as_str());
        if !ok {
            return Err(RenderError::Invalid(format!(
                "page {} belongs to another request or subject: {s}",
                i + 1
            )));
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "0円");
        assert_eq!(yen(999), "999円");
        assert_eq!(yen(1000), "1,000円");
        assert_eq!(yen(3_660_000), "3,660,000円");
        assert_eq!(yen(-1_234_567), "-1,234,567円");
    }

    #[test]
    fn binding_encodes_all_parts() {
        let b = PageBinding {
            page: 2,
            pages: 3,
            request_id: "r".into(),
            subject_id: "s".into(),
            issue_number: "n 2/3".into(),
        };
        assert_eq!(b.encode(), "kofu-binding/1|r|s|2/3|n 2/3");
    }
}
