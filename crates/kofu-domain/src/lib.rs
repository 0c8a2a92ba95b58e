//! kofu-domain: the pure types and rules of certificate issuance.
//!
//! Residents, households, 戸籍, seals, tax records, protective measures; the seven
//! certificate kinds and their options; eligibility, fees, service hours, 和暦 and
//! 発行番号. Nothing here does IO or reads a clock: instants and dates are parameters.

pub mod calendar;
pub mod certificate;
pub mod date;
pub mod eligibility;
pub mod fee;
pub mod issue_number;
pub mod koseki;
pub mod municipality;
pub mod my_number;
pub mod ordered_map;
pub mod records;
pub mod resident;
pub mod sample;
pub mod search;
pub mod settings;
pub mod wareki;

pub use certificate::{
    Applicant, CertificateKind, CertificateOption, CertificateOptions, Channel, HouseholdSelection,
};
pub use date::{Date, TimeOfDay};
pub use eligibility::{
    Decision, EligibilityRequest, PersonRelation, RefusalReason, RefusedPerson, SubjectData, decide,
};
pub use fee::{Fee, compute_fee};
pub use issue_number::{IssueNumber, IssuePoint};
pub use koseki::{Fuhyo, FuhyoEntry, Koseki, KosekiEvent, KosekiMember};
pub use municipality::{Certifier, Deputy, Municipality};
pub use my_number::MyNumber;
pub use records::{
    Card, FieldError, RecordKey, RegistryRecord, Seal, SupportMeasure, Suppression, TaxRecord,
};
pub use resident::{ForeignDetails, Household, Resident, ResidentStatus, Sex};
