//! Eligibility: whether a certificate may be issued for a subject, on a channel, at
//! an instant — or the refusal reason of the LGWAN protocol, told in plain words.
//!
//! One function, [`decide`], holds every rule of DOMAIN.md §3. At a kiosk a refusal
//! is final. At the counter a refusal stops the request for review: the caller may
//! let an authorised person override a support measure (see
//! [`RefusalReason::counter_override`]); nothing else is overridable.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::calendar::{is_day_off, is_year_end_closure};
use crate::certificate::{CertificateKind, Channel};
use crate::date::{Date, local_date_time};
use crate::koseki::Koseki;
use crate::municipality::Municipality;
use crate::records::{
    Card, CardStatus, Seal, SealStatus, SupportMeasure, Suppression, SuppressionLevel,
    SuppressionScope, TaxRecord,
};
use crate::resident::{Resident, ResidentStatus};

/// The youngest age at which a card holder may use a kiosk.
pub const KIOSK_MINIMUM_AGE: i32 = 15;

/// What is asked: which certificate, where, and when (the requester's clock for a
/// kiosk, the counter terminal's clock at the counter).
#[derive(Clone, Copy, Debug)]
pub struct EligibilityRequest {
    /// The certificate.
    pub kind: CertificateKind,
    /// Counter or kiosk.
    pub channel: Channel,
    /// When it is asked.
    pub at: OffsetDateTime,
    /// The 年度 of a 課税証明書.
    pub tax_year: Option<i32>,
}

/// Everything known about the subject that the rules look at. The caller loads it;
/// the rules do no IO. Slices hold only records about the subject or its household.
#[derive(Clone, Copy, Debug)]
pub struct SubjectData<'a> {
    /// The town.
    pub municipality: &'a Municipality,
    /// The card presented at a kiosk (`None` at the counter, or when the serial is unknown).
    pub card: Option<&'a Card>,
    /// The subject's resident record, if there is one.
    pub resident: Option<&'a Resident>,
    /// Every member of the subject's household, the subject included.
    pub household: &'a [Resident],
    /// The subject's seal registration.
    pub seal: Option<&'a Seal>,
    /// The 戸籍 in this town in which the subject is recorded.
    pub koseki: Option<&'a Koseki>,
    /// The subject's tax record for the requested year.
    pub tax: Option<&'a TaxRecord>,
    /// Everyone else the certificate would show, with their resident records: the
    /// household members a 住民票 or 記載事項証明書 lists, and the members of a 戸籍
    /// certificate or 附票 who are linked to a resident. Each is checked like the
    /// subject, whatever form the subject was asked in (a resident, a 戸籍, a member).
    pub others_shown: &'a [Resident],
    /// Support measures on the subject, any household member or anyone in
    /// `others_shown`.
    pub support_measures: &'a [SupportMeasure],
    /// Suppressions on the subject, the subject's household, anyone in
    /// `others_shown` or their households.
    pub suppressions: &'a [Suppression],
}

/// Why a certificate cannot be issued: the protocol's reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The card serial is not registered, or not active.
    UnknownCard,
    /// No resident record.
    NotResident,
    /// Moved out, or a move-out is notified.
    MovedOut,
    /// Deceased.
    Deceased,
    /// A DV/stalking support measure on the subject or a household member.
    SupportMeasure,
    /// 発行抑止.
    Suppressed,
    /// No seal registered.
    SealNotRegistered,
    /// The seal registration is revoked.
    SealRevoked,
    /// Under 15 at a kiosk.
    UnderAge,
    /// Outside kiosk hours, the year-end closure or the 戸籍 hours.
    OutOfHours,
    /// A 届出 not yet reflected, or the day of moving in.
    NotYetReflected,
    /// No tax record for the year.
    NoTaxRecord,
    /// Not recorded in a 戸籍 of this town.
    DomicileNotHere,
    /// The town does not issue this certificate on this channel (no fee configured).
    NotOffered,
    /// A kiosk request's `requested_at` is too far from the server's clock.
    ClockSkew,
}

