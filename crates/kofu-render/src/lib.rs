//! kofu-render: the PDF engine and certificate layouts of kofu.
//!
//! Pure apart from the [`fonts_fs`] IO edge: fonts come in through [`FontSource`],
//! images as PNG bytes, dates as values; output is PDF bytes. Same inputs, same bytes.
//!
//! - [`FontBook`]: the three IPA faces, validated once and shared by every render.
//! - [`Layout`]: pages of positioned text (shrink-to-fit, wrapping, 禁則), rules,
//!   boxes, tables and images, in mm on A4 portrait.
//! - Text is resolved per cluster (base character + variation selector) through the
//!   fonts' cmap format 14, emitted as glyph ids, embedded as subset CID fonts whose
//!   ToUnicode maps each glyph back to the exact sequence written.
//! - [`cert`]: the certificates. A composer per kind turns domain records and the
//!   requester's options into a [`CertificateDocument`]; [`render`] lays it out with
//!   認証文, 和暦 issue date, certifier (mayor or 職務代理者), 電子公印 and 発行番号, and
//!   binds every page to (request, subject) — see [`check_bindings`].
//! - [`report`]: office reports (the supervisor's daily report): key figures, bar
//!   charts and paginated tables in IPAexゴシック, through the same engine.
//! - [`kiosk`]: the kiosk security layer the relay center puts on the town's PDF
//!   (ground pattern in which 「複写」 shows on a copy, a back page with the front
//!   scrambled under a key) and its verification from scans.

pub mod cert;
pub mod error;
pub mod fonts;
#[cfg(feature = "system-fonts")]
pub mod fonts_fs;
pub mod image;
pub mod kiosk;
pub mod layout;
mod page_tree;
mod pdf;
pub mod report;
mod subset;
mod text;

pub use cert::{
    CertificateDocument, FixedElements, IssueContext, Item, PageBinding, RenderOptions,
    RenderedPdf, Section, Subject, ValueStyle, check_bindings, render,
};
pub use error::{RenderError, codepoints};
pub use fonts::{FontBook, FontFace, FontMetrics, FontSource, MemoryFonts};
#[cfg(feature = "system-fonts")]
pub use fonts_fs::SystemFonts;
pub use image::{ImageRole, PreparedImage};
pub use layout::{
    A4_MM, Align, Cell, DocMeta, Fitted, Frame, Layout, PT_PER_MM, PageId, Row, Table, TextStyle,
    VAlign,
};
pub use report::{RenderedReport, ReportChart, ReportDocument, ReportTable, render_report};
