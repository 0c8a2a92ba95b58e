//! The remaining registry records (seal, card, tax, support measure, suppression),
//! the tagged union of every record the registry feed carries, and record validation.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::certificate::CertificateKind;
use crate::date::Date;
use crate::koseki::{Fuhyo, Koseki, KosekiEvent};
use crate::municipality::Municipality;
use crate::ordered_map::OrderedMap;
use crate::resident::Resident;

/// A seal registration (印鑑登録, registry record `seal`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seal {
    /// The resident who registered it.
    pub resident_id: String,
    /// 登録番号.
    pub registration_no: String,
    /// 登録年月日.
    pub registered_on: Date,
    /// The 印影 as a PNG, base64.
    pub image_png_base64: String,
    /// `active` or `revoked` (廃止).
    pub status: SealStatus,
    /// The side of the impression in millimetres, to print it at its true size
    /// (an added field; registered seals are 8–25 mm, 15 mm when not given).
    #[serde(default)]
    pub size_mm: Option<f32>,
}

/// State of a seal registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealStatus {
    /// Registered.
    Active,
    /// 廃止.
    Revoked,
}

impl Seal {
    /// The side of the impression as printed, in millimetres.
    pub fn printed_size_mm(&self) -> f32 {
        self.size_mm.unwrap_or(15.0)
    }

    /// The decoded PNG of the impression.
    pub fn image_png(&self) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(&self.image_png_base64)
    }
}

/// The serial of a resident's 利用者証明用電子証明書 (registry record `card`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// The resident holding the card.
    pub resident_id: String,
    /// Hex serial of the certificate, as the relay center sends it.
    pub auth_serial: String,
    /// State of the registration.
    pub status: CardStatus,
}

/// State of a card registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// In use.
    Active,
    /// Suspended or expired: treated as unknown.
    Suspended,
    /// Revoked.
    Revoked,
}

/// A tax assessment (registry record `tax`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRecord {
    /// The taxpayer.
    pub resident_id: String,
    /// 年度 (fiscal year) of the assessment.
    pub fiscal_year: i32,
    /// 住所 as of the 賦課期日 (1 January).
    pub assessed_address: String,
    /// Income breakdown, yen.
    #[serde(default)]
    pub income: OrderedMap<i64>,
    /// 合計所得金額.
    pub total_income: i64,
    /// 所得控除 breakdown.
    #[serde(default)]
    pub deductions: OrderedMap<i64>,
    /// 所得控除合計.
    pub total_deductions: i64,
    /// 課税標準額.
    pub taxable_base: i64,
    /// 市町村民税額.
    pub municipal_tax: i64,
    /// 道府県民税額.
    pub prefectural_tax: i64,
    /// 所得金額 by kind (kofu's addition: `income` holds the 収入金額 by kind, and a
    /// certificate prints both, each under its own heading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_amounts: Option<OrderedMap<i64>>,
    /// The 均等割 of the 市町村民税 (kofu's addition); its 所得割 is the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipal_per_capita: Option<i64>,
    /// The 均等割 of the 道府県民税 (kofu's addition); its 所得割 is the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefectural_per_capita: Option<i64>,
    /// 氏名 on the 賦課期日, when it differs from today's (kofu's addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessed_name: Option<String>,
}

/// A DV/stalking support measure (支援措置) on a resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportMeasure {
    /// The protected resident.
    pub resident_id: String,
    /// Start.
    pub from: Date,
    /// Planned end (the measure stays in force until the registry deletes it).
    #[serde(default)]
    pub to: Option<Date>,
}

