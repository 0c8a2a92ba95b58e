//! Tests of the eligibility rules: one case per rule, and properties over random inputs.

use proptest::prelude::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;
use crate::records::{Card, SuppressionLevel};
use crate::sample;

fn at(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).unwrap()
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// A world a test can tweak before asking.
struct World {
    town: Municipality,
    card: Option<Card>,
    resident: Option<Resident>,
    household: Vec<Resident>,
    seal: Option<Seal>,
    koseki: Option<Koseki>,
    tax: Option<TaxRecord>,
    measures: Vec<SupportMeasure>,
    suppressions: Vec<Suppression>,
    /// Others the certificate shows.
    others: Vec<Resident>,
}

impl World {
    fn new() -> Self {
        World {
            town: sample::municipality(),
            card: Some(sample::card()),
            resident: Some(sample::head_of_household()),
            household: vec![
                sample::head_of_household(),
                sample::spouse(),
                sample::child(),
            ],
            seal: Some(sample::seal()),
            koseki: Some(sample::koseki()),
            tax: Some(sample::tax()),
            measures: vec![],
            suppressions: vec![],
            others: vec![],
        }
    }

    fn ask(&self, kind: CertificateKind, channel: Channel, when: &str) -> Option<RefusalReason> {
        self.decide(kind, channel, when).refusal()
    }

    fn decide(&self, kind: CertificateKind, channel: Channel, when: &str) -> Decision {
        let data = SubjectData {
            municipality: &self.town,
            card: self.card.as_ref(),
            resident: self.resident.as_ref(),
            household: &self.household,
            seal: self.seal.as_ref(),
            koseki: self.koseki.as_ref(),
            tax: self.tax.as_ref(),
            others_shown: &self.others,
            support_measures: &self.measures,
            suppressions: &self.suppressions,
        };
        decide(
            &EligibilityRequest {
                kind,
                channel,
                at: at(when),
                tax_year: Some(2026),
            },
            &data,
        )
    }
}

const WEEKDAY_NOON: &str = "2026-11-25T12:00:00+09:00";

use CertificateKind::*;
use Channel::{Counter, Kiosk};
use RefusalReason as R;

/// One rule, one line: (what to change, kind, channel, when, expected refusal).
type Case = (
    &'static str,
    fn(&mut World),
    CertificateKind,
    Channel,
    &'static str,
    Option<RefusalReason>,
);

