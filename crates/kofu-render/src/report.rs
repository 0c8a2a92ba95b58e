//! Office reports: a small model of an A4 report ([`ReportDocument`]: key figures,
//! horizontal bar charts, tables) and [`render_report`], which lays it out on as many
//! A4 portrait pages as it needs through the same [`Layout`] engine, glyph
//! resolution and font subsetting as the certificates.
//!
//! A report is not a certificate, so its rules are an office document's:
//! - everything is set in IPAexゴシック (its fallback chain still reaches IPAmj明朝 for
//!   registered names);
//! - a value too long for its cell wraps onto a second line and is then cut with
//!   「…」 (a certificate would refuse it instead); a character no font has is
//!   printed as 〓 (ゲタ) rather than failing the whole report;
//! - tables break across pages with their title (marked as continued) and header
//!   row repeated; charts too long for a page break the same way;
//! - every page carries the running title, the footer and its page label.
//!
//! Pure like the rest of the crate: the labels, the figures and the generation time
//! all come in through the document, so the same document gives the same bytes.

use crate::error::RenderError;
use crate::fonts::{FontBook, FontFace};
use crate::layout::{Align, Cell, DocMeta, Frame, Layout, PageId, Row, Table, TextStyle};

/// A report ready to be rendered: every string already in the reader's language.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportDocument {
    /// The heading on the first page (e.g. 「交付日報 2026-05-07」).
    pub title: String,
    /// The line under the heading (e.g. when the report was generated).
    pub subtitle: String,
    /// The document's `/Title` and the running header of every page.
    pub meta_title: String,
    /// Key figures, as (label, value) pairs, set two to a row under the heading.
    pub figures: Vec<(String, String)>,
    /// Horizontal bar charts, in order, after the figures.
    pub charts: Vec<ReportChart>,
    /// Tables, in order, after the charts.
    pub tables: Vec<ReportTable>,
    /// Text at the foot of every page (left).
    pub footer: String,
    /// The page label at the foot of every page (right): `{page}` and `{pages}` are
    /// replaced by the page number and the page count.
    pub page_label: String,
    /// How the title of a chart or table continued from the previous page is shown:
    /// `{title}` is replaced by the title (e.g. `{title}（続き）`).
    pub continued: String,
    /// When the report was generated, (year, month, day, hour, minute, second) in
    /// JST: the PDF's creation date.
    pub generated_at: (u16, u8, u8, u8, u8, u8),
}

/// A horizontal bar chart: one bar per (label, value), scaled to the largest value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportChart {
    /// The chart's caption.
    pub title: String,
    /// The bars, top to bottom. A value below zero is drawn as no bar.
    pub bars: Vec<(String, i64)>,
}

/// A table with a header row; column widths follow the content.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportTable {
    /// The table's caption.
    pub title: String,
    /// The column headers.
    pub columns: Vec<String>,
    /// The rows, each with exactly one cell per column.
    pub rows: Vec<Vec<String>>,
    /// What the table says when it has no rows (e.g. 「該当なし」).
    pub empty: String,
}

const LEFT: f32 = 18.0;
const WIDTH: f32 = 174.0;
/// Top of the content on every page but the first (below the running header).
const CONTENT_TOP: f32 = 20.0;
/// Bottom of the content (above the footer).
const CONTENT_BOTTOM: f32 = 280.0;
const RULE: f32 = 0.4;
const HAIRLINE: f32 = 0.25;
const CAPTION_H: f32 = 6.5;
const BLOCK_GAP: f32 = 4.0;
/// Table and figure rows: one line, or two lines of a wrapped value.
const ROW_1: f32 = 5.2;
const ROW_2: f32 = 8.2;
const CELL_PT: f32 = 8.0;
const CELL_MIN_PT: f32 = 6.5;
/// No column is narrower than this (room for 「…」 and a digit or two).
const MIN_COLUMN: f32 = 12.0;
/// No column asks for more than this before the others are served.
const MAX_NATURAL: f32 = 90.0;
const BAR_H: f32 = 4.6;
const BAR_LABEL_W: f32 = 40.0;
const BAR_VALUE_W: f32 = 18.0;
const FIGURE_LABEL_W: f32 = 42.0;
/// What a character no font has is printed as.
const GETA: &str = "〓";
const ELLIPSIS: &str = "…";

