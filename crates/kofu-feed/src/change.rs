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

impl Change {
    /// The change event as a feed line (JSON), as the feed would carry it: parsing it
    /// gives this change back.
    pub fn to_line(&self) -> String {
        let at = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let (op, record) = match &self.op {
            ChangeOp::Upsert(record) => {
                ("upsert", serde_json::to_value(record).unwrap_or_default())
            }
            ChangeOp::Delete(key) => ("delete", key_json(key)),
        };
        serde_json::json!({"type": "change", "seq": self.seq, "at": at, "op": op, "record": record})
            .to_string()
    }

    /// The IDs this change concerns — resident, household, 戸籍, suppression scope
    /// ID — by which an issuance's subject is matched against later changes.
    pub fn refs(&self) -> Vec<String> {
        let mut refs = match &self.op {
            ChangeOp::Upsert(record) => match record {
                RegistryRecord::Municipality(_) => vec![],
                RegistryRecord::Resident(r) => vec![r.resident_id.clone(), r.household_id.clone()],
                RegistryRecord::Seal(s) => vec![s.resident_id.clone()],
                RegistryRecord::Card(c) => vec![c.resident_id.clone()],
                RegistryRecord::Koseki(k) => vec![k.koseki_id.clone()],
                RegistryRecord::Fuhyo(f) => vec![f.koseki_id.clone()],
                RegistryRecord::Tax(t) => vec![t.resident_id.clone()],
                RegistryRecord::SupportMeasure(s) => vec![s.resident_id.clone()],
                RegistryRecord::Suppression(s) => vec![s.id.clone()],
            },
            ChangeOp::Delete(key) => match key {
                RecordKey::Municipality => vec![],
                RecordKey::Resident(id)
                | RecordKey::Seal(id)
                | RecordKey::Koseki(id)
                | RecordKey::Fuhyo(id, _)
                | RecordKey::Tax(id, _)
                | RecordKey::SupportMeasure(id)
                | RecordKey::Suppression(_, id) => vec![id.clone()],
                RecordKey::Card(_) => vec![],
            },
        };
        refs.sort();
        refs.dedup();
        refs
    }
}

/// The record naming a key, as a delete event carries it.
fn key_json(key: &RecordKey) -> serde_json::Value {
    use serde_json::json;
    match key {
        RecordKey::Municipality => json!({"type": "municipality"}),
        RecordKey::Resident(id) => json!({"type": "resident", "resident_id": id}),
        RecordKey::Seal(id) => json!({"type": "seal", "resident_id": id}),
        RecordKey::Card(serial) => json!({"type": "card", "auth_serial": serial}),
        RecordKey::Koseki(id) => json!({"type": "koseki", "koseki_id": id}),
        RecordKey::Fuhyo(id, no) => json!({"type": "fuhyo", "koseki_id": id, "member_no": no}),
        RecordKey::Tax(id, year) => json!({"type": "tax", "resident_id": id, "fiscal_year": year}),
        RecordKey::SupportMeasure(id) => json!({"type": "support_measure", "resident_id": id}),
        RecordKey::Suppression(scope, id) => {
            json!({"type": "suppression", "scope": scope, "id": id})
        }
    }
}