impl RefusalReason {
    /// The stable wire code.
    pub fn code(self) -> &'static str {
        match self {
            RefusalReason::UnknownCard => "unknown_card",
            RefusalReason::NotResident => "not_resident",
            RefusalReason::MovedOut => "moved_out",
            RefusalReason::Deceased => "deceased",
            RefusalReason::SupportMeasure => "support_measure",
            RefusalReason::Suppressed => "suppressed",
            RefusalReason::SealNotRegistered => "seal_not_registered",
            RefusalReason::SealRevoked => "seal_revoked",
            RefusalReason::UnderAge => "under_age",
            RefusalReason::OutOfHours => "out_of_hours",
            RefusalReason::NotYetReflected => "not_yet_reflected",
            RefusalReason::NoTaxRecord => "no_tax_record",
            RefusalReason::DomicileNotHere => "domicile_not_here",
            RefusalReason::NotOffered => "not_offered",
            RefusalReason::ClockSkew => "clock_skew",
        }
    }

    /// The sentence a kiosk screen shows. It never reveals why a support measure or
    /// a suppression exists, only where to ask.
    pub fn kiosk_message(self) -> &'static str {
        match self {
            RefusalReason::UnknownCard => {
                "このカードではこの市区町村の証明書を取得できません。市区町村の窓口にお問い合わせください。"
            }
            RefusalReason::NotResident => {
                "住民登録が確認できません。市区町村の窓口にお問い合わせください。"
            }
            RefusalReason::MovedOut => {
                "転出または転出予定の届出があるため、証明書を発行できません。窓口にお問い合わせください。"
            }
            RefusalReason::Deceased => "この証明書は発行できません。窓口にお問い合わせください。",
            RefusalReason::SupportMeasure | RefusalReason::Suppressed => {
                "この証明書はコンビニエンスストアでは発行できません。市区町村の窓口にお問い合わせください。"
            }
            RefusalReason::SealNotRegistered => {
                "印鑑登録がないため、印鑑登録証明書は発行できません。"
            }
            RefusalReason::SealRevoked => {
                "印鑑登録が廃止されているため、印鑑登録証明書は発行できません。"
            }
            RefusalReason::UnderAge => {
                "15歳未満の方はコンビニエンスストアで証明書を取得できません。"
            }
            RefusalReason::OutOfHours => {
                "ただいまの時間はこの証明書を発行できません。サービス提供時間内にご利用ください。"
            }
            RefusalReason::NotYetReflected => {
                "届出の内容がまだ反映されていないため、証明書を発行できません。後日ご利用いただくか、窓口にお問い合わせください。"
            }
            RefusalReason::NoTaxRecord => {
                "指定の年度の課税情報がないため、証明書を発行できません。窓口にお問い合わせください。"
            }
            RefusalReason::DomicileNotHere => {
                "本籍がこの市区町村にないため、戸籍の証明書は発行できません。"
            }
            RefusalReason::NotOffered => "この証明書はコンビニエンスストアでは発行していません。",
            RefusalReason::ClockSkew => {
                "端末の時刻が正しくないため、証明書を発行できません。時間をおいてもう一度お試しください。"
            }
        }
    }

    /// Who may override this refusal at the counter, if anyone.
    pub fn counter_override(self) -> Option<OverrideAuthority> {
        match self {
            RefusalReason::SupportMeasure => Some(OverrideAuthority::SupportMeasureOfficer),
            _ => None,
        }
    }
}

/// Who may lift a counter refusal for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideAuthority {
    /// 支援措置責任者.
    SupportMeasureOfficer,
}

/// A refusal, with a detail for staff (never shown on a kiosk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The protocol reason.
    pub reason: RefusalReason,
    /// What exactly matched, for staff and the audit trail.
    pub detail: String,
    /// The person a support measure or suppression protects, for the clerk to be told
    /// in their own language (never shown on a kiosk).
    pub person: Option<RefusedPerson>,
}

/// Whom a refusal concerns, as the clerk is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedPerson {
    /// Resident ID.
    pub resident_id: String,
    /// 氏名 as registered (empty if the record was not loaded).
    pub name: String,
    /// How the person relates to the certificate.
    pub relation: PersonRelation,
}

/// How a refused person relates to the certificate asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRelation {
    /// The subject.
    Subject,
    /// Someone who shares the subject's address (the household).
    HouseholdMember,
    /// Someone else the certificate shows (a 戸籍 member, a listed household member).
    Shown,
}

/// Something a clerk must read before issuing at the counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Stable code.
    pub code: &'static str,
    /// What to check.
    pub detail: String,
}

/// The answer of [`decide`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// May be issued; counter warnings to read first (always empty at a kiosk).
    Issuable {
        /// Warnings for the clerk.
        warnings: Vec<Warning>,
    },
    /// May not be issued.
    Refused(Refusal),
}

impl Decision {
    /// The refusal reason, if refused.
    pub fn refusal(&self) -> Option<RefusalReason> {
        match self {
            Decision::Refused(r) => Some(r.reason),
            Decision::Issuable { .. } => None,
        }
    }
}

fn refuse(reason: RefusalReason, detail: impl Into<String>) -> Decision {
    Decision::Refused(Refusal {
        reason,
        detail: detail.into(),
        person: None,
    })
}

