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
    /// A request field is out of range or inconsistent.
    #[error("{field}: {reason}")]
    BadRequest {
        /// The field, as on the wire.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The use case did not finish within its time limit; everything was rolled back.
    #[error("not completed within {0:?}; nothing was issued")]
    Timeout(std::time::Duration),
    /// The registry changed under the request again and again; nothing was issued.
    #[error("the registry is being updated; nothing was issued, try again")]
    Busy,
    /// A request ID already used with another body.
    #[error("this request_id was already used with a different request")]
    RequestIdReused,
    /// A retried issuance can no longer be produced identically (its data changed).
    #[error("issuance {0} cannot be reproduced: the registry data changed since")]
    NotReproducible(String),
    /// An outcome for an issuance this server never made.
    #[error("no such issuance")]
    UnknownIssuance,
    /// The login, password or TOTP code is wrong (which one is not told).
    #[error("login, password or one-time code is wrong")]
    InvalidCredentials,
    /// Too many consecutive failed logins: the account is locked until unlocked.
    #[error("the account is locked after repeated failed logins")]
    AccountLocked,
    /// Too many failed logins in a row, from this source or on this account: wait
    /// this many seconds.
    #[error("too many failed logins; try again in {0} s")]
    TooManyAttempts(u64),
    /// The account is deactivated.
    #[error("the account is deactivated")]
    AccountDisabled,
    /// No staff account has this login.
    #[error("no staff account {0:?}")]
    UnknownStaff(String),
    /// No session, or an ended one.
    #[error("not logged in")]
    Unauthenticated,
    /// The session was idle too long.
    #[error("the session expired; log in again")]
    SessionExpired,
    /// The session's role may not do this.
    #[error("this role may not {0:?}")]
    Forbidden(crate::staff::Action),
    /// A staff login already taken.
    #[error("the login {0:?} already exists")]
    DuplicateLogin(String),
    /// The day was already signed off.
    #[error("the day {0} is already closed")]
    DayClosed(String),
    /// A password shorter than the minimum.
    #[error("the password is too weak: at least {0} characters")]
    WeakPassword(usize),
    /// Offline work is past its bound (replica too old, too many unsynced issuances,
    /// no reserved numbers left) or the action needs the server: nothing was done.
    #[error("offline: {0}")]
    OfflineLimit(String),
    /// A terminal's upload does not verify (chain, rows or numbers); nothing of it
    /// was accepted.
    #[error("sync rejected: {0}")]
    SyncRejected(String),
    /// A setting's new value breaks its rules; nothing was changed.
    #[error("invalid setting: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidSetting(Vec<kofu_domain::records::FieldError>),
    /// Someone saved the setting since the revision the change was based on.
    #[error("setting {setting} was changed meanwhile (now revision {revision})")]
    SettingConflict {
        /// The setting.
        setting: String,
        /// Its revision in force.
        revision: i64,
    },
    /// The terminal or its printer is not registered, or retired, in the administration.
    #[error("terminal refused: {0}")]
    TerminalRefused(String),
    /// An offline request without a valid proof from an enrolled, active terminal (or
    /// a registration with a wrong, used or expired code).
    #[error("terminal not verified: {0}")]
    TerminalUnverified(String),
    /// A first-login enrolment with a wrong, used or expired code (which one is not
    /// told), or for an account that is not awaiting one.
    #[error("this login and enrolment code do not match an account awaiting its first login")]
    EnrolmentRefused,
    /// Asked too often (a terminal's whole-registry snapshots): wait this many seconds.
    #[error("asked too often; try again in {0} s")]
    RateLimited(u64),
}

impl AppError {
    /// Whether this failure is one staff must see on the day's review, not only in a
    /// log: a character no font has (外字), a value that does not fit its box, a kiosk
    /// issuance that could not be completed in time.
    pub fn needs_review(&self) -> bool {
        matches!(self, AppError::Render(_) | AppError::Timeout(_))
    }

    /// A stable snake_case code for API errors and exit messages.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Store(_) => "store_error",
            AppError::FeedRejected(_) => "feed_rejected",
            AppError::Io(_) => "io_error",
            AppError::Refused(r) => r.reason.code(),
            AppError::InvalidOptions(_) => "invalid_options",
            AppError::NotFound(_) => "not_found",
            AppError::Render(kofu_render::RenderError::MissingGlyph { .. }) => "missing_glyph",
            AppError::Render(kofu_render::RenderError::Overflow { .. }) => "overflow",
            AppError::Render(_) => "render_error",
            AppError::BadRequest { .. } => "invalid_request",
            AppError::Timeout(_) => "timeout",
            AppError::Busy => "busy",
            AppError::RequestIdReused => "request_id_reused",
            AppError::NotReproducible(_) => "not_reproducible",
            AppError::UnknownIssuance => "unknown_issuance",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::AccountLocked => "account_locked",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::AccountDisabled => "account_disabled",
            AppError::UnknownStaff(_) => "unknown_staff",
            AppError::Unauthenticated => "unauthenticated",
            AppError::SessionExpired => "session_expired",
            AppError::Forbidden(_) => "forbidden",
            AppError::DuplicateLogin(_) => "duplicate_login",
            AppError::WeakPassword(_) => "weak_password",
            AppError::DayClosed(_) => "day_closed",
            AppError::OfflineLimit(_) => "offline_limit",
            AppError::SyncRejected(_) => "sync_rejected",
            AppError::InvalidSetting(_) => "invalid_setting",
            AppError::SettingConflict { .. } => "setting_conflict",
            AppError::TerminalRefused(_) => "terminal_refused",
            AppError::TerminalUnverified(_) => "terminal_unverified",
            AppError::EnrolmentRefused => "enrolment_refused",
            AppError::RateLimited(_) => "rate_limited",
        }
    }
}