/// 発行抑止: issuance suppression on a person or household.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Person or household.
    pub scope: SuppressionScope,
    /// Resident ID or household ID.
    pub id: String,
    /// Kinds suppressed; empty means all.
    #[serde(default)]
    pub certificates: Vec<CertificateKind>,
    /// `error` stops issuance; `warning` lets a clerk proceed after reading it.
    pub level: SuppressionLevel,
    /// Start.
    pub from: Date,
    /// Planned end. It does not lift the suppression: only deletion does.
    #[serde(default)]
    pub to: Option<Date>,
    /// Why, for staff.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a suppression covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionScope {
    /// One resident.
    Person,
    /// A whole household.
    Household,
}

/// How strongly a suppression stops issuance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionLevel {
    /// Stops issuance.
    Error,
    /// Warns the clerk at the counter; stops the kiosk.
    Warning,
}

/// Any record of the registry feed, tagged by `"type"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one per line, moved once: boxing buys nothing
pub enum RegistryRecord {
    /// The town.
    Municipality(Municipality),
    /// A resident.
    Resident(Resident),
    /// A seal registration.
    Seal(Seal),
    /// A card serial.
    Card(Card),
    /// A 戸籍.
    Koseki(Koseki),
    /// A 附票.
    Fuhyo(Fuhyo),
    /// A tax assessment.
    Tax(TaxRecord),
    /// A support measure.
    SupportMeasure(SupportMeasure),
    /// A suppression.
    Suppression(Suppression),
}

/// The identity of a record: what a `delete` change names and what an `upsert` replaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKey {
    /// The municipality (there is one).
    Municipality,
    /// By resident ID.
    Resident(String),
    /// By the registering resident (one registration per person).
    Seal(String),
    /// By card serial.
    Card(String),
    /// By 戸籍 ID.
    Koseki(String),
    /// By 戸籍 ID and member number.
    Fuhyo(String, u32),
    /// By resident and fiscal year.
    Tax(String, i32),
    /// By protected resident.
    SupportMeasure(String),
    /// By scope and ID.
    Suppression(SuppressionScope, String),
}

