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
}

impl AppError {
    /// A stable snake_case code for API errors and exit messages.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Store(_) => "store_error",
            AppError::FeedRejected(_) => "feed_rejected",
            AppError::Io(_) => "io_error",
        }
    }
}
