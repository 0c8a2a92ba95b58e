//! kofu-app: the use cases of certificate issuance, one function each, over the
//! domain rules, the store and the renderer. Every transport (the `kofu` command
//! line, the LGWAN and counter HTTP APIs, the Tauri app) calls these and nothing
//! below them.

pub mod admin;
pub mod certificate;
pub mod counter;
mod error;
pub mod find;
pub mod import;
pub mod kiosk;
mod office;
pub mod offline;
pub mod report;
pub mod review;
pub mod staff;
pub mod terminal;

pub use certificate::{Certificate, CertificateRequest, SubjectRef, render_certificate};
pub use error::AppError;
pub use import::{ImportReport, import_feed};
pub use office::{Office, OfficeSettings};

// The counter app's message catalogue (`locales/*.json`), compiled in for the labels
// of generated documents; see `report`. Always looked up with an explicit locale.
rust_i18n::i18n!("../../locales", fallback = "ja");
