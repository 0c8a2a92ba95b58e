//! A small sample town (見本市) with a typical household, for tests and examples in
//! every crate. Pure data; the demo-town generator makes large towns.

use std::collections::BTreeMap;

use crate::certificate::CertificateKind;
use crate::date::Date;
use crate::koseki::{Koseki, KosekiEvent, KosekiMember};
use crate::municipality::{Deputy, KioskHours, KosekiKioskHours, Municipality};
use crate::my_number::MyNumber;
use crate::ordered_map::OrderedMap;
use crate::records::{Card, CardStatus, Seal, SealStatus, TaxRecord};
use crate::resident::{ForeignDetails, Resident, ResidentStatus, Sex};

/// A 64×64 black seal-like ring, PNG base64: the sample 電子公印.
pub const OFFICIAL_SEAL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAYAAACqaXHeAAABDUlEQVR42u2bURKEMAhDuf+ls0dYd0fgtQkz/RTCs1pbsCo2Zvpx2CV8DRA1D9vEsSA6RB8BYlIcDsSWGAQEwl1Y00B7Dkf1UN/GI7o6AnT7Ezn5GvIpLNXhJROXfA37VgDAkq8F/yKJQ8fQxQBEEYaNIwMAIohCxpIRAL0tSIvjNeAB4AxgY5+/HU+bYnAxAyAAAiAAAiAAAiAAAsD1U7gMAWQ3GAAvbonpAB5fZ30oOr0aII/Fq8wLI5OzAFsaqzIvjk7NAnR5fAJCOkToALoh4JukuiEc0SbX6fiYRslv3/vbAKz7hVEd4xbt8k+3v7fF/fsM4MRYLeKu/Glq+1QIa7aJd4M43uwSPsI+1UImEyF5SC0AAAAASUVORK5CYII=";

/// A 64×64 red seal impression, PNG base64: the sample 印影.
pub const SEAL_IMPRESSION_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAYAAACqaXHeAAABJklEQVR42u2b2RGDMAxEXQn9l0JXSQPMYMB7yFrP5DPa1Ut8CTFGBmecx/F78mmX8DZAVideBgQ6cVsQCNMlQDDN2YFQmbGA4PAryDy4zUOqH9fVmOILIYCOtwwCKjAj5ue4zK3N7t+KnlfM2K/itwbAWO3Z8R9pMLY6Ww3WXq/QmNJRnestdJQXG+ZJUW7KUot9zldqXep9McQuh62oMgVAAAjnP3sNuM1RUeSw0gyAAAiAAAiAAAiAAAiArkdhB0NyvVyHA4DT06MAMP291kXRlMXFxmx02j8aU5mz0mj/eJwBIR0i7gDQEOybpNAQSrTJIQOXaZS8O++rAbTuF7bqGG/RLj97/d1N93UNoKIWxNyWL02pq0LDdbRNHA1iVB/tEq4y/jiwYPc6jh51AAAAAElFTkSuQmCC";

fn date(s: &str) -> Date {
    s.parse()
        .unwrap_or_else(|_| unreachable!("sample dates are valid"))
}

/// 見本市: mayor 見本 一郎, a deputy 1–14 June 2026, kiosk 6:30–23:00, 戸籍 at kiosks
/// 9:00–17:00 on weekdays, fees 300/450 yen with a 200-yen kiosk 住民票.
pub fn municipality() -> Municipality {
    let mut fees_yen = BTreeMap::new();
    for kind in CertificateKind::ALL {
        let fee = if matches!(
            kind,
            CertificateKind::KosekiZenbu | CertificateKind::KosekiKojin
        ) {
            450
        } else {
            300
        };
        fees_yen.insert(kind, fee);
    }
    let hm = |s: &str| {
        s.parse()
            .unwrap_or_else(|_| unreachable!("sample times are valid"))
    };
    Municipality {
        code: "999999".into(),
        name: "見本市".into(),
        prefecture: "見本県".into(),
        mayor: "見本 一郎".into(),
        deputies: vec![Deputy {
            name: "代理 二郎".into(),
            office: Some("副市長".into()),
            from: date("2026-06-01"),
            to: date("2026-06-14"),
        }],
        seal_png_base64: Some(OFFICIAL_SEAL_PNG_BASE64.into()),
        kiosk_hours: KioskHours {
            open: hm("06:30"),
            close: hm("23:00"),
        },
        koseki_kiosk_hours: KosekiKioskHours {
            weekday: Some((hm("09:00"), hm("17:00"))),
            holiday: None,
        },
        fees_yen,
        kiosk_fees_yen: BTreeMap::from([(CertificateKind::Juminhyo, 200)]),
    }
}