fn cell_style() -> TextStyle {
    TextStyle::new(FontFace::Gothic, CELL_PT)
        .min(CELL_MIN_PT)
        .pad(1.2, 0.6)
}

fn caption_style() -> TextStyle {
    TextStyle::new(FontFace::Gothic, 9.5).min(7.0).pad(2.0, 0.4)
}

/// A rendered report: the PDF and how many pages it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    /// The PDF file.
    pub bytes: Vec<u8>,
    /// Its page count.
    pub pages: usize,
}

/// Renders `doc` to a PDF on A4 portrait pages, as many as the content needs.
///
/// Deterministic: the same document and fonts give the same bytes (the document ID
/// is derived from the content, the dates from [`ReportDocument::generated_at`]).
/// Fails with [`RenderError::Invalid`] for a table whose rows do not match its
/// columns or that has more columns than a page can hold.
pub fn render_report(
    doc: &ReportDocument,
    fonts: &FontBook,
) -> Result<RenderedReport, RenderError> {
    let mut l = Layout::new(fonts)?;
    let mut page = l.new_page();

    let title = printable(&l, "report.title", &doc.title)?;
    l.text_box(
        page,
        "report.title",
        Frame::new(LEFT, CONTENT_TOP, WIDTH, 10.0),
        &title,
        &TextStyle::new(FontFace::Gothic, 16.0)
            .min(10.0)
            .pad(0.0, 0.0),
    )?;
    let subtitle = printable(&l, "report.subtitle", &doc.subtitle)?;
    l.text_box(
        page,
        "report.subtitle",
        Frame::new(LEFT, CONTENT_TOP + 10.5, WIDTH, 5.5),
        &subtitle,
        &TextStyle::new(FontFace::Gothic, 9.0).min(6.5).pad(0.0, 0.0),
    )?;
    let mut y = CONTENT_TOP + 19.0;

    let mut cursor = Cursor {
        page: &mut page,
        y: &mut y,
    };
    if !doc.figures.is_empty() {
        place_figures(&mut l, &mut cursor, &doc.figures)?;
    }
    for (i, chart) in doc.charts.iter().enumerate() {
        place_chart(&mut l, &mut cursor, doc, i, chart)?;
    }
    for (i, table) in doc.tables.iter().enumerate() {
        place_table(&mut l, &mut cursor, doc, i, table)?;
    }

    let header = printable(&l, "report.meta_title", &doc.meta_title)?;
    let footer = printable(&l, "report.footer", &doc.footer)?;
    l.each_page(|l, p, i, n| {
        let small = TextStyle::new(FontFace::Gothic, 7.5).min(6.0).pad(0.0, 0.0);
        l.text_box(
            p,
            "report.header",
            Frame::new(LEFT, 9.0, WIDTH, 5.0),
            &header,
            &small,
        )?;
        l.hline(p, LEFT, LEFT + WIDTH, 15.0, HAIRLINE)?;
        l.hline(p, LEFT, LEFT + WIDTH, 284.0, HAIRLINE)?;
        let label = doc
            .page_label
            .replace("{page}", &i.to_string())
            .replace("{pages}", &n.to_string());
        let label = printable(l, "report.page_label", &label)?;
        let label_w = l
            .measure("report.page_label", &label, FontFace::Gothic, 7.5)?
            .clamp(10.0, 60.0)
            + 2.0;
        l.text_box(
            p,
            "report.footer",
            Frame::new(LEFT, 285.0, WIDTH - label_w, 5.0),
            &footer,
            &small,
        )?;
        l.text_box(
            p,
            "report.page_label",
            Frame::new(LEFT + WIDTH - label_w, 285.0, label_w, 5.0),
            &label,
            &small.clone().align(Align::Right),
        )?;
        Ok(())
    })?;

    let pages = l.page_count();
    let bytes = l.finish(&DocMeta {
        title: doc.meta_title.clone(),
        subject: doc.title.clone(),
        author: String::new(),
        created: doc.generated_at,
    })?;
    Ok(RenderedReport { bytes, pages })
}

/// Where the next block goes.
struct Cursor<'a> {
    page: &'a mut PageId,
    y: &'a mut f32,
}