#[test]
fn rules() {
    let cases: Vec<Case> = vec![
        (
            "plain kiosk request",
            |_| {},
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "plain counter request",
            |_| {},
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "before 6:30",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-25T06:29:59+09:00",
            Some(R::OutOfHours),
        ),
        (
            "at 6:30",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-25T06:30:00+09:00",
            None,
        ),
        (
            "at 23:00",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-25T23:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "UTC clock inside hours in JST",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-25T13:59:00Z",
            None,
        ),
        (
            "UTC clock past 23:00 JST",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-25T14:00:00Z",
            Some(R::OutOfHours),
        ),
        (
            "29 December",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-12-29T12:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "3 January",
            |_| {},
            Juminhyo,
            Kiosk,
            "2027-01-03T12:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "4 January",
            |_| {},
            Juminhyo,
            Kiosk,
            "2027-01-04T12:00:00+09:00",
            None,
        ),
        (
            "year-end at the counter",
            |_| {},
            Juminhyo,
            Counter,
            "2026-12-29T12:00:00+09:00",
            None,
        ),
        (
            "戸籍 on a weekday afternoon",
            |_| {},
            KosekiZenbu,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "戸籍 at 17:00",
            |_| {},
            KosekiZenbu,
            Kiosk,
            "2026-11-25T17:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "戸籍 on Saturday",
            |_| {},
            KosekiKojin,
            Kiosk,
            "2026-11-28T12:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "戸籍 on a national holiday",
            |_| {},
            Fuhyo,
            Kiosk,
            "2026-11-23T12:00:00+09:00",
            Some(R::OutOfHours),
        ),
        (
            "住民票 on a national holiday",
            |_| {},
            Juminhyo,
            Kiosk,
            "2026-11-23T12:00:00+09:00",
            None,
        ),
        (
            "unknown card",
            |w| w.card = None,
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::UnknownCard),
        ),
        (
            "revoked card",
            |w| w.card.as_mut().unwrap().status = CardStatus::Revoked,
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::UnknownCard),
        ),
        (
            "no card needed at the counter",
            |w| w.card = None,
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "no resident",
            |w| w.resident = None,
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::NotResident),
        ),
        (
            "moved out",
            |w| w.resident.as_mut().unwrap().status = ResidentStatus::MovedOut,
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::MovedOut),
        ),
        (
            "moving out",
            |w| w.resident.as_mut().unwrap().status = ResidentStatus::MovingOut,
            Inkan,
            Counter,
            WEEKDAY_NOON,
            Some(R::MovedOut),
        ),
        (
            "deceased",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.status = ResidentStatus::Deceased;
                r.status_since = Some(d("2026-10-01"));
            },
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::Deceased),
        ),
        (
            "deceased person's 戸籍 at the counter",
            |w| w.resident.as_mut().unwrap().status = ResidentStatus::Deceased,
            KosekiZenbu,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "notified tomorrow",
            |w| w.resident.as_mut().unwrap().notified_on = d("2026-11-26"),
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::NotYetReflected),
        ),
        (
            "moved in today, kiosk",
            |w| w.resident.as_mut().unwrap().resident_since = d("2026-11-25"),
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::NotYetReflected),
        ),
        (
            "moved in today, counter",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.resident_since = d("2026-11-25");
                r.address_since = d("2026-11-25");
                r.notified_on = d("2026-11-25");
            },
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "aged 14 at a kiosk",
            |w| w.resident.as_mut().unwrap().birth_date = d("2011-11-26"),
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::UnderAge),
        ),
        (
            "15 today at a kiosk",
            |w| w.resident.as_mut().unwrap().birth_date = d("2011-11-25"),
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "aged 10 at the counter",
            |w| w.resident = Some(sample::child()),
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "support measure on the subject",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000019".into(),
                    from: d("2026-01-10"),
                    to: Some(d("2027-01-09")),
                })
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::SupportMeasure),
        ),
        (
            "support measure on a household member",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000027".into(),
                    from: d("2026-01-10"),
                    to: None,
                })
            },
            Inkan,
            Counter,
            WEEKDAY_NOON,
            Some(R::SupportMeasure),
        ),
        (
            "support measure past its planned end",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000019".into(),
                    from: d("2025-01-10"),
                    to: Some(d("2026-01-09")),
                })
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::SupportMeasure),
        ),
        (
            "support measure starting next month",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000019".into(),
                    from: d("2026-12-01"),
                    to: None,
                })
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "support measure on a stranger",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000999".into(),
                    from: d("2026-01-01"),
                    to: None,
                })
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "moved out: the 賦課期日 town's counter still certifies the tax",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.status = ResidentStatus::MovedOut;
                r.status_since = Some(d("2026-03-31"));
            },
            ShotokuKazei,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "deceased: the 賦課期日 town's counter still certifies the tax",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.status = ResidentStatus::Deceased;
                r.status_since = Some(d("2026-08-01"));
            },
            ShotokuKazei,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "moved out: no 課税証明書 at a kiosk",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.status = ResidentStatus::MovedOut;
                r.status_since = Some(d("2026-03-31"));
            },
            ShotokuKazei,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::MovedOut),
        ),
        (
            "moved out: no 住民票 at the counter either",
            |w| {
                let r = w.resident.as_mut().unwrap();
                r.status = ResidentStatus::MovedOut;
                r.status_since = Some(d("2026-03-31"));
            },
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::MovedOut),
        ),
        (
            "support measure on a 戸籍 member living elsewhere, shown on the certificate",
            |w| {
                w.others.push(estranged_spouse());
                w.measures.push(SupportMeasure {
                    resident_id: "00000000108".into(),
                    from: d("2026-01-10"),
                    to: None,
                })
            },
            Fuhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::SupportMeasure),
        ),
        (
            "support measure on a 戸籍 member living elsewhere, not shown",
            |w| {
                w.measures.push(SupportMeasure {
                    resident_id: "00000000108".into(),
                    from: d("2026-01-10"),
                    to: None,
                })
            },
            KosekiKojin,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "person suppression on someone shown",
            |w| {
                w.others.push(estranged_spouse());
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000108",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-01-01",
                    None,
                ))
            },
            KosekiZenbu,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "household suppression on the household of someone shown",
            |w| {
                w.others.push(estranged_spouse());
                w.suppressions.push(suppression(
                    SuppressionScope::Household,
                    "H0999",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-01-01",
                    None,
                ))
            },
            KosekiZenbu,
            Counter,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "person suppression on a household member not shown",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000027",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-01-01",
                    None,
                ))
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "household suppression",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Household,
                    "H0001",
                    vec![Juminhyo],
                    SuppressionLevel::Error,
                    "2026-03-01",
                    None,
                ))
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "household suppression, other kind",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Household,
                    "H0001",
                    vec![Juminhyo],
                    SuppressionLevel::Error,
                    "2026-03-01",
                    None,
                ))
            },
            Inkan,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "person suppression, all kinds",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000019",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-03-01",
                    None,
                ))
            },
            ShotokuKazei,
            Counter,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "suppression past its end date stays",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000019",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-03-01",
                    Some("2026-04-01"),
                ))
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "suppression not yet started",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000019",
                    vec![],
                    SuppressionLevel::Error,
                    "2026-12-01",
                    None,
                ))
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "warning suppression at a kiosk",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000019",
                    vec![],
                    SuppressionLevel::Warning,
                    "2026-03-01",
                    None,
                ))
            },
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::Suppressed),
        ),
        (
            "warning suppression at the counter",
            |w| {
                w.suppressions.push(suppression(
                    SuppressionScope::Person,
                    "00000000019",
                    vec![],
                    SuppressionLevel::Warning,
                    "2026-03-01",
                    None,
                ))
            },
            Juminhyo,
            Counter,
            WEEKDAY_NOON,
            None,
        ),
        (
            "no seal",
            |w| w.seal = None,
            Inkan,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::SealNotRegistered),
        ),
        (
            "revoked seal",
            |w| w.seal.as_mut().unwrap().status = SealStatus::Revoked,
            Inkan,
            Counter,
            WEEKDAY_NOON,
            Some(R::SealRevoked),
        ),
        (
            "revoked seal, 住民票 still fine",
            |w| w.seal.as_mut().unwrap().status = SealStatus::Revoked,
            Juminhyo,
            Kiosk,
            WEEKDAY_NOON,
            None,
        ),
        (
            "no tax record",
            |w| w.tax = None,
            ShotokuKazei,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::NoTaxRecord),
        ),
        (
            "tax record of another year",
            |w| w.tax.as_mut().unwrap().fiscal_year = 2025,
            ShotokuKazei,
            Kiosk,
            WEEKDAY_NOON,
            Some(R::NoTaxRecord),
        ),
        (
            "no 戸籍 here",
            |w| w.koseki = None,
            KosekiZenbu,
            Kiosk,
            "2026-11-25T10:00:00+09:00",
            Some(R::DomicileNotHere),
        ),
        (
            "戸籍 of someone else",
            |w| w.resident.as_mut().unwrap().given = "次郎".into(),
            KosekiKojin,
            Kiosk,
            "2026-11-25T10:00:00+09:00",
            Some(R::DomicileNotHere),
        ),
        (
            "kind not offered",
            |w| {
                w.town.fees_yen.remove(&Fuhyo);
            },
            Fuhyo,
            Counter,
            WEEKDAY_NOON,
            Some(R::NotOffered),
        ),
    ];
    for (name, tweak, kind, channel, when, expected) in cases {
        let mut w = World::new();
        tweak(&mut w);
        assert_eq!(w.ask(kind, channel, when), expected, "{name}");
    }
}

