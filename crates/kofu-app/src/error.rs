//! The one error type of the use cases, with a stable code for every edge to map.

use kofu_feed::LineError;

/// What can go wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] kofu_store::StoreError),
    /// A feed was rejected whole; every bad line is listed.
    #[error("feed rejected: {} bad line(s), nothing imported", .0.len())]
    FeedRejected(Vec<LineError>),
    /// Reading the input failed.
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    /// The eligibility rules refuse the request.
    #[error("refused: {} ({})", .0.reason.code(), .0.detail)]
    Refused(kofu_domain::eligibility::Refusal),
    /// The options do not fit the kind, channel or applicant.
    #[error("invalid options: {0}")]
    InvalidOptions(kofu_domain::certificate::OptionError),
    /// A record the request names does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Rendering failed (a missing glyph, an overflow, a bad image…).
    #[error(transparent)]
    Render(#[from] kofu_render::RenderError),
}

impl AppError {
    /// A stable snake_case code for API errors and exit messages.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Store(_) => "store_error",
            AppError::FeedRejected(_) => "feed_rejected",
            AppError::Io(_) => "io_error",
            AppError::Refused(r) => r.reason.code(),
            AppError::InvalidOptions(_) => "invalid_options",
            AppError::NotFound(_) => "not_found",
            AppError::Render(_) => "render_error",
        }
    }
}
