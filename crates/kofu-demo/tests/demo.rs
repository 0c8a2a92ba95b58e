//! The demo town end to end: determinism, validity of every line, consistency between
//! records, plausible distributions, unique identifiers, IVS names.

use std::collections::{HashMap, HashSet};

use kofu_demo::{RegistryRecord, TownConfig, TownSummary, write_town};
use kofu_domain::resident::{Resident, ResidentStatus};

fn town(residents: u64, seed: u64) -> (Vec<u8>, TownSummary) {
    let mut out = Vec::new();
    let summary = write_town(&TownConfig::new(residents, seed), &mut out).expect("writes");
    (out, summary)
}

fn parse(bytes: &[u8]) -> Vec<RegistryRecord> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let r: RegistryRecord = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
            let errors = r.validate();
            assert!(errors.is_empty(), "line {}: {errors:?}: {line}", i + 1);
            // Round trip: serializing again gives the very same line.
            assert_eq!(
                serde_json::to_string(&r).expect("serializes"),
                line,
                "line {}",
                i + 1
            );
            r
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, sa) = town(3_000, 7);
    let (b, sb) = town(3_000, 7);
    let (c, _) = town(3_000, 8);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert_ne!(a, c);
    assert_eq!(sa.bytes, a.len() as u64);
    // A bigger town starts with the same households.
    let (d, _) = town(3_500, 7);
    let prefix = a.len() * 9 / 10;
    assert_eq!(a[..prefix], d[..prefix]);
}

#[test]
fn threaded_writer_matches_the_iterator() {
    let config = TownConfig::new(4_000, 11);
    let mut expected = Vec::new();
    let mut records = kofu_demo::town_records(&config);
    for r in records.by_ref() {
        serde_json::to_writer(&mut expected, &r).expect("serializes");
        expected.push(b'\n');
    }
    let (written, summary) = town(4_000, 11);
    assert_eq!(written, expected);
    let mut from_iter = *records.summary();
    from_iter.bytes = summary.bytes;
    assert_eq!(summary, from_iter);
}

#[test]
fn tiny_towns() {
    for n in 0..5 {
        let (bytes, s) = town(n, 3);
        let records = parse(&bytes);
        assert_eq!(s.residents, n);
        assert_eq!(s.records() as usize, records.len());
        assert!(matches!(records[0], RegistryRecord::Municipality(_)));
    }
}

struct Town {
    summary: TownSummary,
    records: Vec<RegistryRecord>,
}

fn big_town() -> &'static Town {
    static TOWN: std::sync::OnceLock<Town> = std::sync::OnceLock::new();
    TOWN.get_or_init(|| {
        let (bytes, summary) = town(20_000, 2026);
        let records = parse(&bytes);
        Town { summary, records }
    })
}

fn residents(t: &Town) -> impl Iterator<Item = &Resident> {
    t.records.iter().filter_map(|r| match r {
        RegistryRecord::Resident(r) => Some(r),
        _ => None,
    })
}

#[test]
fn every_line_validates_and_counts_match() {
    let t = big_town();
    let mut by_type: HashMap<&str, u64> = HashMap::new();
    for r in &t.records {
        *by_type.entry(r.type_name()).or_default() += 1;
    }
    for (ty, n) in &by_type {
        assert_eq!(t.summary.count(ty), *n, "{ty}");
    }
    assert_eq!(t.summary.municipality, 1);
    assert_eq!(t.summary.residents, 20_000);
    let RegistryRecord::Municipality(m) = &t.records[0] else {
        panic!("the first line is the municipality");
    };
    assert_eq!(m, &kofu_domain::sample::municipality());
}

#[test]
fn identifiers_are_unique() {
    let t = big_town();
    let mut ids = HashSet::new();
    let mut numbers = HashSet::new();
    let mut cards = HashSet::new();
    for r in residents(t) {
        assert!(
            ids.insert(r.resident_id.clone()),
            "resident {}",
            r.resident_id
        );
        if let Some(n) = &r.my_number {
            assert!(numbers.insert(n.expose().to_owned()), "my number");
        }
        if let Some(f) = &r.foreign {
            assert!(cards.insert(f.card_number.clone()), "{}", f.card_number);
        }
    }
    let with_number = numbers.len() as f64 / ids.len() as f64;
    assert!(with_number > 0.95, "{with_number}");
    let mut serials = HashSet::new();
    let mut seals = HashSet::new();
    let mut seal_owners = HashSet::new();
    let mut koseki = HashSet::new();
    let mut fuhyo = HashSet::new();
    let mut images = HashSet::new();
    for r in &t.records {
        match r {
            RegistryRecord::Card(c) => {
                assert!(
                    serials.insert(c.auth_serial.clone()),
                    "card {}",
                    c.auth_serial
                );
                assert!(ids.contains(&c.resident_id));
            }
            RegistryRecord::Seal(s) => {
                assert!(seals.insert(s.registration_no.clone()));
                assert!(
                    seal_owners.insert(s.resident_id.clone()),
                    "one seal per person"
                );
                assert!(ids.contains(&s.resident_id));
                images.insert(s.image_png_base64.clone());
            }
            RegistryRecord::Koseki(k) => assert!(koseki.insert(k.koseki_id.clone())),
            RegistryRecord::Fuhyo(f) => {
                assert!(fuhyo.insert((f.koseki_id.clone(), f.member_no)));
                assert!(koseki.contains(&f.koseki_id), "附票 after its 戸籍");
            }
            RegistryRecord::Tax(x) => assert!(ids.contains(&x.resident_id)),
            RegistryRecord::SupportMeasure(s) => assert!(ids.contains(&s.resident_id)),
            _ => {}
        }
    }
    assert!(
        (2..=16).contains(&images.len()),
        "a handful of seal images: {}",
        images.len()
    );
}