impl Cursor<'_> {
    fn new_page(&mut self, l: &mut Layout<'_>) {
        *self.page = l.new_page();
        *self.y = CONTENT_TOP;
    }

    /// Starts a new page unless `need` mm still fit below the cursor.
    fn ensure(&mut self, l: &mut Layout<'_>, need: f32) {
        if *self.y + need > CONTENT_BOTTOM && *self.y > CONTENT_TOP {
            self.new_page(l);
        }
    }
}

/// `text` as it can be printed: control characters become spaces, and every
/// character (or variation sequence) no font has becomes 〓.
fn printable(l: &Layout<'_>, field: &str, text: &str) -> Result<String, RenderError> {
    let mut s: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // Each round replaces one distinct missing sequence, so this ends.
    for _ in 0..=s.chars().count() {
        match l.measure(field, &s, FontFace::Gothic, CELL_PT) {
            Ok(_) => return Ok(s),
            Err(RenderError::MissingGlyph { ch, .. }) if ch != GETA => {
                s = s.replace(&ch, GETA);
            }
            Err(e) => return Err(e),
        }
    }
    Err(RenderError::Invalid(format!(
        "field `{field}`: cannot make the text printable"
    )))
}

/// The text of a cell `w` mm wide as it will be set (made printable, cut with 「…」
/// if it does not fit two lines) and the row height it needs.
fn fit_cell(
    l: &Layout<'_>,
    field: &str,
    text: &str,
    w: f32,
    style: &TextStyle,
) -> Result<(String, f32), RenderError> {
    let text = printable(l, field, text)?;
    if text.trim().is_empty() {
        return Ok((String::new(), ROW_1));
    }
    let fits = |t: &str, h: f32| match l.fit(field, Frame::new(0.0, 0.0, w, h), t, style) {
        Ok(_) => Ok(true),
        Err(RenderError::Overflow { .. }) => Ok(false),
        Err(e) => Err(e),
    };
    if fits(&text, ROW_1)? {
        return Ok((text, ROW_1));
    }
    if fits(&text, ROW_2)? {
        return Ok((text, ROW_2));
    }
    // Cut points: character boundaries that do not split a variation sequence.
    let cuts: Vec<usize> = text
        .char_indices()
        .filter(|&(_, c)| !crate::text::is_variation_selector(c))
        .map(|(i, _)| i)
        .collect();
    // The longest prefix that fits with 「…」 (cuts[0] = 0: 「…」 alone).
    let (mut lo, mut hi) = (0usize, cuts.len());
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        let candidate = format!("{}{ELLIPSIS}", text[..cuts[mid]].trim_end());
        if fits(&candidate, ROW_2)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let cut = format!("{}{ELLIPSIS}", text[..cuts[lo]].trim_end());
    if fits(&cut, ROW_2)? {
        Ok((cut, ROW_2))
    } else {
        Ok((String::new(), ROW_1))
    }
}

/// Column widths filling `total` mm: each column's natural width (clamped to
/// [`MIN_COLUMN`]) when they all fit, spread proportionally; otherwise the narrow
/// columns keep their width and the wide ones share what is left equally.
fn column_widths(natural: &[f32], total: f32) -> Result<Vec<f32>, RenderError> {
    let n = natural.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    if n as f32 * MIN_COLUMN > total + 1e-3 {
        return Err(RenderError::Invalid(format!(
            "{n} columns do not fit a page of {total} mm"
        )));
    }
    let want: Vec<f32> = natural
        .iter()
        .map(|w| w.clamp(MIN_COLUMN, MAX_NATURAL))
        .collect();
    let sum: f32 = want.iter().sum();
    if sum <= total {
        return Ok(want.iter().map(|w| w * total / sum).collect());
    }
    let mut fixed: Vec<Option<f32>> = vec![None; n];
    let mut remaining = total;
    loop {
        let open = fixed.iter().filter(|f| f.is_none()).count();
        if open == 0 {
            break;
        }
        let share = remaining / open as f32;
        let mut changed = false;
        for (i, w) in want.iter().enumerate() {
            if fixed[i].is_none() && *w <= share {
                fixed[i] = Some(*w);
                remaining -= w;
                changed = true;
            }
        }
        if !changed {
            for f in fixed.iter_mut().filter(|f| f.is_none()) {
                *f = Some(share);
            }
            break;
        }
    }
    Ok(fixed.into_iter().map(|f| f.unwrap_or(MIN_COLUMN)).collect())
}