/// 見本 太郎, head of household H0001, born 1980-04-01, with 本籍 in town and a 個人番号.
pub fn head_of_household() -> Resident {
    Resident {
        resident_id: "00000000019".into(),
        household_id: "H0001".into(),
        family: "見本".into(),
        given: "太郎".into(),
        family_kana: "ミホン".into(),
        given_kana: "タロウ".into(),
        former_family: None,
        alias: None,
        sex: Sex::Male,
        birth_date: date("1980-04-01"),
        relationship: "世帯主".into(),
        address: "見本県見本市中央一丁目2番3号".into(),
        resident_since: date("2010-04-01"),
        address_since: date("2010-04-01"),
        notified_on: date("2010-04-05"),
        previous_address: Some("東京都千代田区霞が関二丁目1番2号".into()),
        honseki: Some("見本県見本市中央一丁目2番".into()),
        hitto: Some("見本 太郎".into()),
        my_number: MyNumber::parse("123456789018").ok(),
        status: ResidentStatus::Active,
        status_since: None,
        foreign: None,
    }
}

/// 見本 花子, the spouse, with 旧氏 葛󠄂西 (葛 with its IVS variant).
pub fn spouse() -> Resident {
    Resident {
        resident_id: "00000000027".into(),
        given: "花子".into(),
        given_kana: "ハナコ".into(),
        former_family: Some("葛\u{E0102}西".into()),
        sex: Sex::Female,
        birth_date: date("1982-08-15"),
        relationship: "妻".into(),
        my_number: None,
        ..head_of_household()
    }
}

/// 見本 一郎, a child aged 10 in 2026.
pub fn child() -> Resident {
    Resident {
        resident_id: "00000000035".into(),
        given: "一郎".into(),
        given_kana: "イチロウ".into(),
        sex: Sex::Male,
        birth_date: date("2016-05-05"),
        relationship: "子".into(),
        resident_since: date("2016-05-05"),
        address_since: date("2016-05-05"),
        notified_on: date("2016-05-10"),
        previous_address: None,
        my_number: None,
        ..head_of_household()
    }
}

/// A foreign resident living alone (household H0002).
pub fn foreign_resident() -> Resident {
    Resident {
        resident_id: "00000000043".into(),
        household_id: "H0002".into(),
        family: "SMITH".into(),
        given: "JOHN".into(),
        family_kana: "スミス".into(),
        given_kana: "ジョン".into(),
        alias: None,
        birth_date: date("1990-02-03"),
        relationship: "世帯主".into(),
        address: "見本県見本市港町三丁目4番5号".into(),
        resident_since: date("2024-04-01"),
        address_since: date("2024-04-01"),
        notified_on: date("2024-04-02"),
        previous_address: Some("アメリカ合衆国".into()),
        honseki: None,
        hitto: None,
        my_number: None,
        foreign: Some(ForeignDetails {
            nationality: "アメリカ合衆国".into(),
            alias: None,
            residence_status: "技術・人文知識・国際業務".into(),
            period: Some("3年".into()),
            period_end: Some(date("2027-05-01")),
            card_number: "AB12345678CD".into(),
            category: "中長期在留者".into(),
        }),
        ..head_of_household()
    }
}

/// The head's active seal registration.
pub fn seal() -> Seal {
    Seal {
        resident_id: "00000000019".into(),
        registration_no: "S-000001".into(),
        registered_on: date("2015-05-01"),
        image_png_base64: SEAL_IMPRESSION_PNG_BASE64.into(),
        status: SealStatus::Active,
        size_mm: Some(15.0),
    }
}