#[test]
fn residents_are_consistent() {
    let t = big_town();
    let as_of = TownConfig::new(1, 1).as_of;
    let mut households: HashMap<&str, Vec<&Resident>> = HashMap::new();
    for r in residents(t) {
        households.entry(&r.household_id).or_default().push(r);
        assert!(r.birth_date <= r.resident_since, "{}", r.resident_id);
        assert!(r.resident_since <= r.address_since, "{}", r.resident_id);
        assert!(r.address_since <= r.notified_on, "{}", r.resident_id);
        assert!(r.notified_on <= as_of, "{}", r.resident_id);
        assert!(r.address.starts_with("見本県見本市"), "{}", r.address);
        if r.resident_since > r.birth_date {
            assert!(
                r.previous_address.is_some() || r.foreign.is_some(),
                "{}",
                r.resident_id
            );
        }
        match r.status {
            ResidentStatus::Active => assert!(r.status_since.is_none()),
            ResidentStatus::MovingOut => assert!(r.status_since.is_some_and(|d| d > as_of)),
            ResidentStatus::MovedOut | ResidentStatus::Deceased => {
                let d = r.status_since.expect("status date");
                assert!(d >= r.address_since && d <= as_of, "{}", r.resident_id);
            }
        }
        if r.foreign.is_some() {
            assert!(r.honseki.is_none() && r.hitto.is_none());
        } else {
            assert!(
                r.honseki.is_some() && r.hitto.is_some(),
                "{}",
                r.resident_id
            );
        }
    }
    for (hid, members) in &households {
        assert!(members[0].is_head(), "{hid}: head first");
        assert_eq!(members.iter().filter(|m| m.is_head()).count(), 1, "{hid}");
        let head = members[0];
        for m in members.iter().skip(1) {
            assert_eq!(m.address, head.address, "{hid}");
            match m.relationship.as_str() {
                "子" => {
                    assert!(
                        m.birth_date.age_on(head.birth_date) == 0
                            && head.birth_date.age_on(m.birth_date) >= 15,
                        "{hid}: a child is younger than the head"
                    );
                    if head.foreign.is_none() && m.foreign.is_none() {
                        assert_eq!(m.family, head.family, "{hid}: the family name");
                    }
                }
                "父" | "母" => assert!(m.birth_date.age_on(head.birth_date) >= 15, "{hid}"),
                "妻" | "夫" if head.foreign.is_none() && m.foreign.is_none() => {
                    assert_eq!(m.family, head.family, "{hid}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn distributions_are_plausible() {
    let t = big_town();
    let s = &t.summary;
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for r in residents(t) {
        *sizes.entry(r.household_id.as_str()).or_default() += 1;
    }
    let households = sizes.len() as f64;
    assert_eq!(households as u64, s.households);
    let share = |pred: &dyn Fn(usize) -> bool| {
        sizes.values().filter(|n| pred(**n)).count() as f64 / households
    };
    let within = |x: f64, target: f64, tol: f64, what: &str| {
        assert!((x - target).abs() <= tol, "{what}: {x:.4} vs {target}");
    };
    within(share(&|n| n == 1), 0.38, 0.03, "single");
    within(share(&|n| n == 2), 0.28, 0.03, "two");
    within(share(&|n| n == 3), 0.18, 0.03, "three");
    within(share(&|n| n == 4), 0.12, 0.02, "four");
    within(share(&|n| n >= 5), 0.04, 0.015, "five or more");
    assert!(sizes.values().any(|n| *n >= 9), "a few households of 9+");
    let per = |n: u64| n as f64 / s.residents as f64;
    within(per(s.foreign_residents), 0.025, 0.01, "foreign");
    within(per(s.deceased), 0.005, 0.004, "deceased");
    within(per(s.moved_out), 0.01, 0.006, "moved out");
    within(per(s.support_measures), 0.001, 0.001, "support measures");
    within(per(s.suppressions), 0.001, 0.001, "suppressions");
    within(per(s.ivs_names), 0.005, 0.003, "IVS names");
    within(per(s.minors), 0.12, 0.04, "minors");
    assert!(s.moving_out > 0 && s.support_measures > 0 && s.suppressions > 0);
    assert!(s.long_addresses > 0);
    let adults = residents(t)
        .filter(|r| r.birth_date.age_on(TownConfig::new(1, 1).as_of) >= 18)
        .count() as f64;
    within(s.seals as f64 / adults, 0.30, 0.06, "seals per adult");
    let over15 = (s.residents - s.minors) as f64;
    within(
        s.cards as f64 / over15,
        0.58,
        0.06,
        "cards per resident 15+",
    );
    assert!(
        s.koseki as f64 > households * 0.4,
        "戸籍 for most Japanese households"
    );
    assert!(s.fuhyo >= s.koseki);
    assert!(s.tax as f64 > adults * 0.6, "tax records for most adults");
}

#[test]
fn names_readings_and_variants() {
    let t = big_town();
    let ivs = |s: &str| s.chars().any(|c| ('\u{E0100}'..='\u{E01EF}').contains(&c));
    let with_ivs: Vec<&Resident> = residents(t).filter(|r| ivs(&r.family)).collect();
    assert!(!with_ivs.is_empty());
    assert!(with_ivs.iter().any(|r| r.family.contains("葛\u{E0102}")));
    assert!(
        residents(t)
            .any(|r| r.family.contains('髙') || r.family.contains('﨑') || r.family.contains('𠮷'))
    );
    // The 戸籍 records the same variant as the 住民票.
    let koseki_names: HashSet<(String, String)> = t
        .records
        .iter()
        .filter_map(|r| match r {
            RegistryRecord::Koseki(k) => Some(k),
            _ => None,
        })
        .flat_map(|k| {
            k.members
                .iter()
                .map(|m| (m.family.clone(), m.given.clone()))
        })
        .collect();
    assert!(
        with_ivs
            .iter()
            .any(|r| koseki_names.contains(&(r.family.clone(), r.given.clone())))
    );
    let foreign: Vec<&Resident> = residents(t).filter(|r| r.foreign.is_some()).collect();
    assert!(foreign.iter().any(|r| r.family.is_ascii()), "Latin names");
    assert!(
        foreign
            .iter()
            .any(|r| r.foreign.as_ref().is_some_and(|f| f.alias.is_some())),
        "通称"
    );
    assert!(foreign.iter().any(|r| {
        r.foreign
            .as_ref()
            .is_some_and(|f| f.category == "特別永住者")
    }));
    assert!(residents(t).any(|r| r.former_family.is_some()), "旧氏");
    assert!(
        residents(t).any(|r| r.address.chars().count() >= 60),
        "very long addresses"
    );
}

#[test]
fn koseki_members_match_residents() {
    let t = big_town();
    let by_id: HashMap<&str, &Resident> =
        residents(t).map(|r| (r.resident_id.as_str(), r)).collect();
    let mut linked = 0;
    for r in &t.records {
        let RegistryRecord::Koseki(k) = r else {
            continue;
        };
        assert!(k.honseki.starts_with("見本県見本市"), "{}", k.honseki);
        let numbers: Vec<u32> = k.members.iter().map(|m| m.member_no).collect();
        assert_eq!(numbers, (1..=k.members.len() as u32).collect::<Vec<_>>());
        for m in &k.members {
            assert!(m.events.iter().any(|e| e.kind == "出生"), "{}", k.koseki_id);
            let Some(id) = &m.resident_id else { continue };
            let res = by_id[id.as_str()];
            linked += 1;
            assert_eq!(
                (&m.family, &m.given, m.birth_date),
                (&res.family, &res.given, res.birth_date)
            );
            assert_eq!(res.honseki.as_deref(), Some(k.honseki.as_str()));
            assert_eq!(res.hitto.as_deref(), Some(k.hitto.as_str()));
            assert_eq!(k.member_for(res).map(|x| x.member_no), Some(m.member_no));
            assert_eq!(m.removed.is_some(), res.status == ResidentStatus::Deceased);
        }
    }
    assert!(linked > 5_000);
    // Children are born after their parents married (婚姻 before 出生 in the same register).
    for r in &t.records {
        let RegistryRecord::Fuhyo(f) = r else {
            continue;
        };
        assert!(!f.entries.is_empty());
    }
}

#[test]
fn tax_breakdowns_add_up() {
    let t = big_town();
    let mut taxed = 0;
    for r in &t.records {
        let RegistryRecord::Tax(x) = r else { continue };
        let sum: i64 = x.deductions.iter().map(|(_, v)| *v).sum();
        assert_eq!(sum, x.total_deductions);
        assert_eq!(
            x.taxable_base,
            (x.total_income - x.total_deductions).max(0) / 1000 * 1000
        );
        assert!(x.income.iter().all(|(_, v)| *v > 0));
        assert_eq!(x.fiscal_year, 2026);
        if x.municipal_tax > 0 {
            taxed += 1;
            assert!(x.prefectural_tax > 0 && x.prefectural_tax < x.municipal_tax);
        }
    }
    assert!(taxed > 1_000);
}