/// The caption bar of a block at the cursor: a grey band with the title, marked as
/// continued ([`ReportDocument::continued`]) on the block's later pages.
fn caption(
    l: &mut Layout<'_>,
    at: &Cursor<'_>,
    doc: &ReportDocument,
    field: &str,
    title: &str,
    continued: bool,
) -> Result<(), RenderError> {
    let title = match continued {
        false => title.to_owned(),
        true if doc.continued.contains("{title}") => doc.continued.replace("{title}", title),
        true => format!("{title}{}", doc.continued),
    };
    let field = format!("{field}.title");
    let f = Frame::new(LEFT, *at.y, WIDTH, CAPTION_H);
    l.fill(*at.page, f, 0.88)?;
    let text = printable(l, &field, &title)?;
    l.text_box(*at.page, &field, f, &text, &caption_style())?;
    Ok(())
}

/// The figures: two (label, value) pairs to a row, labels on grey.
fn place_figures(
    l: &mut Layout<'_>,
    at: &mut Cursor<'_>,
    figures: &[(String, String)],
) -> Result<(), RenderError> {
    let value_w = WIDTH / 2.0 - FIGURE_LABEL_W;
    let columns = vec![FIGURE_LABEL_W, value_w, FIGURE_LABEL_W, value_w];
    for (r, pair) in figures.chunks(2).enumerate() {
        let mut cells = Vec::with_capacity(4);
        let mut height = ROW_1;
        for (c, (label, value)) in pair.iter().enumerate() {
            let field = format!("report.figures[{}]", r * 2 + c);
            let (label, h1) = fit_cell(l, &field, label, FIGURE_LABEL_W, &cell_style())?;
            let value_style = cell_style().align(Align::Right);
            let (value, h2) = fit_cell(l, &field, value, value_w, &value_style)?;
            height = height.max(h1).max(h2);
            cells.push(Cell::new(format!("{field}.label"), label, cell_style()));
            cells.push(Cell::new(field, value, value_style));
        }
        let span_last = pair.len() == 1;
        if span_last && let Some(last) = cells.pop() {
            cells.push(last.span(3));
        }
        at.ensure(l, height);
        let page = *at.page;
        let y = *at.y;
        l.fill(page, Frame::new(LEFT, y, FIGURE_LABEL_W, height), 0.93)?;
        if !span_last {
            l.fill(
                page,
                Frame::new(LEFT + WIDTH / 2.0, y, FIGURE_LABEL_W, height),
                0.93,
            )?;
        }
        *at.y = l.table(
            page,
            &Table {
                x: LEFT,
                y,
                columns: columns.clone(),
                border: RULE,
                rows: vec![Row { height, cells }],
            },
        )?;
    }
    *at.y += BLOCK_GAP;
    Ok(())
}

