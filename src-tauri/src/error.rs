//! The shell's one error type, answered to the UI as `{code, message}`.
//!
//! Every command's rejection is one of these; the codes are stable (the UI branches
//! on them), the messages are for people.

use serde::ser::SerializeStruct as _;

/// What can go wrong in the shell, from reading the settings to printing.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The counter server could not be reached at all (no answer, TLS refused, …).
    #[error("the counter server cannot be reached: {0}")]
    Unreachable(String),
    /// `counter_call` was asked for a path outside `/counter/v1/`.
    #[error("only paths under /counter/v1/ may be called: {0:?}")]
    ForbiddenPath(String),
    /// `counter_call` was asked for something the API does not take (a method, a
    /// GET with a body).
    #[error("invalid call: {0}")]
    BadCall(String),
    /// The server answered with something that is not JSON.
    #[error("the counter server answered {status} with a body that is not JSON")]
    BadAnswer {
        /// The answer's HTTP status.
        status: u16,
    },
    /// The document to print or save is not base64.
    #[error("the document is not valid base64: {0}")]
    InvalidDocument(String),
    /// An export's file name is not a plain `.pdf` or `.csv` name, or every
    /// numbered variant of it is taken.
    #[error("invalid export file name: {0}")]
    InvalidFilename(String),
    /// The bytes to print are not the ones the issuance answered.
    #[error("refusing to print: the document's SHA-256 is {actual}, not {expected}")]
    DigestMismatch {
        /// The digest the issuance answered.
        expected: String,
        /// The digest of the bytes given.
        actual: String,
    },
    /// CUPS has no such queue, no default destination, or `lp` is not installed.
    #[error("no printer: {0}")]
    NoPrinter(String),
    /// `lp` failed or answered something unexpected.
    #[error("printing failed: {0}")]
    PrintFailed(String),
    /// `demo_totp` outside embedded demo mode, or for an account that is not a demo one.
    #[error("not a demo account of this terminal: {0:?}")]
    NotDemo(String),
    /// Offline, no replica is unlocked: only a login (with an account cached on this
    /// terminal) can open it; or the cached login is unknown or its password wrong.
    #[error("offline: {0}")]
    OfflineLocked(String),
    /// This terminal has no registered key: offline work needs an administrator's
    /// enrolment code first.
    #[error(
        "terminal {0} is not registered: enter the enrolment code an administrator issued for it"
    )]
    TerminalNotRegistered(String),
    /// The first administrator is enrolled already (or this is not an embedded terminal).
    #[error("this terminal has staff already: the first administrator is enrolled")]
    NotFirst,
    /// A setting (environment variable or counter.json) is invalid.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// The terminal failed to start (database, seeding, fonts…); every command
    /// answers this until the app is restarted.
    #[error("the counter app failed to start: {0}")]
    Startup(String),
    /// A use case failed (embedded mode's start: import, staff enrolment).
    #[error(transparent)]
    App(#[from] kofu_app::AppError),
    /// The embedded store failed to open or migrate.
    #[error(transparent)]
    Store(#[from] kofu_store::StoreError),
    /// The certificate fonts could not be loaded.
    #[error("cannot load the certificate fonts (Debian: fonts-ipaexfont, fonts-ipamj-mincho): {0}")]
    Fonts(#[from] kofu_render::RenderError),
    /// A file of the terminal could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file, doing what.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The window title could not be built from the Japanese translations.
    #[error("locales/ja.json: {0}")]
    Translation(String),
    /// Tauri failed to start or run the app.
    #[error("tauri: {0}")]
    Tauri(#[from] tauri::Error),
    /// A bug: a task of the shell panicked or a value could not be encoded.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ShellError {
    /// The stable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            ShellError::Unreachable(_) => "unreachable",
            ShellError::ForbiddenPath(_) => "forbidden_path",
            ShellError::BadCall(_) => "bad_call",
            ShellError::BadAnswer { .. } => "bad_answer",
            ShellError::InvalidDocument(_) => "invalid_document",
            ShellError::InvalidFilename(_) => "invalid_filename",
            ShellError::DigestMismatch { .. } => "digest_mismatch",
            ShellError::NoPrinter(_) => "no_printer",
            ShellError::PrintFailed(_) => "print_failed",
            ShellError::NotDemo(_) => "not_demo",
            ShellError::Settings(_) => "invalid_settings",
            ShellError::OfflineLocked(_) => "offline_locked",
            ShellError::TerminalNotRegistered(_) => "terminal_not_registered",
            ShellError::NotFirst => "not_first",
            ShellError::Startup(_) => "startup_failed",
            ShellError::App(e) => e.code(),
            ShellError::Store(_) => "store_error",
            ShellError::Fonts(_) => "fonts_missing",
            ShellError::Io { .. } => "io_error",
            ShellError::Translation(_) => "translation_missing",
            ShellError::Tauri(_) => "tauri_error",
            ShellError::Internal(_) => "internal",
        }
    }

    /// An IO error on `what` (a file and what was done with it).
    pub fn io(what: impl Into<String>, source: std::io::Error) -> ShellError {
        ShellError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The UI receives `{code, message}`.
impl serde::Serialize for ShellError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ShellError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_code_and_message() {
        for (error, code) in [
            (ShellError::Unreachable("refused".into()), "unreachable"),
            (
                ShellError::DigestMismatch {
                    expected: "aa".into(),
                    actual: "bb".into(),
                },
                "digest_mismatch",
            ),
            (ShellError::NoPrinter("no default".into()), "no_printer"),
            (ShellError::PrintFailed("jam".into()), "print_failed"),
            (ShellError::NotDemo("x".into()), "not_demo"),
            (
                ShellError::App(kofu_app::AppError::Unauthenticated),
                "unauthenticated",
            ),
        ] {
            let json = serde_json::to_value(&error).unwrap();
            assert_eq!(
                json,
                serde_json::json!({"code": code, "message": error.to_string()})
            );
        }
    }
}
