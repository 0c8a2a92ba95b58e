//! The one error type of the store.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend the store knows.
    #[error(
        "unsupported database URL scheme '{0}': expected sqlite:PATH, sqlite://PATH or postgres://…"
    )]
    UnsupportedUrl(String),
    /// The database refused or failed an operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database file could not be created.
    #[error("cannot create the database file {path}: {source}")]
    Create {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The schema migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A record could not be turned into its stored JSON form.
    #[error("cannot encode {kind} record as JSON: {source}")]
    Encode {
        /// The record type, as on the wire.
        kind: &'static str,
        /// The serializer's error.
        source: serde_json::Error,
    },
    /// A stored record no longer reads as its domain type.
    #[error("stored {kind} record '{key}' is unreadable: {source}")]
    Corrupt {
        /// The record type, as on the wire.
        kind: &'static str,
        /// The record's key, for the operator.
        key: String,
        /// The deserializer's error.
        source: serde_json::Error,
    },
    /// An import transaction can go no further: an earlier write of it failed (and was
    /// reported), so it was rolled back.
    #[error("the import failed earlier and was rolled back")]
    Aborted,
    /// A value does not fit the database column that holds it.
    #[error("{field} {value} is out of the range the store can hold")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// `kofu db grant-server-role` was given a PostgreSQL built-in role (`public`,
    /// `pg_*` …): its rights would reach everyone, or whoever is connected.
    #[error(
        "role {0} is a built-in PostgreSQL role: create a role of its own for kofu serve (CREATE ROLE kofu_server LOGIN)"
    )]
    BuiltInRole(String),
}

impl StoreError {
    /// Whether the database refused a row because a unique key already holds it
    /// (a concurrent twin of the same request committed first).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if e.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }
}