/// A spouse recorded in the subject's 戸籍 who lives in another household.
fn estranged_spouse() -> Resident {
    let mut r = sample::spouse();
    r.resident_id = "00000000108".into();
    r.household_id = "H0999".into();
    r
}

fn suppression(
    scope: SuppressionScope,
    id: &str,
    certificates: Vec<CertificateKind>,
    level: SuppressionLevel,
    from: &str,
    to: Option<&str>,
) -> Suppression {
    Suppression {
        scope,
        id: id.into(),
        certificates,
        level,
        from: d(from),
        to: to.map(d),
        reason: Some("審査中".into()),
    }
}

#[test]
fn counter_warning_is_reported() {
    let mut w = World::new();
    w.suppressions.push(suppression(
        SuppressionScope::Person,
        "00000000019",
        vec![],
        SuppressionLevel::Warning,
        "2026-03-01",
        None,
    ));
    match w.decide(Juminhyo, Counter, WEEKDAY_NOON) {
        Decision::Issuable { warnings } => assert_eq!(warnings.len(), 1),
        other => panic!("expected a warning, got {other:?}"),
    }
}

#[test]
fn only_support_measures_are_overridable() {
    for reason in [
        R::UnknownCard,
        R::Suppressed,
        R::SealRevoked,
        R::Deceased,
        R::MovedOut,
    ] {
        assert_eq!(reason.counter_override(), None);
    }
    assert_eq!(
        R::SupportMeasure.counter_override(),
        Some(OverrideAuthority::SupportMeasureOfficer)
    );
}

