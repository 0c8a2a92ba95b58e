//! Change events (異動): a sequence number, an instant, and an upsert or a delete.

use kofu_domain::{RecordKey, RegistryRecord};
use time::OffsetDateTime;

/// One change event.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Strictly increasing per town, without gaps.
    pub seq: i64,
    /// When the registry made the change.
    pub at: OffsetDateTime,
    /// What changes.
    pub op: ChangeOp,
}

/// What a change does.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per line, moved once: boxing buys nothing
pub enum ChangeOp {
    /// Insert or replace the record with the same key.
    Upsert(RegistryRecord),
    /// Remove the record with this key.
    Delete(RecordKey),
}