/// Decides whether `request` may be issued for the subject described by `data`.
///
/// Checks run in a fixed order and the first refusal wins: service hours (kiosk),
/// card, residency and status, data freshness, age (kiosk), support measures,
/// suppressions, then the kind's own requirements (seal, 戸籍, tax record).
pub fn decide(request: &EligibilityRequest, data: &SubjectData<'_>) -> Decision {
    let (today, now) = local_date_time(request.at);
    let kiosk = request.channel == Channel::Kiosk;
    let kind = request.kind;
    let mut warnings = Vec::new();

    if data.municipality.fee(kind, request.channel).is_none() {
        return refuse(
            RefusalReason::NotOffered,
            format!("no fee is configured for {kind} on this channel"),
        );
    }

    if kiosk {
        if is_year_end_closure(today) {
            return refuse(
                RefusalReason::OutOfHours,
                format!("{today} is in the year-end closure (29 Dec – 3 Jan)"),
            );
        }
        let hours = data.municipality.kiosk_hours;
        if now < hours.open || now >= hours.close {
            return refuse(
                RefusalReason::OutOfHours,
                format!(
                    "{now} is outside kiosk hours {}–{}",
                    hours.open, hours.close
                ),
            );
        }
        if kind.is_koseki() {
            let koseki_hours = data.municipality.koseki_kiosk_hours;
            let window = if is_day_off(today) {
                koseki_hours.holiday
            } else {
                koseki_hours.weekday
            };
            match window {
                Some((open, close)) if now >= open && now < close => {}
                Some((open, close)) => {
                    return refuse(
                        RefusalReason::OutOfHours,
                        format!("{now} is outside 戸籍 kiosk hours {open}–{close}"),
                    );
                }
                None => {
                    return refuse(
                        RefusalReason::OutOfHours,
                        format!("戸籍 certificates are not issued at kiosks on {today}"),
                    );
                }
            }
        }
        match data.card {
            Some(card) if card.status == CardStatus::Active => {}
            Some(card) => {
                return refuse(
                    RefusalReason::UnknownCard,
                    format!("card registration is {:?}", card.status),
                );
            }
            None => return refuse(RefusalReason::UnknownCard, "card serial not registered"),
        }
    }

    // A 戸籍 certificate at the counter may concern someone who is not (or no longer)
    // a resident; every other case needs a living, present resident.
    let needs_resident = kiosk || !kind.is_koseki();
    let resident = match data.resident {
        Some(r) => Some(r),
        None if needs_resident => {
            return refuse(
                RefusalReason::NotResident,
                "no resident record for the subject",
            );
        }
        None => None,
    };

    // The town of the 賦課期日 (1 January) is the only one that can certify that year's
    // tax: its counter issues a 課税証明書 for someone who has since moved out or died.
    let status_applies = kiosk || kind != CertificateKind::ShotokuKazei;
    if let Some(r) = resident.filter(|_| needs_resident) {
        match r.status {
            ResidentStatus::Active => {}
            _ if !status_applies => {}
            ResidentStatus::Deceased => {
                return refuse(
                    RefusalReason::Deceased,
                    format!("deceased {}", opt_date(r.status_since)),
                );
            }
            ResidentStatus::MovedOut => {
                return refuse(
                    RefusalReason::MovedOut,
                    format!("moved out {}", opt_date(r.status_since)),
                );
            }
            ResidentStatus::MovingOut => {
                return refuse(
                    RefusalReason::MovedOut,
                    format!("move-out notified for {}", opt_date(r.status_since)),
                );
            }
        }
        let future = [
            ("resident_since", r.resident_since),
            ("address_since", r.address_since),
            ("notified_on", r.notified_on),
        ]
        .into_iter()
        .find(|(_, d)| *d > today);
        if let Some((field, date)) = future {
            return refuse(
                RefusalReason::NotYetReflected,
                format!("{field} {date} is after {today}"),
            );
        }
        if kiosk && r.resident_since == today {
            return refuse(RefusalReason::NotYetReflected, "the day of moving in");
        }
        if kiosk && r.birth_date.age_on(today) < KIOSK_MINIMUM_AGE {
            return refuse(
                RefusalReason::UnderAge,
                format!("age {} on {today}", r.birth_date.age_on(today)),
            );
        }
    }

    // Support measures: in force from their start until the registry deletes them.
    // A planned end that has passed does not reopen the record (fail closed). They
    // protect the subject, everyone who shares the subject's address (the household)
    // and everyone else the certificate shows.
    let subject_id = resident.map(|r| r.resident_id.as_str());
    let protected_role = |id: &str| -> Option<(PersonRelation, Option<&Resident>)> {
        if Some(id) == subject_id {
            return Some((PersonRelation::Subject, resident));
        }
        if let Some(m) = data.others_shown.iter().find(|m| m.resident_id == id) {
            return Some((PersonRelation::Shown, Some(m)));
        }
        data.household
            .iter()
            .find(|m| m.resident_id == id)
            .map(|m| (PersonRelation::HouseholdMember, Some(m)))
    };
    if let Some((m, (relation, person))) = data
        .support_measures
        .iter()
        .filter(|m| m.from <= today)
        .find_map(|m| protected_role(&m.resident_id).map(|role| (m, role)))
    {
        let whom = match relation {
            PersonRelation::Subject => "the subject",
            PersonRelation::HouseholdMember => "a household member",
            PersonRelation::Shown => "a person shown on the certificate",
        };
        let mut detail = format!(
            "support measure on {whom} {} since {}",
            named(person, &m.resident_id),
            m.from
        );
        if let Some(to) = m.to.filter(|to| *to < today) {
            detail.push_str(&format!(
                " (planned end {to} passed; still in force until lifted)"
            ));
        }
        return Decision::Refused(Refusal {
            reason: RefusalReason::SupportMeasure,
            detail,
            person: Some(refused_person(person, &m.resident_id, relation)),
        });
    }

    // A suppression stops a certificate about a person it covers: the subject or
    // anyone else shown, by person or by household.
    // The person a suppression's ID covers: the subject if it is theirs (or their
    // household's), else someone shown whose ID (or household ID) it is.
    let covered = |id: &str, scope: SuppressionScope| {
        fn key(r: &Resident, scope: SuppressionScope) -> &str {
            match scope {
                SuppressionScope::Person => &r.resident_id,
                SuppressionScope::Household => &r.household_id,
            }
        }
        if resident.is_some_and(|r| key(r, scope) == id) {
            return Some(resident);
        }
        data.others_shown
            .iter()
            .find(|m| key(m, scope) == id)
            .map(Some)
    };
    for s in data.suppressions {
        let covered = covered(&s.id, s.scope);
        let covers_kind = s.certificates.is_empty() || s.certificates.contains(&kind);
        // Like support measures, a suppression does not lift itself at its end date.
        let Some(person) = covered.filter(|_| covers_kind && s.from <= today) else {
            continue;
        };
        let detail = format!(
            "{:?} suppression on {} ({}) since {}{}",
            s.scope,
            s.id,
            named(person, &s.id),
            s.from,
            s.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        if kiosk || s.level == SuppressionLevel::Error {
            let relation = match person {
                Some(p) if Some(p.resident_id.as_str()) != subject_id => PersonRelation::Shown,
                _ => PersonRelation::Subject,
            };
            return Decision::Refused(Refusal {
                reason: RefusalReason::Suppressed,
                detail,
                person: person.map(|p| refused_person(Some(p), &p.resident_id, relation)),
            });
        }
        warnings.push(Warning {
            code: "suppression_warning",
            detail,
        });
    }

    match kind {
        CertificateKind::Inkan => match data.seal {
            None => return refuse(RefusalReason::SealNotRegistered, "no seal registration"),
            Some(s) if s.status == SealStatus::Revoked => {
                return refuse(
                    RefusalReason::SealRevoked,
                    format!("registration {} is revoked", s.registration_no),
                );
            }
            Some(_) => {}
        },
        CertificateKind::ShotokuKazei => match (data.tax, request.tax_year) {
            (Some(t), Some(year)) if t.fiscal_year == year => {}
            (_, year) => {
                return refuse(
                    RefusalReason::NoTaxRecord,
                    format!("no tax record for fiscal year {year:?}"),
                );
            }
        },
        k if k.is_koseki() => {
            let recorded = match (data.koseki, resident) {
                (Some(koseki), Some(r)) => koseki.member_for(r).is_some(),
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !recorded {
                return refuse(
                    RefusalReason::DomicileNotHere,
                    "not recorded in a 戸籍 of this town",
                );
            }
        }
        _ => {}
    }

    Decision::Issuable { warnings }
}

fn refused_person(person: Option<&Resident>, id: &str, relation: PersonRelation) -> RefusedPerson {
    RefusedPerson {
        resident_id: id.to_owned(),
        name: person.map(Resident::full_name).unwrap_or_default(),
        relation,
    }
}

/// A person as staff read them in a refusal: name and resident ID.
fn named(person: Option<&Resident>, id: &str) -> String {
    match person {
        Some(p) => format!("{} ({})", p.full_name(), p.resident_id),
        None => format!("({id})"),
    }
}

fn opt_date(d: Option<Date>) -> String {
    d.map_or_else(|| "(date not recorded)".to_owned(), |d| d.to_string())
}

#[cfg(test)]
#[path = "eligibility_tests.rs"]
mod tests;