#[test]
fn codes_are_the_protocols() {
    let codes: Vec<&str> = [
        R::UnknownCard,
        R::NotResident,
        R::MovedOut,
        R::Deceased,
        R::SupportMeasure,
        R::Suppressed,
        R::SealNotRegistered,
        R::SealRevoked,
        R::UnderAge,
        R::OutOfHours,
        R::NotYetReflected,
        R::NoTaxRecord,
        R::DomicileNotHere,
    ]
    .into_iter()
    .map(RefusalReason::code)
    .collect();
    assert_eq!(
        codes,
        [
            "unknown_card",
            "not_resident",
            "moved_out",
            "deceased",
            "support_measure",
            "suppressed",
            "seal_not_registered",
            "seal_revoked",
            "under_age",
            "out_of_hours",
            "not_yet_reflected",
            "no_tax_record",
            "domicile_not_here"
        ]
    );
}

fn any_kind() -> impl Strategy<Value = CertificateKind> {
    prop::sample::select(CertificateKind::ALL.to_vec())
}

fn any_instant() -> impl Strategy<Value = OffsetDateTime> {
    // 2025-01-01 .. 2028-01-01, any minute, any offset within a day.
    (0i64..(3 * 365 * 24 * 60), -12i8..=14).prop_map(|(minutes, offset)| {
        let base = at("2025-01-01T00:00:00Z") + time::Duration::minutes(minutes);
        base.to_offset(time::UtcOffset::from_hms(offset, 0, 0).unwrap())
    })
}

proptest! {
    /// Whatever else holds, a kiosk never issues outside its hours or in the year-end closure.
    #[test]
    fn kiosk_never_issues_out_of_hours(kind in any_kind(), when in any_instant()) {
        let w = World::new();
        let (date, tod) = local_date_time(when);
        let decision = w.decide(kind, Kiosk, &when.format(&Rfc3339).unwrap());
        let open = tod >= w.town.kiosk_hours.open && tod < w.town.kiosk_hours.close && !is_year_end_closure(date);
        if !open {
            prop_assert_eq!(decision.refusal(), Some(R::OutOfHours));
        }
    }

    /// A deceased or moved-out subject, a support measure or an error-level suppression
    /// always stops a 住民票, whatever the channel and time.
    #[test]
    fn blocking_facts_always_block(channel in prop::sample::select(vec![Counter, Kiosk]), when in any_instant(), fact in 0u8..4) {
        let mut w = World::new();
        match fact {
            0 => w.resident.as_mut().unwrap().status = ResidentStatus::Deceased,
            1 => w.resident.as_mut().unwrap().status = ResidentStatus::MovedOut,
            2 => w.measures.push(SupportMeasure { resident_id: "00000000027".into(), from: d("2024-01-01"), to: None }),
            _ => w.suppressions.push(suppression(SuppressionScope::Household, "H0001", vec![], SuppressionLevel::Error, "2024-01-01", None)),
        }
        let decision = w.decide(Juminhyo, channel, &when.format(&Rfc3339).unwrap());
        prop_assert!(decision.refusal().is_some(), "{:?}", decision);
    }

    /// The counter never refuses for kiosk-only reasons.
    #[test]
    fn counter_ignores_kiosk_rules(kind in any_kind(), when in any_instant(), birth_year in 2010i32..2026) {
        let mut w = World::new();
        w.card = None;
        w.resident.as_mut().unwrap().birth_date = Date::from_ymd(birth_year, 1, 1).unwrap();
        w.koseki.as_mut().unwrap().members[0].birth_date = Date::from_ymd(birth_year, 1, 1).unwrap();
        let reason = w.ask(kind, Counter, &when.format(&Rfc3339).unwrap());
        prop_assert!(!matches!(reason, Some(R::OutOfHours | R::UnderAge | R::UnknownCard)), "{:?}", reason);
    }
}