/// The head's card.
pub fn card() -> Card {
    Card {
        resident_id: "00000000019".into(),
        auth_serial: "0A1B2C3D".into(),
        status: CardStatus::Active,
    }
}

fn parents(member_no: u32) -> (&'static str, &'static str) {
    match member_no {
        2 => ("葛\u{E0102}西 三郎", "葛\u{E0102}西 秋子"),
        3 => ("見本 太郎", "見本 花子"),
        _ => ("見本 一郎", "見本 春子"),
    }
}

/// The household's 戸籍 (K0001): 太郎 and 花子 married in 2008, 一郎 born 2016.
pub fn koseki() -> Koseki {
    let ev = |kind: &str, d: &str, details: &[(&str, &str)]| KosekiEvent {
        kind: kind.into(),
        date: date(d),
        details: OrderedMap(
            details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
    };
    let member = |no, given: &str, birth: &str, sex, role: &str, rel: &str, events| KosekiMember {
        member_no: no,
        family: "見本".into(),
        given: given.into(),
        birth_date: date(birth),
        sex,
        // 花子 (2) came from the 葛󠄂西 family; 一郎 (3) is 太郎 and 花子's son.
        father: Some(parents(no).0.into()),
        mother: Some(parents(no).1.into()),
        parent_relationship: Some(rel.into()),
        adoptive_father: None,
        adoptive_mother: None,
        adoptive_relationship: None,
        role: Some(role.into()),
        events,
        removed: None,
        resident_id: None,
    };
    Koseki {
        koseki_id: "K0001".into(),
        honseki: "見本県見本市中央一丁目2番".into(),
        hitto: "見本 太郎".into(),
        events: vec![ev("編製", "2008-10-10", &[("編製事由", "婚姻")])],
        members: vec![
            member(
                1,
                "太郎",
                "1980-04-01",
                Sex::Male,
                "夫",
                "長男",
                vec![
                    ev(
                        "出生",
                        "1980-04-01",
                        &[("出生地", "見本県見本市"), ("届出人", "父")],
                    ),
                    ev(
                        "婚姻",
                        "2008-10-10",
                        &[
                            ("配偶者氏名", "見本 花子"),
                            ("従前戸籍", "見本県見本市中央一丁目2番 見本 一郎"),
                        ],
                    ),
                ],
            ),
            member(
                2,
                "花子",
                "1982-08-15",
                Sex::Female,
                "妻",
                "長女",
                vec![
                    ev(
                        "出生",
                        "1982-08-15",
                        &[("出生地", "東京都千代田区"), ("届出人", "父")],
                    ),
                    ev(
                        "婚姻",
                        "2008-10-10",
                        &[
                            ("配偶者氏名", "見本 太郎"),
                            (
                                "従前戸籍",
                                "東京都千代田区霞が関二丁目1番 葛\u{E0102}西 三郎",
                            ),
                        ],
                    ),
                ],
            ),
            member(
                3,
                "一郎",
                "2016-05-05",
                Sex::Male,
                "子",
                "長男",
                vec![ev(
                    "出生",
                    "2016-05-05",
                    &[("出生地", "見本県見本市"), ("届出人", "父")],
                )],
            ),
        ],
    }
}

/// The head's 2026 tax record.
pub fn tax() -> TaxRecord {
    TaxRecord {
        resident_id: "00000000019".into(),
        fiscal_year: 2026,
        assessed_address: "見本県見本市中央一丁目2番3号".into(),
        income: OrderedMap(vec![("給与".into(), 5_200_000)]),
        total_income: 3_660_000,
        deductions: OrderedMap(vec![
            ("社会保険料控除".into(), 720_000),
            ("基礎控除".into(), 430_000),
        ]),
        total_deductions: 1_150_000,
        taxable_base: 2_510_000,
        municipal_tax: 150_600,
        prefectural_tax: 100_400,
        income_amounts: Some(OrderedMap(vec![("給与".into(), 3_660_000)])),
        municipal_per_capita: Some(3_000),
        prefectural_per_capita: Some(1_000),
        assessed_name: None,
    }
}