impl RegistryRecord {
    /// The record's type name as on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            RegistryRecord::Municipality(_) => "municipality",
            RegistryRecord::Resident(_) => "resident",
            RegistryRecord::Seal(_) => "seal",
            RegistryRecord::Card(_) => "card",
            RegistryRecord::Koseki(_) => "koseki",
            RegistryRecord::Fuhyo(_) => "fuhyo",
            RegistryRecord::Tax(_) => "tax",
            RegistryRecord::SupportMeasure(_) => "support_measure",
            RegistryRecord::Suppression(_) => "suppression",
        }
    }

    /// The record's key.
    pub fn key(&self) -> RecordKey {
        match self {
            RegistryRecord::Municipality(_) => RecordKey::Municipality,
            RegistryRecord::Resident(r) => RecordKey::Resident(r.resident_id.clone()),
            RegistryRecord::Seal(s) => RecordKey::Seal(s.resident_id.clone()),
            RegistryRecord::Card(c) => RecordKey::Card(c.auth_serial.clone()),
            RegistryRecord::Koseki(k) => RecordKey::Koseki(k.koseki_id.clone()),
            RegistryRecord::Fuhyo(f) => RecordKey::Fuhyo(f.koseki_id.clone(), f.member_no),
            RegistryRecord::Tax(t) => RecordKey::Tax(t.resident_id.clone(), t.fiscal_year),
            RegistryRecord::SupportMeasure(s) => RecordKey::SupportMeasure(s.resident_id.clone()),
            RegistryRecord::Suppression(s) => RecordKey::Suppression(s.scope, s.id.clone()),
        }
    }

    /// Checks the rules serde cannot: identifier formats, date order, images, amounts.
    /// Every problem is reported, each naming its field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut v = Validation::default();
        match self {
            RegistryRecord::Municipality(m) => {
                v.digits("code", &m.code, 6);
                v.non_empty("name", &m.name);
                v.non_empty("mayor", &m.mayor);
                for (i, d) in m.deputies.iter().enumerate() {
                    v.non_empty(format_args!("deputies[{i}].name"), &d.name);
                    v.order(format_args!("deputies[{i}].to"), d.from, d.to);
                }
                if let Some(seal) = &m.seal_png_base64 {
                    v.png("seal_png_base64", seal);
                }
                if m.kiosk_hours.open >= m.kiosk_hours.close {
                    v.fail("kiosk_hours", "open must be before close");
                }
                for (name, hours) in [
                    ("weekday", m.koseki_kiosk_hours.weekday),
                    ("holiday", m.koseki_kiosk_hours.holiday),
                ] {
                    if let Some((open, close)) = hours
                        && open >= close
                    {
                        v.fail(
                            format_args!("koseki_kiosk_hours.{name}"),
                            "open must be before close",
                        );
                    }
                }
            }
            RegistryRecord::Resident(r) => {
                v.digits("resident_id", &r.resident_id, 11);
                v.non_empty("household_id", &r.household_id);
                v.non_empty("family", &r.family);
                v.non_empty("given", &r.given);
                v.katakana("family_kana", &r.family_kana);
                v.katakana("given_kana", &r.given_kana);
                v.non_empty("relationship", &r.relationship);
                v.non_empty("address", &r.address);
                v.order("resident_since", r.birth_date, r.resident_since);
                if r.status == crate::resident::ResidentStatus::Deceased && r.status_since.is_none()
                {
                    v.fail(
                        "status_since",
                        "a deceased resident needs the date of death",
                    );
                }
                if let Some(f) = &r.foreign {
                    v.non_empty("foreign.nationality", &f.nationality);
                    let card = f.card_number.as_bytes();
                    let ok = card.len() == 12
                        && card[..2].iter().all(u8::is_ascii_uppercase)
                        && card[2..10].iter().all(u8::is_ascii_digit)
                        && card[10..].iter().all(u8::is_ascii_uppercase);
                    if !ok {
                        v.fail(
                            "foreign.card_number",
                            "must be two capital letters, eight digits, two capital letters",
                        );
                    }
                }
            }
            RegistryRecord::Seal(s) => {
                v.digits("resident_id", &s.resident_id, 11);
                v.non_empty("registration_no", &s.registration_no);
                v.png("image_png_base64", &s.image_png_base64);
                if let Some(mm) = s.size_mm
                    && !(5.0..=30.0).contains(&mm)
                {
                    v.fail("size_mm", "a registered seal is between 5 and 30 mm");
                }
            }
            RegistryRecord::Card(c) => {
                v.digits("resident_id", &c.resident_id, 11);
                if c.auth_serial.is_empty() || !c.auth_serial.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    v.fail("auth_serial", "must be a hexadecimal serial number");
                }
            }
            RegistryRecord::Koseki(k) => {
                v.non_empty("koseki_id", &k.koseki_id);
                v.non_empty("honseki", &k.honseki);
                v.non_empty("hitto", &k.hitto);
                if k.members.is_empty() {
                    v.fail("members", "a 戸籍 has at least one member");
                }
                let mut seen = std::collections::BTreeSet::new();
                for (i, m) in k.members.iter().enumerate() {
                    if !seen.insert(m.member_no) {
                        v.fail(
                            format_args!("members[{i}].member_no"),
                            &format!("member number {} appears twice", m.member_no),
                        );
                    }
                    // Field paths as `format_args!`, written out only for a problem: a
                    // 戸籍 has dozens of fields, and a full load hundreds of thousands of 戸籍.
                    v.non_empty(format_args!("members[{i}].given"), &m.given);
                    if let Some(id) = &m.resident_id {
                        v.digits(format_args!("members[{i}].resident_id"), id, 11);
                    }
                    events(&mut v, format_args!("members[{i}].events"), &m.events);
                }
                events(&mut v, "events", &k.events);
            }
            RegistryRecord::Fuhyo(f) => {
                v.non_empty("koseki_id", &f.koseki_id);
                if f.entries.is_empty() {
                    v.fail("entries", "a 附票 has at least one address");
                }
                for (i, pair) in f.entries.windows(2).enumerate() {
                    if pair[1].from < pair[0].from {
                        v.fail(
                            format_args!("entries[{}].from", i + 1),
                            "addresses must be in date order",
                        );
                    }
                }
            }
            RegistryRecord::Tax(t) => {
                v.digits("resident_id", &t.resident_id, 11);
                if !(1989..=2200).contains(&t.fiscal_year) {
                    v.fail("fiscal_year", "must be a year from 1989");
                }
                let amounts = [
                    ("total_income", t.total_income),
                    ("total_deductions", t.total_deductions),
                    ("taxable_base", t.taxable_base),
                    ("municipal_tax", t.municipal_tax),
                    ("prefectural_tax", t.prefectural_tax),
                ];
                for (field, amount) in amounts {
                    if amount < 0 {
                        v.fail(field, "must not be negative");
                    }
                }
                let sum: i64 = t.deductions.iter().map(|(_, a)| *a).sum();
                if !t.deductions.is_empty() && sum != t.total_deductions {
                    v.fail(
                        "total_deductions",
                        &format!(
                            "is {} but the breakdown adds up to {sum}",
                            t.total_deductions
                        ),
                    );
                }
            }
            RegistryRecord::SupportMeasure(s) => {
                v.digits("resident_id", &s.resident_id, 11);
                if let Some(to) = s.to {
                    v.order("to", s.from, to);
                }
            }
            RegistryRecord::Suppression(s) => {
                match s.scope {
                    SuppressionScope::Person => v.digits("id", &s.id, 11),
                    SuppressionScope::Household => v.non_empty("id", &s.id),
                }
                if let Some(to) = s.to {
                    v.order("to", s.from, to);
                }
            }
        }
        v.errors
    }
}