/// One chart: caption, then a bar per value with its label on the left and the
/// value after the bar; breaks across pages like a table.
fn place_chart(
    l: &mut Layout<'_>,
    at: &mut Cursor<'_>,
    doc: &ReportDocument,
    index: usize,
    chart: &ReportChart,
) -> Result<(), RenderError> {
    let field = format!("report.charts[{index}]");
    let max = chart.bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let bar_x = LEFT + BAR_LABEL_W + 1.5;
    let bar_w = WIDTH - BAR_LABEL_W - BAR_VALUE_W - 3.0;
    let label_style = TextStyle::new(FontFace::Gothic, 7.5)
        .min(6.0)
        .pad(1.0, 0.3)
        .align(Align::Right);
    let value_style = TextStyle::new(FontFace::Gothic, 7.5).min(6.0).pad(0.8, 0.3);
    let whole = CAPTION_H + 1.0 + chart.bars.len() as f32 * BAR_H + 1.0;
    // Kept whole on one page where it fits one.
    if whole <= CONTENT_BOTTOM - CONTENT_TOP {
        at.ensure(l, whole);
    } else {
        at.ensure(l, CAPTION_H + 1.0 + 3.0 * BAR_H);
    }
    let mut rest: &[(String, i64)] = &chart.bars;
    let mut first = true;
    loop {
        let page = *at.page;
        caption(l, at, doc, &field, &chart.title, !first)?;
        let top = *at.y + CAPTION_H + 1.0;
        let fit =
            (((CONTENT_BOTTOM - 1.0 - top) / BAR_H).floor().max(1.0) as usize).min(rest.len());
        let (now, later) = rest.split_at(fit);
        let mut y = top;
        for (i, (label, value)) in now.iter().enumerate() {
            let bar_field = format!("{field}.bars[{i}]");
            let label = one_line(l, &bar_field, label, BAR_LABEL_W, &label_style)?;
            l.text_box(
                page,
                &bar_field,
                Frame::new(LEFT, y, BAR_LABEL_W, BAR_H),
                &label,
                &label_style,
            )?;
            let share = (*value).max(0) as f32 / max as f32;
            let w = if *value > 0 {
                (bar_w * share).max(0.4)
            } else {
                0.0
            };
            if w > 0.0 {
                l.fill(page, Frame::new(bar_x, y + 0.8, w, BAR_H - 1.6), 0.45)?;
            }
            l.text_box(
                page,
                &bar_field,
                Frame::new(bar_x + w + 0.5, y, BAR_VALUE_W, BAR_H),
                &value.to_string(),
                &value_style,
            )?;
            y += BAR_H;
        }
        l.vline(page, bar_x, top - 0.5, y + 0.5, HAIRLINE)?;
        *at.y = y + 1.0;
        if later.is_empty() {
            break;
        }
        rest = later;
        first = false;
        at.new_page(l);
    }
    *at.y += BLOCK_GAP;
    Ok(())
}

/// `text` cut with 「…」 to one line of a `w` mm box.
fn one_line(
    l: &Layout<'_>,
    field: &str,
    text: &str,
    w: f32,
    style: &TextStyle,
) -> Result<String, RenderError> {
    let text = printable(l, field, text)?;
    let fits = |t: &str| {
        l.fit(field, Frame::new(0.0, 0.0, w, BAR_H), t, style)
            .is_ok()
    };
    if fits(&text) {
        return Ok(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        while chars
            .last()
            .is_some_and(|c| crate::text::is_variation_selector(*c))
        {
            chars.pop();
        }
        let candidate = format!("{}{ELLIPSIS}", chars.iter().collect::<String>());
        if fits(&candidate) {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}

/// One row as it will be drawn.
struct FittedRow {
    height: f32,
    cells: Vec<String>,
}

/// One table: caption, header row, rows; on each further page the caption (marked
/// as continued) and the header row again.
fn place_table(
    l: &mut Layout<'_>,
    at: &mut Cursor<'_>,
    doc: &ReportDocument,
    index: usize,
    table: &ReportTable,
) -> Result<(), RenderError> {
    let field = format!("report.tables[{index}]");
    let ncols = table.columns.len();
    if let Some((r, row)) = table
        .rows
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != ncols)
    {
        return Err(RenderError::Invalid(format!(
            "table `{}` row {}: {} cells for {ncols} columns",
            table.title,
            r + 1,
            row.len()
        )));
    }
    let style = cell_style();
    let pad = 2.0 * style.pad_x;
    let mut natural = Vec::with_capacity(ncols);
    for (c, head) in table.columns.iter().enumerate() {
        let mut w = l.measure(
            &field,
            &printable(l, &field, head)?,
            FontFace::Gothic,
            CELL_PT,
        )?;
        for row in &table.rows {
            let text = printable(l, &field, &row[c])?;
            w = w.max(l.measure(&field, &text, FontFace::Gothic, CELL_PT)?);
        }
        natural.push(w + pad + 0.5);
    }
    let widths = column_widths(&natural, WIDTH)?;

    let fit_row = |l: &Layout<'_>, r: usize, cells: &[String]| -> Result<FittedRow, RenderError> {
        let mut height = ROW_1;
        let mut out = Vec::with_capacity(cells.len());
        for (c, text) in cells.iter().enumerate() {
            let (t, h) = fit_cell(
                l,
                &format!("{field}.rows[{r}][{c}]"),
                text,
                widths[c],
                &style,
            )?;
            height = height.max(h);
            out.push(t);
        }
        Ok(FittedRow { height, cells: out })
    };
    let header = fit_row(l, 0, &table.columns)?;
    let rows: Vec<FittedRow> = table
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| fit_row(l, r + 1, row))
        .collect::<Result<_, _>>()?;

    if rows.is_empty() {
        at.ensure(l, CAPTION_H + ROW_1);
        let page = *at.page;
        caption(l, at, doc, &field, &table.title, false)?;
        let (empty, height) = fit_cell(l, &format!("{field}.empty"), &table.empty, WIDTH, &style)?;
        *at.y = l.table(
            page,
            &Table {
                x: LEFT,
                y: *at.y + CAPTION_H,
                columns: vec![WIDTH],
                border: RULE,
                rows: vec![Row {
                    height,
                    cells: vec![Cell::new(format!("{field}.empty"), empty, style.clone())],
                }],
            },
        )?;
        *at.y += BLOCK_GAP;
        return Ok(());
    }

    let to_row = |r: &FittedRow, name: &str| Row {
        height: r.height,
        cells: r
            .cells
            .iter()
            .enumerate()
            .map(|(c, t)| Cell::new(format!("{field}.{name}[{c}]"), t.clone(), style.clone()))
            .collect(),
    };
    at.ensure(l, CAPTION_H + header.height + rows[0].height);
    let mut rest: &[FittedRow] = &rows;
    let mut first = true;
    loop {
        let page = *at.page;
        caption(l, at, doc, &field, &table.title, !first)?;
        let top = *at.y + CAPTION_H;
        l.fill(page, Frame::new(LEFT, top, WIDTH, header.height), 0.94)?;
        let mut y = top + header.height;
        let mut take = 0;
        while take < rest.len() && y + rest[take].height <= CONTENT_BOTTOM {
            y += rest[take].height;
            take += 1;
        }
        // A fresh page always holds caption, header and the tallest row; this only
        // guards against a layout change breaking that.
        if take == 0 {
            if *at.y <= CONTENT_TOP + 1e-3 {
                return Err(RenderError::Invalid(format!(
                    "table `{}`: a row is taller than a page",
                    table.title
                )));
            }
            at.new_page(l);
            continue;
        }
        let (now, later) = rest.split_at(take);
        let mut drawn = vec![to_row(&header, "columns")];
        drawn.extend(now.iter().map(|r| to_row(r, "row")));
        *at.y = l.table(
            page,
            &Table {
                x: LEFT,
                y: top,
                columns: widths.clone(),
                border: RULE,
                rows: drawn,
            },
        )?;
        if later.is_empty() {
            break;
        }
        rest = later;
        first = false;
        at.new_page(l);
    }
    *at.y += BLOCK_GAP;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn narrow_columns_keep_their_width_and_wide_ones_share_the_rest() {
        let w = column_widths(&[20.0, 200.0, 150.0], 174.0).unwrap();
        assert_eq!(w[0], 20.0);
        assert!(
            (w[1] - 77.0).abs() < 1e-3 && (w[2] - 77.0).abs() < 1e-3,
            "{w:?}"
        );
        assert!((w.iter().sum::<f32>() - 174.0).abs() < 1e-3);
    }

    #[test]
    fn columns_that_fit_are_spread_over_the_width() {
        let w = column_widths(&[10.0, 30.0], 174.0).unwrap();
        // 10 is raised to the minimum first, then both grow in proportion.
        assert!((w[0] / w[1] - MIN_COLUMN / 30.0).abs() < 1e-4, "{w:?}");
        assert!((w.iter().sum::<f32>() - 174.0).abs() < 1e-3);
    }

    #[test]
    fn too_many_columns_are_refused() {
        assert!(matches!(
            column_widths(&[20.0; 15], 174.0),
            Err(RenderError::Invalid(_))
        ));
        assert!(column_widths(&[], 174.0).unwrap().is_empty());
    }

    #[cfg(feature = "system-fonts")]
    mod with_fonts {
        use super::super::*;
        use std::sync::OnceLock;

        fn book() -> Option<&'static FontBook> {
            static BOOK: OnceLock<Option<FontBook>> = OnceLock::new();
            BOOK.get_or_init(|| FontBook::load(&crate::SystemFonts::from_env()).ok())
                .as_ref()
        }

        /// The fonts, or a failure saying how to install them (never a silent pass).
        fn fonts() -> &'static FontBook {
            book().unwrap_or_else(|| {
                panic!(
                    "the IPA fonts are needed: apt-get install fonts-ipaexfont fonts-ipamj-mincho"
                )
            })
        }

        /// The page count as a PDF reader sees it, checked against the one reported.
        fn pages(r: &RenderedReport) -> usize {
            let n = lopdf::Document::load_mem(&r.bytes)
                .unwrap()
                .get_pages()
                .len();
            assert_eq!(n, r.pages);
            n
        }

        fn doc(rows: usize) -> ReportDocument {
            ReportDocument {
                title: "交付日報 2026-05-07".into(),
                subtitle: "作成 2026-05-08 09:00".into(),
                meta_title: "交付日報".into(),
                figures: vec![("交付件数".into(), "4".into())],
                charts: vec![ReportChart {
                    title: "証明書別".into(),
                    bars: vec![("住民票".into(), 3), ("印鑑".into(), 1)],
                }],
                tables: vec![ReportTable {
                    title: "取消".into(),
                    columns: vec!["番号".into(), "理由".into()],
                    rows: (0..rows)
                        .map(|i| vec![format!("I-{i:04}"), "交付前に誤りを発見".into()])
                        .collect(),
                    empty: "該当なし".into(),
                }],
                footer: "監督者用".into(),
                page_label: "{page}/{pages}".into(),
                continued: "{title}（続き）".into(),
                generated_at: (2026, 5, 8, 9, 0, 0),
            }
        }

        #[test]
        fn five_hundred_rows_paginate() {
            let pdf = render_report(&doc(500), fonts()).unwrap();
            // About 50 rows of 5.2 mm a page: ten pages or more, never one.
            assert!(pages(&pdf) >= 10, "{} pages", pages(&pdf));
            assert_eq!(pages(&render_report(&doc(3), fonts()).unwrap()), 1);
        }

        #[test]
        fn empty_tables_render_on_one_page() {
            let mut d = doc(0);
            d.tables.push(ReportTable {
                title: "権限外の操作".into(),
                columns: Vec::new(),
                rows: Vec::new(),
                empty: "該当なし".into(),
            });
            let pdf = render_report(&d, fonts()).unwrap();
            assert_eq!(pages(&pdf), 1);
        }

        #[test]
        fn same_document_same_bytes_and_content_changes_the_id() {
            let a = render_report(&doc(40), fonts()).unwrap().bytes;
            let b = render_report(&doc(40), fonts()).unwrap().bytes;
            assert!(a == b, "two renders of one report differ");
            let mut other = doc(40);
            other.generated_at.4 = 1;
            let c = render_report(&other, fonts()).unwrap().bytes;
            let id = |pdf: &[u8]| {
                let d = lopdf::Document::load_mem(pdf).unwrap();
                format!("{:?}", d.trailer.get(b"ID").unwrap())
            };
            assert_ne!(id(&a), id(&c));
        }

        #[test]
        fn rows_that_do_not_match_the_columns_are_refused() {
            let mut d = doc(2);
            d.tables[0].rows[1].pop();
            let e = render_report(&d, fonts()).unwrap_err();
            assert!(matches!(e, RenderError::Invalid(_)), "{e}");
            assert!(e.to_string().contains("row 2"), "{e}");
        }

        #[test]
        fn long_cells_are_cut_and_missing_glyphs_become_geta() {
            let l = Layout::new(fonts()).unwrap();
            let long = "交付前に誤りを発見したため取消".repeat(20);
            let (text, h) = fit_cell(&l, "t", &long, 40.0, &cell_style()).unwrap();
            assert!(text.ends_with(ELLIPSIS), "{text}");
            assert!(text.chars().count() < long.chars().count());
            assert_eq!(h, ROW_2);
            let (short, h) = fit_cell(&l, "t", "住民票", 40.0, &cell_style()).unwrap();
            assert_eq!((short.as_str(), h), ("住民票", ROW_1));
            // U+E000 is a private-use code point no IPA font maps.
            assert_eq!(printable(&l, "t", "a\u{E000}b\nc").unwrap(), "a〓b c");
        }

        #[test]
        fn a_long_chart_breaks_across_pages() {
            let mut d = doc(0);
            d.charts[0].bars = (0..80).map(|i| (format!("{i:02}"), i)).collect();
            let pdf = render_report(&d, fonts()).unwrap();
            assert!(pages(&pdf) >= 2);
        }
    }
}