/// Checks a list of 戸籍 events; `field` names the list.
fn events(v: &mut Validation, field: impl fmt::Display, events: &[KosekiEvent]) {
    for (i, e) in events.iter().enumerate() {
        v.non_empty(format_args!("{field}[{i}].kind"), &e.kind);
    }
}

/// A problem with one field of a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's path, e.g. `my_number` or `members[1].member_no`.
    pub field: String,
    /// Why it is wrong.
    pub reason: String,
}

#[derive(Default)]
struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    /// Records a problem. A field's path is anything that displays (a `&str`, or
    /// `format_args!` for a path with indexes), written out only here.
    fn fail(&mut self, field: impl fmt::Display, reason: &str) {
        self.errors.push(FieldError {
            field: field.to_string(),
            reason: reason.to_owned(),
        });
    }

    fn non_empty(&mut self, field: impl fmt::Display, value: &str) {
        if value.trim().is_empty() {
            self.fail(field, "must not be empty");
        }
    }

    fn digits(&mut self, field: impl fmt::Display, value: &str, n: usize) {
        if value.len() != n || !value.bytes().all(|b| b.is_ascii_digit()) {
            self.fail(field, &format!("must be exactly {n} digits, got '{value}'"));
        }
    }

    fn katakana(&mut self, field: impl fmt::Display, value: &str) {
        let ok = !value.trim().is_empty()
            && value
                .chars()
                .all(|c| matches!(c, 'ァ'..='ヶ' | 'ー' | '・' | ' ' | '　'));
        if !ok {
            self.fail(field, "must be written in katakana");
        }
    }

    fn order(&mut self, field: impl fmt::Display, earlier: Date, later: Date) {
        if later < earlier {
            self.fail(field, &format!("{later} is before {earlier}"));
        }
    }

    fn png(&mut self, field: impl fmt::Display, b64: &str) {
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => {}
            Ok(_) => self.fail(field, "is not a PNG image"),
            Err(e) => self.fail(field, &format!("is not valid base64: {e}")),
        }
    }
}
